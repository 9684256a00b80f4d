//! A session: one `hub worker --plugin FILE` child serving the calls of one run, several at
//! once when the run writes batches in parallel. A crash or a time-out of the child becomes
//! an `Internal` error naming the connector and the reason, for every call it was serving;
//! the hub process itself never runs plugin code.
//!
//! A worker that died (crash, time-out, a cancelled call) is gone for good; the session starts
//! a fresh worker on its next call. Whatever the plugin kept in memory is lost with it, which
//! the trait allows: a connector keeps no state it cannot rebuild from the connection.

use connector_sdk::protocol::{decode_outcome, Call, CallRequest, Reply, WireConnection};
use connector_sdk::{Connection, ConnectorError, ErrorKind};
use hub_messages::{Lang, Message};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::BufReader;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::process::{self, Mode, StderrSeen};
use super::wire::{
    describe_exit, describe_exit_ja, human_duration, read_frame_async, write_frame_async, Hello,
};
use crate::error::worded;

/// How long a worker that closed its pipe gets to finish exiting before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How to start a session's workers.
#[derive(Debug, Clone)]
pub(super) struct WorkerSpec {
    pub connector_id: String,
    pub file: PathBuf,
    pub exe: PathBuf,
    pub call_timeout: Duration,
    pub load_timeout: Duration,
    pub memory_limit: Option<u64>,
}

/// A running worker process with one plugin loaded, serving several calls at once: each
/// request carries a number its answer comes back with ([`super::wire::tagged`]).
struct Worker {
    child: tokio::sync::Mutex<Child>,
    pid: Option<u32>,
    /// `None` once the session closed the pipe to end the worker.
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    answers: Arc<Mutex<Answers>>,
    next_id: AtomicU64,
    stderr: Arc<StderrSeen>,
    stderr_task: Mutex<Option<JoinHandle<()>>>,
    reader_task: JoinHandle<()>,
    /// A call was given up half-way (its future dropped): its request may be cut off in the
    /// pipe, so the worker must not serve another.
    abandoned: AtomicBool,
    /// How the worker ended, decided once for all the calls it was serving.
    end: tokio::sync::OnceCell<ConnectorError>,
}

/// The calls waiting for an answer, by number; `closed` once the worker's output ended.
#[derive(Default)]
struct Answers {
    waiting: HashMap<u64, oneshot::Sender<Result<Reply, ConnectorError>>>,
    closed: Option<String>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        // The child is killed with its handle (`kill_on_drop`); its reader is of no more use.
        self.reader_task.abort();
    }
}

/// A session: its worker (restarted after a crash), shared by every clone, so the clients of
/// one connection in a run share one process and what the plugin keeps in memory.
#[derive(Clone)]
pub struct PluginSession {
    shared: Arc<Shared>,
}

struct Shared {
    spec: WorkerSpec,
    worker: tokio::sync::Mutex<Option<Arc<Worker>>>,
    started: AtomicU32,
}

