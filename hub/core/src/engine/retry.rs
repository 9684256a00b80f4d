//! 失敗分のみ再実行: a run that syncs again only the records an earlier run failed on.
//!
//! The SDK has no read-by-id, so the retry reads again the range the failed run read: every
//! run records where each side's read started (`run_start_cursors`), and the retry starts
//! there, keeps only the failed records (and, two-way, the records paired with them, so a
//! change made since on the other side is still seen as a conflict) and sends them through the
//! ordinary engine: current data, lookups, matching and links as any run. It never moves a
//! cursor. Replaying a snapshot taken at failure time would cost no reads, but could write data
//! older than the source holds now (and, two-way, overwrite a newer change on the other side),
//! and has nothing to replay for rows the source could not read.

use hub_domain::RunKind;
use hub_domain::{Flow, Run, RunCounts, RunError, RunStatus, Trigger};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::{Fatal, Progress, RunCtx, RunReport};
use crate::error::{HubError, HubResult};
use crate::Hub;
use hub_messages::Message;

/// Most errors of one run a retry takes up.
const MAX_RECORDS: i64 = 100_000;

/// The records a retry may touch, and where its reads start.
pub struct Scope {
    ids: HashSet<String>,
    cursors: HashMap<String, Option<String>>,
    seen: Mutex<HashSet<String>>,
    /// Records read but not this retry's, per side: a record matched to one of them is left
    /// to the next ordinary run rather than written without its own change being seen.
    left_source: Mutex<HashSet<String>>,
    left_target: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scope {
    /// Failed records named by a run's errors (two-way names target records `target:ID`).
    pub fn new(errors: &[RunError], cursors: HashMap<String, Option<String>>) -> Self {
        let ids = errors
            .iter()
            .map(|e| {
                e.record
                    .strip_prefix("target:")
                    .unwrap_or(&e.record)
                    .to_string()
            })
            .collect();
        Scope {
            ids,
            cursors,
            seen: Mutex::default(),
            left_source: Mutex::default(),
            left_target: Mutex::default(),
        }
    }

    /// Where the failed run's read of `side` started (`None`: from the beginning).
    pub fn cursor(&self, side: &str) -> Option<String> {
        self.cursors.get(side).cloned().flatten()
    }

    /// Whether the record is one to retry (noting that it was read again).
    pub fn admit(&self, id: &str) -> bool {
        let ours = self.ids.contains(id);
        if ours {
            lock(&self.seen).insert(id.to_string());
        }
        ours
    }

    pub fn left(&self, side: &str, id: &str) -> bool {
        let set = if side == "source" {
            &self.left_source
        } else {
            &self.left_target
        };
        lock(set).contains(id)
    }

    /// Failed records the retry did not read again.
    pub fn unseen(&self) -> Vec<String> {
        let seen = lock(&self.seen);
        let mut out: Vec<String> = self
            .ids
            .iter()
            .filter(|id| !seen.contains(*id))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Two-way: whether a record read on `side` belongs to a failed pair (by its own id or its
    /// linked partner's); a record that does not is left to a later run.
    pub(super) fn keeps(&self, side: &str, id: &str, partner: Option<&str>) -> bool {
        if self.admit(id) || partner.is_some_and(|p| self.ids.contains(p)) {
            return true;
        }
        let left = if side == "source" {
            &self.left_source
        } else {
            &self.left_target
        };
        lock(left).insert(id.to_string());
        false
    }
}

/// Records where each side's read starts as an ordinary run begins. A failure here only makes
/// a later retry of this run read from the beginning.
pub(super) async fn save_start_cursors(hub: &Hub, flow: &Flow, run_id: &str) {
    let mut cursors = Vec::new();
    for side in ["source", "target", super::SOURCE_SINCE] {
        match hub.store.get_cursor(&flow.id, side).await {
            Ok(c) => cursors.push((side, c)),
            Err(e) => {
                tracing::warn!(run = %run_id, error = %e, "cannot read the flow's cursor");
                return;
            }
        }
    }
    if let Err(e) = hub.store.save_start_cursors(run_id, &cursors).await {
        tracing::warn!(run = %run_id, error = %e, "cannot record where the run's reads start");
    }
}

pub(super) async fn execute(
    hub: &Hub,
    flow: &Flow,
    run: &Run,
    of_run: &str,
    progress: Progress<'_>,
) -> RunReport {
    let (scope, tried) = match prepare(hub, run, of_run).await {
        Ok(s) => s,
        Err(fatal) => {
            let mut r = RunReport::finish(RunCounts::default(), vec![], Some(fatal));
            r.retryable = false;
            return r;
        }
    };
    let wanted = scope.ids.len();
    let ctx = RunCtx {
        run_id: Some(run.id.clone()),
        scope: Some(scope),
    };
    let report = super::sync(hub, flow, &ctx, progress).await;
    let mut errors = report.errors;
    let mut counts = report.counts;
    let fatal = report.message.clone().map(|m| Fatal {
        message: m,
        retryable: false,
    });
    if report.status != RunStatus::Failed {
        for id in ctx.scope.as_ref().map(Scope::unseen).unwrap_or_default() {
            counts.failed += 1;
            errors.push(RunError {
                record: id,
                side: "source".into(),
                code: "not_read_again".into(),
                message: "再実行で読み込めませんでした（削除されたか、別のデータに直された可能性があります） / \
                          not read again (deleted, or fixed into a different record)"
                    .into(),
                ..Default::default()
            });
        }
    }
    let mut out = RunReport::finish(counts, errors, fatal);
    out.warnings = report.warnings;
    // An automatic retry would be an ordinary run, not this one: a person presses again.
    out.retryable = false;
    // The records tried come off the flow's pending list unless they failed again.
    out.pending = hub_store::pending::PendingUpdate::Settle { tried };
    if out.message.is_none() {
        out.message = Some(
            Message::new("run.retry_of")
                .with("run", of_run)
                .with("count", wanted)
                .to_stored(),
        );
    }
    out
}

/// The retry's scope, and the failed records it takes up (as the run named them).
async fn prepare(hub: &Hub, run: &Run, of_run: &str) -> Result<(Scope, Vec<String>), Fatal> {
    let errors = hub
        .store
        .run_errors(of_run, MAX_RECORDS)
        .await
        .map_err(|e| format!("run {of_run}: {e}"))?;
    let cursors = hub
        .store
        .start_cursors(of_run)
        .await
        .map_err(|e| format!("run {of_run}: {e}"))?;
    // This run reads the same range, so a retry of this retry does too.
    let mine: Vec<(&str, Option<String>)> = cursors
        .iter()
        .map(|(side, c)| (side.as_str(), c.clone()))
        .collect();
    if let Err(e) = hub.store.save_start_cursors(&run.id, &mine).await {
        tracing::warn!(run = %run.id, error = %e, "cannot record where the run's reads start");
    }
    let tried = errors.iter().map(|e| e.record.clone()).collect();
    Ok((Scope::new(&errors, cursors), tried))
}

impl Hub {
    /// 失敗分のみ再実行: queues a run (trigger `retry`) of only the records run `run_id` failed on.
    /// 409 while the flow has a run queued or running; 422 when the run has no failed records
    /// or is itself an undo.
    pub async fn retry_failed(&self, run_id: &str) -> HubResult<String> {
        let of = self.store.get_run(run_id).await?;
        if !of.status.is_finished() {
            return Err(HubError::conflict(
                "already_running",
                Message::new("err.run_not_finished").with("run", run_id),
            ));
        }
        if let Some(req) = self.store.run_request(run_id).await? {
            if req.kind == RunKind::Undo {
                return Err(HubError::refused(
                    "not_retryable",
                    "run",
                    Message::new("refused.not_retryable"),
                ));
            }
        }
        if self.store.run_errors(run_id, 1).await?.is_empty() {
            return Err(HubError::refused(
                "nothing_to_retry",
                "run",
                Message::new("refused.nothing_to_retry").with("run", run_id),
            ));
        }
        Ok(self
            .store
            .enqueue_request(
                &of.flow_id,
                Trigger::Retry,
                RunKind::RetryFailed,
                run_id,
                &format!("retry of the failed records of run {run_id}"),
            )
            .await?)
    }
}
