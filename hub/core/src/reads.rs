//! The read side the API, the web UI and the CLI share: connections, flows, runs and their
//! history, pending records and inquiries, as the store keeps them, plus what a run's page may
//! offer (`run_actions`: the rules of 元に戻す and 失敗分のみ再実行). Thin where the store is the
//! rule; the web never reads the store itself.

use hub_domain::{
    Connection, DayCount, Flow, Inquiry, Millis, Run, RunError, RunFilter, RunKind, RunRequest,
    RunStats, RunStatus, RunWarning,
};
use std::collections::HashMap;

use crate::error::HubResult;
use crate::Hub;

/// What a finished run's page may offer, and which runs acted on it (or it on which).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunActions {
    /// 失敗分のみ再実行: the run is finished, failed on records, and is no undo itself.
    pub can_retry: bool,
    /// 元に戻す: the run is finished, left changes not yet undone, and no undo of it succeeded.
    pub can_undo: bool,
    /// Its changes not yet undone.
    pub open_changes: i64,
    /// The run this one undid, or retried the failures of.
    pub undo_of: Option<String>,
    pub retry_of: Option<String>,
    /// Undo runs of this one that succeeded (fully or partly).
    pub undone_by: Vec<String>,
    /// Runs that retried this one's failures.
    pub retried_by: Vec<String>,
}

impl Hub {
    /// 200 while the database answers (`/healthz`).
    pub async fn ping(&self) -> HubResult<()> {
        Ok(self.store.ping().await?)
    }

    pub async fn get_connection(&self, id: &str) -> HubResult<Connection> {
        Ok(self.store.get_connection(id).await?)
    }

    pub async fn list_connections(&self) -> HubResult<Vec<Connection>> {
        Ok(self.store.list_connections().await?)
    }

    pub async fn get_flow(&self, id: &str) -> HubResult<Flow> {
        Ok(self.store.get_flow(id).await?)
    }

    pub async fn list_flows(&self) -> HubResult<Vec<Flow>> {
        Ok(self.store.list_flows().await?)
    }

    /// How many records wait per flow (flows with none are absent).
    pub async fn pending_counts(&self) -> HubResult<HashMap<String, i64>> {
        Ok(self.store.pending_counts().await?)
    }

    pub async fn get_run(&self, id: &str) -> HubResult<Run> {
        Ok(self.store.get_run(id).await?)
    }

    /// Runs, newest first.
    pub async fn list_runs(&self, filter: &RunFilter) -> HubResult<Vec<Run>> {
        Ok(self.store.list_runs(filter).await?)
    }

    /// The flow's queued or running run, if any.
    pub async fn active_run(&self, flow_id: &str) -> HubResult<Option<Run>> {
        Ok(self.store.active_run(flow_id).await?)
    }

    /// Every queued or running run.
    pub async fn active_runs(&self) -> HubResult<Vec<Run>> {
        Ok(self.store.active_runs().await?)
    }

    /// A run's per-record errors (at most `limit`).
    pub async fn run_errors(&self, run_id: &str, limit: i64) -> HubResult<Vec<RunError>> {
        Ok(self.store.run_errors(run_id, limit).await?)
    }

    /// A run's warnings (at most `limit`).
    pub async fn run_warnings(&self, run_id: &str, limit: i64) -> HubResult<Vec<RunWarning>> {
        Ok(self.store.run_warnings(run_id, limit).await?)
    }

    /// What the run was queued to do besides an ordinary sync (undo or retry of another run).
    pub async fn run_request(&self, run_id: &str) -> HubResult<Option<RunRequest>> {
        Ok(self.store.run_request(run_id).await?)
    }

    /// The runs queued to act on this one, oldest first.
    pub async fn requests_of(&self, run_id: &str) -> HubResult<Vec<RunRequest>> {
        Ok(self.store.requests_of(run_id).await?)
    }

    /// Runs per day and status since `since`, days counted in the zone `utc_offset_ms` from UTC
    /// (the history's chart); of one flow or of all.
    pub async fn runs_per_day(
        &self,
        flow: Option<&str>,
        since: Millis,
        utc_offset_ms: i64,
    ) -> HubResult<Vec<DayCount>> {
        Ok(self.store.runs_per_day(flow, since, utc_offset_ms).await?)
    }

    /// Totals over the whole history (`/metrics`).
    pub async fn run_stats(&self) -> HubResult<RunStats> {
        Ok(self.store.run_stats().await?)
    }

    /// The newest inquiries (at most `limit`).
    pub async fn list_inquiries(&self, limit: i64) -> HubResult<Vec<Inquiry>> {
        Ok(self.store.list_inquiries(limit).await?)
    }

    /// What a run's page offers and tells about 元に戻す and 失敗分のみ再実行; `errors` is how
    /// many records the run failed on.
    pub async fn run_actions(&self, run: &Run, errors: usize) -> HubResult<RunActions> {
        let request = self.store.run_request(&run.id).await?;
        let later = self.store.requests_of(&run.id).await?;
        let (_, open) = self.store.count_run_changes(&run.id).await?;
        let mut undone_by = Vec::new();
        for r in later.iter().filter(|r| r.kind == RunKind::Undo) {
            if matches!(
                self.store.get_run(&r.run_id).await?.status,
                RunStatus::Success | RunStatus::Partial
            ) {
                undone_by.push(r.run_id.clone());
            }
        }
        let retried_by = later
            .iter()
            .filter(|r| r.kind == RunKind::RetryFailed)
            .map(|r| r.run_id.clone())
            .collect();
        let of = |kind: RunKind| {
            request
                .as_ref()
                .filter(|r| r.kind == kind)
                .map(|r| r.of_run.clone())
        };
        let is_undo = of(RunKind::Undo).is_some();
        let finished = run.status.is_finished();
        Ok(RunActions {
            can_retry: finished && errors > 0 && !is_undo,
            can_undo: finished && open > 0 && undone_by.is_empty(),
            open_changes: open,
            undo_of: of(RunKind::Undo),
            retry_of: of(RunKind::RetryFailed),
            undone_by,
            retried_by,
        })
    }

    /// Puts back in the queue the runs whose claim expired (their process died).
    pub async fn requeue_expired_runs(&self) -> HubResult<u64> {
        Ok(self
            .store
            .requeue_expired_runs(hub_domain::now_ms())
            .await?)
    }

    /// Records the connector plugins this hub loaded (`hub serve` at start).
    pub async fn record_loaded_plugins(&self) -> HubResult<()> {
        let seen: Vec<_> = self
            .plugins
            .loaded()
            .iter()
            .map(|p| hub_store::connectors::SeenConnector {
                id: p.id.clone(),
                version: p.version.clone(),
                sdk_version: p.sdk_version.clone(),
                file: p.file.display().to_string(),
                manifest: p.manifest.clone(),
            })
            .collect();
        Ok(self.store.record_connectors(&seen).await?)
    }

    /// Closes the database pool (at the end of a command).
    pub async fn close(&self) {
        self.store.close().await;
    }
}