/// Marks the worker abandoned when a call is dropped before its answer came.
struct Abandon<'a> {
    worker: &'a Worker,
    id: u64,
    armed: bool,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if self.armed {
            lock(&self.worker.answers).waiting.remove(&self.id);
            self.worker.abandoned.store(true, Ordering::SeqCst);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PluginSession {
    /// Starts the first worker and waits until it has loaded the plugin.
    pub(super) async fn start(spec: WorkerSpec) -> Result<PluginSession, ConnectorError> {
        let shared = Shared {
            spec,
            worker: tokio::sync::Mutex::new(None),
            started: AtomicU32::new(0),
        };
        let first = shared.start_worker().await?;
        *shared.worker.lock().await = Some(Arc::new(first));
        Ok(PluginSession {
            shared: Arc::new(shared),
        })
    }

    pub fn connector_id(&self) -> &str {
        &self.shared.spec.connector_id
    }

    pub fn file(&self) -> &Path {
        &self.shared.spec.file
    }

    /// The current worker's process id, if one is running.
    pub fn worker_pid(&self) -> Option<u32> {
        let worker = self.shared.worker.try_lock().ok()?;
        worker.as_ref().and_then(|w| w.pid)
    }

    /// How many worker processes this session has started (more than one after a crash).
    pub fn workers_started(&self) -> u32 {
        self.shared.started.load(Ordering::SeqCst)
    }

    /// One call; a crash or time-out of the worker becomes an `Internal` error naming the
    /// connector and the reason ("connector kintone crashed: signal 11 (SIGSEGV)", code
    /// `crashed`; "connector kintone timed out after 300 s", code `timed_out`). Calls may be
    /// made at once: the worker serves them in parallel.
    pub async fn call(&self, conn: &Connection, call: Call) -> Result<Reply, ConnectorError> {
        let method = call.name();
        // Secrets travel in the clear only inside this buffer, written to the worker's pipe.
        let mut request = vec![0u8; super::wire::TAG_LEN];
        serde_json::to_writer(
            &mut request,
            &CallRequest {
                connection: WireConnection::from(conn),
                call,
            },
        )
        .map_err(|e| {
            ConnectorError::new(
                ErrorKind::Internal,
                format!("cannot encode the {method} request: {e}"),
            )
        })?;
        let worker = self.current_worker().await?;
        let id = worker.next_id.fetch_add(1, Ordering::SeqCst);
        request[..super::wire::TAG_LEN].copy_from_slice(&id.to_le_bytes());
        let (tx, rx) = oneshot::channel();
        let closed = {
            let mut answers = lock(&worker.answers);
            match answers.closed.clone() {
                Some(why) => Some(why),
                None => {
                    answers.waiting.insert(id, tx);
                    None
                }
            }
        };
        if let Some(why) = closed {
            return Err(self.ended(&worker, Some(std::io::Error::other(why))).await);
        }
        let mut guard = Abandon {
            worker: &worker,
            id,
            armed: true,
        };
        let exchange = async {
            {
                let mut stdin = worker.stdin.lock().await;
                let Some(pipe) = stdin.as_mut() else {
                    return Err(std::io::Error::other("the session was closed"));
                };
                write_frame_async(pipe, &request).await?;
            }
            let closed =
                || std::io::Error::other(lock(&worker.answers).closed.clone().unwrap_or_default());
            rx.await.map_err(|_| closed())
        };
        let answer = tokio::time::timeout(self.shared.spec.call_timeout, exchange).await;
        guard.armed = false;
        drop(guard);
        match answer {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(io)) => Err(self.ended(&worker, Some(io)).await),
            Err(_) => {
                let spec = &self.shared.spec;
                let end = worker.end.get_or_init(|| async {
                    worker.kill().await;
                    timed_out(spec)
                });
                let err = end.await.clone();
                lock(&worker.answers).waiting.remove(&id);
                self.detach(&worker).await;
                Err(err)
            }
        }
    }

    /// The worker to call: the running one, or a fresh one when there is none or the running
    /// one had a call abandoned half-way (its answer would be read as another's).
    async fn current_worker(&self) -> Result<Arc<Worker>, ConnectorError> {
        let mut slot = self.shared.worker.lock().await;
        if let Some(w) = slot.take_if(|w| w.abandoned.load(Ordering::SeqCst)) {
            w.kill().await;
        }
        if let Some(w) = slot.as_ref() {
            return Ok(w.clone());
        }
        let fresh = Arc::new(self.shared.start_worker().await?);
        *slot = Some(fresh.clone());
        Ok(fresh)
    }

    /// The worker's output ended: how it ended (found once), and it serves no more calls.
    async fn ended(&self, worker: &Arc<Worker>, io: Option<std::io::Error>) -> ConnectorError {
        let spec = &self.shared.spec;
        let err = worker
            .end
            .get_or_init(|| worker.ended(spec, io))
            .await
            .clone();
        self.detach(worker).await;
        err
    }

    /// Forgets `worker` if it is still the session's: the next call starts another.
    async fn detach(&self, worker: &Arc<Worker>) {
        let mut slot = self.shared.worker.lock().await;
        if slot.as_ref().is_some_and(|w| Arc::ptr_eq(w, worker)) {
            *slot = None;
        }
    }

    /// Ends the worker gracefully: closing its stdin makes it exit 0 once its calls answered.
    pub async fn close(self) {
        let Some(w) = self.shared.worker.lock().await.take() else {
            return;
        };
        drop(w.stdin.lock().await.take());
        let mut child = w.child.lock().await;
        if tokio::time::timeout(EXIT_GRACE, child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}

impl Shared {
    async fn start_worker(&self) -> Result<Worker, ConnectorError> {
        let spec = &self.spec;
        let mut child = process::spawn(&spec.exe, Mode::Serve, &spec.file, spec.memory_limit)
            .map_err(|e| {
                worded(
                    ErrorKind::Internal,
                    Message::new("host.worker_failed")
                        .with("exe", spec.exe.display())
                        .with("id", &spec.connector_id)
                        .with("why", e),
                )
                .with_code("worker_failed")
            })?;
        self.started.fetch_add(1, Ordering::SeqCst);
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ConnectorError::new(
                ErrorKind::Internal,
                "the worker process has no pipes",
            ));
        };
        let (seen, stderr_task) = process::forward_stderr(stderr, spec.connector_id.clone());
        let mut stdout = BufReader::new(stdout);
        let hello = tokio::time::timeout(spec.load_timeout, read_frame_async(&mut stdout)).await;
        let pid = child.id();
        let answers = Arc::new(Mutex::new(Answers::default()));
        let worker = |child, reader_task| Worker {
            child: tokio::sync::Mutex::new(child),
            pid,
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            answers: answers.clone(),
            next_id: AtomicU64::new(0),
            stderr: seen,
            stderr_task: Mutex::new(Some(stderr_task)),
            reader_task,
            abandoned: AtomicBool::new(false),
            end: tokio::sync::OnceCell::new(),
        };
        let bytes = match hello {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(result) => {
                let w = worker(child, tokio::spawn(async {}));
                return Err(w.ended(spec, result.err()).await);
            }
            Err(_) => {
                worker(child, tokio::spawn(async {})).kill().await;
                return Err(load_failed(
                    spec,
                    &format!(
                        "timed out while loading after {}",
                        human_duration(spec.load_timeout)
                    ),
                ));
            }
        };
        let refused = match serde_json::from_slice::<Hello>(&bytes) {
            Ok(Hello::Ok(h)) if h.id == spec.connector_id => None,
            Ok(Hello::Ok(h)) => Some(format!(
                "{} is now connector `{}` (the file changed since the hub started)",
                spec.file.display(),
                h.id
            )),
            Ok(Hello::Err(reason)) => Some(reason),
            Err(e) => Some(format!("the worker's greeting could not be read: {e}")),
        };
        if let Some(reason) = refused {
            worker(child, tokio::spawn(async {})).kill().await;
            return Err(load_failed(spec, &reason));
        }
        let reader = tokio::spawn(route_answers(stdout, answers.clone()));
        Ok(worker(child, reader))
    }
}

