//! Process-wide allocator settings.

/// glibc gives a thread that allocates under contention an arena of its own, up to eight per
/// core, and each keeps the memory freed in it: the hub's runtime threads and a worker's call
/// threads would hold far more than they use. Two arenas keep the resident set near what is
/// in use. Large blocks (a page of records on the worker pipe, a batch's JSON) are mapped on
/// their own and given back when freed: glibc otherwise raises its mapping threshold after
/// the first such block is freed and serves the next ones from the heap, which then stays as
/// large as the most pages ever held at once. Called first thing in `main`, before any other
/// thread starts.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK);
    }
}

/// Blocks from this size on are mapped on their own (glibc's default before it adapts).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const LARGE_BLOCK: libc::c_int = 128 * 1024;
