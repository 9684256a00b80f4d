//! Starting a `hub worker` child: the command line, the limits set before `exec`, the
//! environment it must not see, and its stderr forwarded to the hub's log.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

/// Longest line of a worker's stderr passed to the log; the rest is cut.
const MAX_LOG_LINE: usize = 2000;

/// What a worker runs as: `EXE worker --plugin FILE` or `EXE worker --probe FILE`.
pub enum Mode {
    Serve,
    Probe,
}

/// Spawns a worker with piped stdin/stdout/stderr, killed when its handle is dropped.
pub fn spawn(
    exe: &Path,
    mode: Mode,
    file: &Path,
    memory_limit: Option<u64>,
) -> std::io::Result<Child> {
    let mut cmd = Command::new(exe);
    cmd.arg("worker")
        .arg(match mode {
            Mode::Serve => "--plugin",
            Mode::Probe => "--probe",
        })
        .arg(file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // The hub's own secrets (master key, database URL with its password) are not the plugin's
    // business; connection secrets reach it only through the pipe, call by call.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("HUB_") {
            cmd.env_remove(key);
        }
    }
    // A plugin's panic is answered as an error with its message; a symbolised backtrace of a
    // large debug library can take longer than the call's time-out (and more memory than the
    // worker's limit), turning a clear "panicked" into "timed out". `HUB_WORKER_BACKTRACE=1`
    // asks for them when debugging a plugin.
    let backtrace = std::env::var("HUB_WORKER_BACKTRACE").is_ok_and(|v| v == "1");
    cmd.env("RUST_BACKTRACE", if backtrace { "1" } else { "0" })
        .env_remove("RUST_LIB_BACKTRACE");
    #[cfg(unix)]
    {
        // Its own process group: Ctrl-C in the hub's terminal reaches the hub only, which then
        // cancels the calls itself (the runs are recorded as interrupted, not as crashed).
        cmd.process_group(0);
        // SAFETY: the closure runs between fork and exec and only calls setrlimit, which is
        // async-signal-safe; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || limit_resources(memory_limit));
        }
    }
    #[cfg(not(unix))]
    let _ = memory_limit;
    cmd.spawn()
}

/// Caps the address space (hard limit too, so the plugin cannot raise it) and turns core
/// dumps off: a plugin that crashes on every run must not fill the disk.
#[cfg(unix)]
fn limit_resources(memory_limit: Option<u64>) -> std::io::Result<()> {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit with a valid pointer to a local struct.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        if let Some(bytes) = memory_limit {
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// What the forwarder learned from a worker's stderr.
#[derive(Debug, Default)]
pub struct StderrSeen {
    /// Rust's allocator reported a failed allocation ("memory allocation of N bytes failed").
    pub out_of_memory: AtomicBool,
}

impl StderrSeen {
    pub fn out_of_memory(&self) -> bool {
        self.out_of_memory.load(Ordering::Relaxed)
    }
}

/// Forwards each stderr line of a worker to the log (target `plugin`) until it closes.
pub fn forward_stderr(
    stderr: impl AsyncRead + Unpin + Send + 'static,
    connector: String,
) -> (Arc<StderrSeen>, JoinHandle<()>) {
    let seen = Arc::new(StderrSeen::default());
    let seen_task = seen.clone();
    let task = tokio::spawn(async move {
        let mut lines = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match lines.read_until(b'\n', &mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&buf);
            let line: String = text.trim_end().chars().take(MAX_LOG_LINE).collect();
            if line.is_empty() {
                continue;
            }
            if line.contains("memory allocation of") && line.contains("failed") {
                seen_task.out_of_memory.store(true, Ordering::Relaxed);
            }
            tracing::warn!(target: "plugin", connector = %connector, "{line}");
        }
    });
    (seen, task)
}
