//! The sync engine: executes one run of a flow (DESIGN.md "Sync semantics"). Connector-agnostic:
//! it speaks only the SDK's read/write calls, through [`client::ConnectorClient`].

pub mod client;
pub mod mapping;
pub mod matching;
mod oneway;

use hub_store::{Direction, Run, RunCounts, RunError, RunStatus};

use crate::Hub;

/// What a run did, recorded in the history (処理履歴).
#[derive(Debug, Clone)]
pub struct RunReport {
    pub status: RunStatus,
    pub counts: RunCounts,
    pub errors: Vec<RunError>,
    pub message: Option<String>,
}

impl RunReport {
    fn finish(counts: RunCounts, errors: Vec<RunError>, fatal: Option<String>) -> Self {
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
            message: fatal,
        }
    }
}

/// Called with the running counts after every page, for live progress.
pub type Progress<'a> = &'a (dyn Fn(&RunCounts) + Send + Sync);

pub async fn execute(hub: &Hub, run: &Run, progress: Progress<'_>) -> RunReport {
    let flow = match hub.store.get_flow(&run.flow_id).await {
        Ok(f) => f,
        Err(e) => {
            return RunReport::finish(
                RunCounts::default(),
                vec![],
                Some(format!("flow unavailable: {e}")),
            )
        }
    };
    match flow.spec.direction {
        Direction::OneWay => oneway::run(hub, &flow, progress).await,
        Direction::TwoWay => RunReport::finish(
            RunCounts::default(),
            vec![],
            Some("two-way flows are not supported by this version of the hub yet; set direction to one_way".into()),
        ),
    }
}
