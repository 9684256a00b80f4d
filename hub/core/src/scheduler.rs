//! The scheduler: fire times live in the database (`flows.next_fire_at`), never only in a timer.
//! Each due occurrence is taken in one transaction that moves the fire time (compare-and-set)
//! and records the occurrence, so across any number of hub processes it is queued exactly once
//! and a process killed half-way leaves it to be taken again. An occurrence that meets an
//! active run is recorded as skipped (overlap); one missed while no hub ran is caught up by one
//! run, or recorded as skipped, as the flow's schedule says. Nothing is dropped silently.

use hub_store::schedule::Taken;
use hub_store::{now_ms, MissedPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use crate::error::HubResult;
use crate::schedule::{display_time, CompiledSchedule};
use crate::Hub;

const TICK: Duration = Duration::from_millis(500);
/// An occurrence older than this when it is taken was missed (no hub was running then).
const MISSED_AFTER_MS: i64 = 2 * 60_000;

/// Due flows fetched per query.
const BATCH: i64 = 500;

/// Takes every due occurrence (in batches, until none is left); answers how many were queued.
pub async fn fire_due(hub: &Hub) -> HubResult<usize> {
    let mut queued = 0;
    loop {
        let now = now_ms();
        let due = hub.store.due_flows(now, BATCH).await?;
        let n = due.len();
        let mut failed = 0;
        for due in due {
            match take(hub, &due, now).await {
                Some(true) => queued += 1,
                Some(false) => {}
                None => failed += 1,
            }
        }
        // A full batch means more may be due; a batch that only failed is left to the next tick.
        if (n as i64) < BATCH || failed == n {
            return Ok(queued);
        }
    }
}

/// `Some(true)` queued, `Some(false)` skipped or taken by another process, `None` failed.
async fn take(hub: &Hub, due: &hub_store::schedule::DueFlow, now: i64) -> Option<bool> {
    let next = due
        .spec
        .schedule
        .as_ref()
        .and_then(|s| CompiledSchedule::parse(s).ok())
        .and_then(|c| c.next_after(now));
    let missed = now - due.next_fire_at > MISSED_AFTER_MS;
    let policy = due
        .spec
        .schedule
        .as_ref()
        .map(|s| s.missed)
        .unwrap_or_default();
    let when = display_time(due.next_fire_at);
    let skip = (missed && policy == MissedPolicy::Skip).then(|| {
        format!("missed: no hub was running at {when}; skipped as the flow's schedule says")
    });
    let message = missed.then(|| {
        format!("caught up: the occurrence at {when} was missed while no hub was running")
    });
    match hub
        .store
        .take_occurrence(
            &due.id,
            due.next_fire_at,
            next,
            skip.as_deref(),
            message.as_deref(),
        )
        .await
    {
        Ok(Taken::Queued(_)) => {
            hub.metrics.fire_lag(now_ms() - due.next_fire_at);
            Some(true)
        }
        Ok(Taken::Skipped(_)) | Ok(Taken::Lost) => Some(false),
        // A concurrent "Run now" raced the insert: the transaction rolled back and the
        // occurrence is still due; the next tick records it.
        Err(e) => {
            tracing::debug!(flow = %due.id, error = %e, "occurrence not taken this tick");
            None
        }
    }
}

pub async fn run_forever(hub: Hub, wake_runner: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
    loop {
        match fire_due(&hub).await {
            Ok(n) if n > 0 => wake_runner.notify_waiters(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
