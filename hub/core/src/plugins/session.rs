//! A session: one `hub worker --plugin FILE` child serving the calls of one run. A crash or a
//! time-out of the child becomes an `Internal` error naming the connector and the reason; the
//! hub process itself never runs plugin code.
//!
//! A worker that died (crash, time-out, a cancelled call) is gone for good; the session starts
//! a fresh worker on its next call. Whatever the plugin kept in memory is lost with it, which
//! the trait allows: a connector keeps no state it cannot rebuild from the connection.

use connector_sdk::protocol::{decode_outcome, Call, CallRequest, Reply, WireConnection};
use connector_sdk::{Connection, ConnectorError, ErrorKind};
use hub_messages::{Lang, Message};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::process::{Child, ChildStdin, ChildStdout};
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

/// A running worker process with one plugin loaded.
pub struct PluginSession {
    spec: WorkerSpec,
    worker: Option<Worker>,
    started: u32,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<StderrSeen>,
    stderr_task: JoinHandle<()>,
    /// A request was written and its answer not yet read: set while a call is in flight, so a
    /// call future dropped half-way leaves a worker that must not be reused.
    busy: bool,
}

impl PluginSession {
    /// Starts the first worker and waits until it has loaded the plugin.
    pub(super) async fn start(spec: WorkerSpec) -> Result<PluginSession, ConnectorError> {
        let mut session = PluginSession {
            spec,
            worker: None,
            started: 0,
        };
        session.worker = Some(session.start_worker().await?);
        Ok(session)
    }

    pub fn connector_id(&self) -> &str {
        &self.spec.connector_id
    }

    pub fn file(&self) -> &Path {
        &self.spec.file
    }

    /// The current worker's process id, if one is running.
    pub fn worker_pid(&self) -> Option<u32> {
        self.worker.as_ref().and_then(|w| w.child.id())
    }

    /// How many worker processes this session has started (more than one after a crash).
    pub fn workers_started(&self) -> u32 {
        self.started
    }

    /// One call; a crash or time-out of the worker becomes an `Internal` error naming the
    /// connector and the reason ("connector kintone crashed: signal 11 (SIGSEGV)", code
    /// `crashed`; "connector kintone timed out after 300 s", code `timed_out`).
    pub async fn call(&mut self, conn: &Connection, call: Call) -> Result<Reply, ConnectorError> {
        let method = call.name();
        // Secrets travel in the clear only inside this buffer, written to the worker's pipe.
        let request = serde_json::to_vec(&CallRequest {
            connection: WireConnection::from(conn),
            call,
        })
        .map_err(|e| {
            ConnectorError::new(
                ErrorKind::Internal,
                format!("cannot encode the {method} request: {e}"),
            )
        })?;
        if self.worker.as_ref().is_some_and(|w| w.busy) {
            // The previous call was abandoned mid-way; its answer would be read as ours.
            if let Some(w) = self.worker.take() {
                w.kill().await;
            }
        }
        if self.worker.is_none() {
            self.worker = Some(self.start_worker().await?);
        }
        let Some(worker) = self.worker.as_mut() else {
            return Err(ConnectorError::new(ErrorKind::Internal, "no worker"));
        };
        worker.busy = true;
        let exchange = async {
            write_frame_async(&mut worker.stdin, &request).await?;
            read_frame_async(&mut worker.stdout).await
        };
        let answer = tokio::time::timeout(self.spec.call_timeout, exchange).await;
        match answer {
            Ok(Ok(Some(bytes))) => {
                worker.busy = false;
                decode_outcome(&bytes)
            }
            Ok(result) => {
                let Some(worker) = self.worker.take() else {
                    return Err(ConnectorError::new(ErrorKind::Internal, "no worker"));
                };
                Err(worker.ended(&self.spec, result.err()).await)
            }
            Err(_) => {
                if let Some(w) = self.worker.take() {
                    w.kill().await;
                }
                Err(timed_out(&self.spec))
            }
        }
    }

    /// Ends the worker gracefully: closing its stdin makes it exit 0.
    pub async fn close(mut self) {
        if let Some(w) = self.worker.take() {
            let Worker {
                mut child, stdin, ..
            } = w;
            drop(stdin);
            if tokio::time::timeout(EXIT_GRACE, child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }

    async fn start_worker(&mut self) -> Result<Worker, ConnectorError> {
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
        self.started += 1;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(ConnectorError::new(
                ErrorKind::Internal,
                "the worker process has no pipes",
            ));
        };
        let (seen, stderr_task) = process::forward_stderr(stderr, spec.connector_id.clone());
        let mut worker = Worker {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            stderr: seen,
            stderr_task,
            busy: true,
        };
        let hello =
            tokio::time::timeout(spec.load_timeout, read_frame_async(&mut worker.stdout)).await;
        let bytes = match hello {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(result) => return Err(worker.ended(spec, result.err()).await),
            Err(_) => {
                worker.kill().await;
                return Err(load_failed(
                    spec,
                    &format!(
                        "timed out while loading after {}",
                        human_duration(spec.load_timeout)
                    ),
                ));
            }
        };
        match serde_json::from_slice::<Hello>(&bytes) {
            Ok(Hello::Ok(h)) if h.id == spec.connector_id => {
                worker.busy = false;
                Ok(worker)
            }
            Ok(Hello::Ok(h)) => {
                worker.kill().await;
                Err(load_failed(
                    spec,
                    &format!(
                        "{} is now connector `{}` (the file changed since the hub started)",
                        spec.file.display(),
                        h.id
                    ),
                ))
            }
            Ok(Hello::Err(reason)) => {
                worker.kill().await;
                Err(load_failed(spec, &reason))
            }
            Err(e) => {
                worker.kill().await;
                Err(load_failed(
                    spec,
                    &format!("the worker's greeting could not be read: {e}"),
                ))
            }
        }
    }
}

impl Worker {
    async fn kill(mut self) {
        let _ = self.child.kill().await;
        self.stderr_task.abort();
    }

    /// The pipe broke or closed: find out how the process ended and say so.
    async fn ended(mut self, spec: &WorkerSpec, io: Option<std::io::Error>) -> ConnectorError {
        let status = match tokio::time::timeout(EXIT_GRACE, self.child.wait()).await {
            Ok(Ok(status)) => status,
            _ => {
                // Alive but talking nonsense (or unreachable): a protocol failure.
                let _ = self.child.kill().await;
                self.stderr_task.abort();
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
        let _ = tokio::time::timeout(Duration::from_millis(500), &mut self.stderr_task).await;
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