/// Hands each answer the worker writes, decoded, to the call waiting for it; when the output ends,
/// every waiting call learns it (their senders are dropped).
async fn route_answers(mut stdout: BufReader<ChildStdout>, answers: Arc<Mutex<Answers>>) {
    let why = loop {
        match read_frame_async(&mut stdout).await {
            Ok(Some(frame)) => {
                let Some((id, body)) = super::wire::untag(frame) else {
                    break "an answer without its call's number".to_string();
                };
                let waiting = lock(&answers).waiting.remove(&id);
                if let Some(tx) = waiting {
                    // Decoded here, on the reader's task: a large page is not decoded on the
                    // task of the run that waits for it.
                    let _ = tx.send(decode_outcome(&body));
                }
            }
            Ok(None) => break "closed".to_string(),
            Err(e) => break e.to_string(),
        }
    };
    let mut a = lock(&answers);
    a.closed = Some(why);
    a.waiting.clear();
}

impl Worker {
    async fn kill(&self) {
        let _ = self.child.lock().await.kill().await;
        if let Some(t) = lock(&self.stderr_task).take() {
            t.abort();
        }
    }

    /// The pipe broke or closed: find out how the process ended and say so.
    async fn ended(&self, spec: &WorkerSpec, io: Option<std::io::Error>) -> ConnectorError {
        let waited = {
            let mut child = self.child.lock().await;
            tokio::time::timeout(EXIT_GRACE, child.wait()).await
        };
        let status = match waited {
            Ok(Ok(status)) => status,
            _ => {
                // Alive but talking nonsense (or unreachable): a protocol failure.
                self.kill().await;
                let why = io.map(|e| e.to_string()).unwrap_or_else(|| "closed".into());
                return worded(
                    ErrorKind::Internal,
                    Message::new("host.protocol")
                        .with("id", &spec.connector_id)
                        .with("why", why),
                )
                .with_code("protocol");
            }
        };
        // Let the forwarder read the last lines, which may say "memory allocation … failed".
        let task = lock(&self.stderr_task).take();
        if let Some(mut task) = task {
            let _ = tokio::time::timeout(Duration::from_millis(500), &mut task).await;
        }
        crashed(spec, status, self.stderr.out_of_memory())
    }
}

fn crashed(spec: &WorkerSpec, status: ExitStatus, out_of_memory: bool) -> ConnectorError {
    let (mut how, mut how_ja) = (describe_exit(status), describe_exit_ja(status));
    if out_of_memory {
        let (en, ja) = match spec.memory_limit {
            Some(limit) => {
                let m = Message::new("host.out_of_memory_limit").with("mib", limit / (1024 * 1024));
                (m.render(Lang::En), m.render(Lang::Ja))
            }
            None => {
                let m = Message::new("host.out_of_memory");
                (m.render(Lang::En), m.render(Lang::Ja))
            }
        };
        how.push_str(&en);
        how_ja.push_str(&ja);
    }
    worded(
        ErrorKind::Internal,
        Message::new("host.crashed")
            .with("id", &spec.connector_id)
            .with_local("how", how_ja, how),
    )
    .with_code("crashed")
}

fn timed_out(spec: &WorkerSpec) -> ConnectorError {
    worded(
        ErrorKind::Internal,
        Message::new("host.timed_out")
            .with("id", &spec.connector_id)
            .with("after", human_duration(spec.call_timeout)),
    )
    .with_code("timed_out")
}

fn load_failed(spec: &WorkerSpec, reason: &str) -> ConnectorError {
    worded(
        ErrorKind::Internal,
        Message::new("host.load_failed")
            .with("id", &spec.connector_id)
            .with("why", reason),
    )
    .with_code("load_failed")
}
