//! Process-wide allocator settings.

/// glibc gives a thread that allocates under contention an arena of its own, up to eight per
/// core, and each keeps the memory freed in it: the hub's runtime threads and a worker's call
/// threads would hold far more than they use. Two arenas keep the resident set near what is
/// in use. Called first thing in `main`, before any other thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
