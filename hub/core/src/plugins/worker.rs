//! The worker side: `hub worker --plugin PATH` and `hub worker --probe PATH`. This code runs in
//! the disposable child process, the only place where plugin code executes. It is plain
//! blocking code: no runtime, no logging, nothing a plugin could disturb.

use connector_sdk::host::LoadedPlugin;
use connector_sdk::protocol::{encode_outcome, CallOutcome};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};

use super::wire::{read_frame, tagged, untag, write_frame, Hello, HelloOk};

/// Exit code of a worker whose plugin could not be loaded (after it said why in its hello).
pub const EXIT_LOAD_FAILED: u8 = 3;
/// Exit code of a worker that could not set up its pipes or lost the hub mid-frame.
pub const EXIT_PIPE: u8 = 74;
/// Exit code of a worker whose hub went away while a call was still running.
pub const EXIT_HUB_GONE: u8 = 75;
/// Stack of a thread serving one call (a plugin's blocking HTTP client and JSON work).
const CALL_STACK: usize = 4 * 1024 * 1024;
/// How long the watchdog lets the main loop end by itself after the hub closed the pipe.
const HUB_GONE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// `hub worker --plugin PATH`: serve calls for one plugin over the inherited pipes until the
/// hub closes stdin (exit 0).
pub fn run_worker(plugin: &Path) -> ExitCode {
    let (input, output) = match protocol_pipes() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hub worker: cannot set up the pipes to the hub: {e}");
            return ExitCode::from(EXIT_PIPE);
        }
    };
    watch_hub(&input);
    let input = BufReader::new(input);
    let mut output = BufWriter::new(output);
    let loaded = LoadedPlugin::load(plugin);
    let hello = hello(&loaded, false);
    let sent = serde_json::to_vec(&hello)
        .map_err(io::Error::other)
        .and_then(|bytes| write_frame(&mut output, &bytes));
    if let Err(e) = sent {
        eprintln!("hub worker: cannot answer the hub: {e}");
        return ExitCode::from(EXIT_PIPE);
    }
    let plugin = match loaded {
        Ok(p) => p,
        Err(_) => return ExitCode::from(EXIT_LOAD_FAILED),
    };
    serve(Arc::new(Shared(plugin)), input, output)
}

/// The loaded plugin shared by the threads serving calls.
struct Shared(LoadedPlugin);

// SAFETY: the plugin's entry point serves a `Connector`, which the SDK requires to be
// `Send + Sync`; the vtable and its strings are static and never written after loading.
unsafe impl Send for Shared {}
// SAFETY: as above: calls through the vtable may run on several threads at once.
unsafe impl Sync for Shared {}

/// Serves calls until the hub closes stdin: each request on a thread of its own (the hub
/// bounds how many it sends at once), each answer tagged with its request's number and
/// written by one writer thread as it comes.
fn serve(plugin: Arc<Shared>, mut input: BufReader<File>, mut output: BufWriter<File>) -> ExitCode {
    let (answers, answered) = mpsc::channel::<Vec<u8>>();
    let writer = std::thread::spawn(move || {
        for frame in answered {
            if let Err(e) = write_frame(&mut output, &frame) {
                eprintln!("hub worker: cannot answer the hub: {e}");
                std::process::exit(i32::from(EXIT_PIPE));
            }
        }
    });
    loop {
        let request = match read_frame(&mut input) {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                eprintln!("hub worker: cannot read the hub's request: {e}");
                return ExitCode::from(EXIT_PIPE);
            }
        };
        let Some((id, request)) = untag(request) else {
            eprintln!("hub worker: a request without its number");
            return ExitCode::from(EXIT_PIPE);
        };
        let (plugin, answer) = (plugin.clone(), answers.clone());
        let spawned = std::thread::Builder::new()
            .stack_size(CALL_STACK)
            .spawn(move || {
                // Decoding and re-encoding checks the plugin's answer here, in the disposable process.
                let outcome: CallOutcome = plugin.0.call_raw(&request).into();
                let _ = answer.send(tagged(id, &encode_outcome(&outcome)));
            });
        if let Err(e) = spawned {
            let outcome: CallOutcome =
                Err::<connector_sdk::protocol::Reply, _>(connector_sdk::ConnectorError::new(
                    connector_sdk::ErrorKind::Transient,
                    format!("the worker cannot start a thread for the call: {e}"),
                ))
                .into();
            let _ = answers.send(tagged(id, &encode_outcome(&outcome)));
        }
    }
    // The hub closed the pipe: the calls still running answer, then the writer ends.
    drop(answers);
    let _ = writer.join();
    ExitCode::SUCCESS
}

