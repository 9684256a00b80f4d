//! The sync engine: executes one run of a flow (DESIGN.md "Sync semantics"). Connector-agnostic:
//! it speaks only the SDK's read/write calls, through [`client::ConnectorClient`].

pub mod client;
pub mod mapping;
pub mod matching;
mod oneway;
mod twoway;

use connector_sdk::ConnectorError;
use hub_store::{Direction, Run, RunCounts, RunError, RunStatus};

use crate::Hub;

/// What a run did, recorded in the history (処理履歴).
#[derive(Debug, Clone)]
pub struct RunReport {
    pub status: RunStatus,
    pub counts: RunCounts,
    pub errors: Vec<RunError>,
    pub message: Option<String>,
    /// The run failed for a reason that may pass by itself (rate limit, network, a 5xx).
    pub retryable: bool,
}

/// Why a run stopped early, and whether trying again later may help.
#[derive(Debug, Clone)]
pub struct Fatal {
    pub message: String,
    pub retryable: bool,
}

impl Fatal {
    /// A failure a person must fix (settings, credentials, a bad mapping).
    pub fn final_(message: impl Into<String>) -> Self {
        Fatal {
            message: message.into(),
            retryable: false,
        }
    }

    pub fn connector(side: &str, e: &ConnectorError) -> Self {
        Fatal {
            message: format!("{side}: {} ({})", e.message, e.code),
            retryable: e.is_retryable() || e.code == "timed_out",
        }
    }
}

impl From<String> for Fatal {
    /// Store and other hub-side failures: worth another attempt.
    fn from(message: String) -> Self {
        Fatal {
            message,
            retryable: true,
        }
    }
}

impl RunReport {
    fn finish(counts: RunCounts, errors: Vec<RunError>, fatal: Option<Fatal>) -> Self {
        let status = if fatal.is_some() {
            RunStatus::Failed
        } else if counts.failed > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Success
        };
        RunReport {
            status,
            counts,
            errors,
            retryable: fatal.as_ref().is_some_and(|f| f.retryable),
            message: fatal.map(|f| f.message),
        }
    }
}

/// Called with the running counts after every page, for live progress.
pub type Progress<'a> = &'a (dyn Fn(&RunCounts) + Send + Sync);

pub async fn execute(hub: &Hub, run: &Run, progress: Progress<'_>) -> RunReport {
    let flow = match hub.store.get_flow(&run.flow_id).await {
        Ok(f) => f,
        Err(e) => {
            let fatal = Fatal::final_(format!("flow unavailable: {e}"));
            return RunReport::finish(RunCounts::default(), vec![], Some(fatal));
        }
    };
    match flow.spec.direction {
        Direction::OneWay => oneway::run(hub, &flow, progress).await,
        Direction::TwoWay => twoway::run(hub, &flow, progress).await,
    }
}
