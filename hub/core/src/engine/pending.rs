//! An ordinary run takes up its flow's pending records first: what earlier runs failed on and no
//! run has written since (`hub_store::pending`). Without this, a record refused once is never
//! read again (the cursor moved past it) and the next run reports a success that hides it.
//!
//! The first pass reads again from where the oldest pending record's run started (as
//! 失敗分のみ再実行 does, [`super::retry`]) and keeps only the pending records; the second is
//! the ordinary incremental run. The run then settles the pending set: every pending record
//! tried comes off, and whatever either pass failed on goes (back) on, so the run is a success
//! only when nothing is left pending.

use hub_domain::PendingRecord;
use hub_domain::{Flow, Run, RunCounts, RunError, RunStatus};
use hub_store::pending::PendingUpdate;
use std::collections::HashMap;

use super::retry::Scope;
use super::{sync, Fatal, Progress, RunCtx, RunReport};
use crate::Hub;
use hub_messages::Message;

pub(super) async fn ordinary(
    hub: &Hub,
    flow: &Flow,
    run: &Run,
    progress: Progress<'_>,
) -> RunReport {
    let pending = match hub.store.pending_records(&flow.id).await {
        Ok(p) => p,
        Err(e) => {
            let fatal = Fatal::from(format!("pending records of flow {}: {e}", flow.id));
            return RunReport::finish(RunCounts::default(), vec![], Some(fatal));
        }
    };
    if pending.is_empty() {
        return sync(hub, flow, &RunCtx::recording(&run.id), progress).await;
    }
    let tried: Vec<String> = pending.iter().map(|p| p.record.clone()).collect();
    let first = retry_pending(hub, flow, run, &pending, progress).await;
    if first.status == RunStatus::Failed {
        // Stopped before every pending record was tried: all stay pending.
        let mut r = first;
        r.pending = PendingUpdate::Keep;
        return r;
    }
    let base = first.counts;
    let add_base = move |c: &RunCounts| progress(&plus(&base, c));
    let second = sync(hub, flow, &RunCtx::recording(&run.id), &add_base).await;

    let counts = plus(&first.counts, &second.counts);
    let ok = (pending.len() as i64 - first.counts.failed).max(0);
    let mut message = Message::new("run.retried_pending")
        .with("count", pending.len())
        .with("ok", ok)
        .to_stored();
    let fatal = second
        .message
        .clone()
        .filter(|_| second.status == RunStatus::Failed);
    if let Some(m) = second.message.as_ref().filter(|_| fatal.is_none()) {
        message = Message::join_stored(&message, m);
    }
    // A record both passes failed on is listed once, with the later reason.
    let mut errors: Vec<RunError> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for e in first.errors.into_iter().chain(second.errors) {
        match at.get(&e.record) {
            Some(&i) => errors[i] = e,
            None => {
                at.insert(e.record.clone(), errors.len());
                errors.push(e);
            }
        }
    }
    let mut counts = counts;
    counts.failed = errors.len() as i64;
    let warnings: Vec<_> = first.warnings.into_iter().chain(second.warnings).collect();
    counts.warnings = warnings.len() as i64;
    let fatal = fatal.map(|m| Fatal {
        message: m,
        retryable: second.retryable,
    });
    let mut report = RunReport::finish(counts, errors, fatal);
    report.warnings = warnings;
    report.message = Some(match report.message.take() {
        Some(m) => Message::join_stored(&m, &message),
        None => message,
    });
    report.pending = PendingUpdate::Settle { tried };
    report
}

/// The first pass: only the pending records, read again from where the oldest one's run
/// started; a pending record not read again stays pending (`not_read_again`).
async fn retry_pending(
    hub: &Hub,
    flow: &Flow,
    run: &Run,
    pending: &[PendingRecord],
    progress: Progress<'_>,
) -> RunReport {
    let oldest = pending
        .iter()
        .min_by_key(|p| p.since)
        .map(|p| p.first_run_id.clone())
        .unwrap_or_default();
    // A run from before start cursors were kept: read from the beginning.
    let cursors = hub.store.start_cursors(&oldest).await.unwrap_or_default();
    let errors: Vec<RunError> = pending.iter().map(PendingRecord::as_error).collect();
    let ctx = RunCtx {
        run_id: Some(run.id.clone()),
        scope: Some(Scope::new(&errors, cursors)),
    };
    let mut report = sync(hub, flow, &ctx, progress).await;
    if report.status != RunStatus::Failed {
        let by_id: HashMap<String, &PendingRecord> = pending
            .iter()
            .map(|p| {
                let id = p.record.strip_prefix("target:").unwrap_or(&p.record);
                (id.to_string(), p)
            })
            .collect();
        for id in ctx.scope.as_ref().map(Scope::unseen).unwrap_or_default() {
            let Some(p) = by_id.get(&id) else { continue };
            report.counts.failed += 1;
            report.errors.push(RunError {
                record: p.record.clone(),
                side: p.side.clone(),
                code: "not_read_again".into(),
                message: format!(
                    "前回の失敗（{}）の後、再び読み込めませんでした。削除された場合は「対応不要にする」を押してください / \
                     not read again since it failed ({}); if it was deleted, dismiss it",
                    p.code, p.code
                ),
                ..Default::default()
            });
        }
    }
    report
}

fn plus(a: &RunCounts, b: &RunCounts) -> RunCounts {
    RunCounts {
        read: a.read + b.read,
        created: a.created + b.created,
        updated: a.updated + b.updated,
        unchanged: a.unchanged + b.unchanged,
        skipped: a.skipped + b.skipped,
        failed: a.failed + b.failed,
        warnings: a.warnings + b.warnings,
    }
}