/// `hub worker --probe PATH`: load one plugin and print one JSON line,
/// `{"ok":{"id","version","sdk_version","manifest"}}` or `{"err":"<why>"}`.
pub fn run_probe(plugin: &Path) -> ExitCode {
    let (input, mut output) = match protocol_pipes() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hub worker: cannot set up its output: {e}");
            return ExitCode::from(EXIT_PIPE);
        }
    };
    watch_hub(&input);
    let loaded = LoadedPlugin::load(plugin);
    let line = match serde_json::to_string(&hello(&loaded, true)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hub worker: cannot encode the probe result: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = writeln!(output, "{line}").and_then(|_| output.flush()) {
        eprintln!("hub worker: cannot print the probe result: {e}");
        return ExitCode::from(EXIT_PIPE);
    }
    match loaded {
        Ok(_) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(EXIT_LOAD_FAILED),
    }
}

fn hello(loaded: &Result<LoadedPlugin, connector_sdk::host::LoadError>, manifest: bool) -> Hello {
    match loaded {
        Ok(p) => Hello::Ok(HelloOk {
            id: p.manifest.id.clone(),
            version: p.manifest.version.clone(),
            sdk_version: p.sdk_version.clone(),
            manifest: manifest.then(|| Box::new(p.manifest.clone())),
        }),
        Err(e) => Hello::Err(e.to_string()),
    }
}

/// A worker lives no longer than its hub: a thread waits for the hub's end of the input pipe
/// to close (the hub exited, was killed with SIGKILL, or closed it to end the worker) and then
/// ends the process, even while the main thread is stuck in a plugin call that never returns.
/// A pipe closes with its last holder, whichever thread of the hub spawned the worker, which is
/// why this is used rather than `PR_SET_PDEATHSIG` (tied to the spawning thread). Input that is
/// not a pipe (a worker started by hand) is not watched.
#[cfg(unix)]
fn watch_hub(input: &File) {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileTypeExt;

    let is_pipe = input.metadata().is_ok_and(|m| m.file_type().is_fifo());
    if !is_pipe {
        return;
    }
    let fd = input.as_raw_fd();
    let watchdog = std::thread::Builder::new()
        .name("hub-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || loop {
            // No events asked: poll answers only when the pipe hangs up (or the fd is bad).
            let mut p = libc::pollfd {
                fd,
                events: 0,
                revents: 0,
            };
            // SAFETY: poll on one valid pollfd that lives on this stack.
            let rc = unsafe { libc::poll(&mut p, 1, -1) };
            if rc < 0 {
                if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            if p.revents & libc::POLLNVAL != 0 {
                return;
            }
            if p.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
                // A hub that closed the pipe to end an idle worker sees it exit 0 by itself.
                std::thread::sleep(HUB_GONE_GRACE);
                // SAFETY: ends the process at once, without running anything of the plugin's.
                unsafe { libc::_exit(i32::from(EXIT_HUB_GONE)) };
            }
        });
    if let Err(e) = watchdog {
        eprintln!("hub worker: cannot watch the pipe to the hub: {e}");
    }
}

#[cfg(not(unix))]
fn watch_hub(_input: &File) {}

/// Takes the process's stdin and stdout for the protocol and gives the plugin harmless ones:
/// fd 0 reads /dev/null and fd 1 writes to stderr, so a plugin's `println!` (or a stray read)
/// cannot corrupt the frames. The protocol fds are close-on-exec, so a plugin's own child
/// processes do not hold the hub's pipes open either.
#[cfg(unix)]
fn protocol_pipes() -> io::Result<(File, File)> {
    use std::os::fd::{AsRawFd, FromRawFd};

    fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(rc)
        }
    }
    io::stdout().flush()?;
    // SAFETY: plain fd syscalls on this process's own descriptors; each new fd is owned by
    // exactly one `File`.
    unsafe {
        let input = File::from_raw_fd(check(libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3))?);
        let output = File::from_raw_fd(check(libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3))?);
        let null = File::open("/dev/null")?;
        check(libc::dup2(null.as_raw_fd(), 0))?;
        check(libc::dup2(2, 1))?;
        Ok((input, output))
    }
}

#[cfg(not(unix))]
fn protocol_pipes() -> io::Result<(File, File)> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "plugin workers need a Unix system",
    ))
}
