//! The scheduler: fire times live in the database (`flows.next_fire_at`), never only in a timer.
//! Each due occurrence is taken by a compare-and-set on that column, so across any number of
//! hub processes it is queued exactly once; an occurrence that meets an active run is recorded
//! as skipped (overlap). An occurrence missed while no hub ran is caught up by one run, or
//! recorded as skipped, as the flow's schedule says; either way it shows in the history.

use hub_store::{now_ms, MissedPolicy, Trigger};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use crate::error::{HubError, HubResult};
use crate::schedule::{display_time, CompiledSchedule};
use crate::Hub;

const TICK: Duration = Duration::from_millis(500);
/// An occurrence older than this when it is taken was missed (no hub was running then).
const MISSED_AFTER_MS: i64 = 2 * 60_000;

/// Queues every due occurrence; answers how many runs were queued.
pub async fn fire_due(hub: &Hub) -> HubResult<usize> {
    let now = now_ms();
    let mut queued = 0;
    for due in hub.store.due_flows(now, 500).await? {
        let next = due
            .spec
            .schedule
            .as_ref()
            .and_then(|s| CompiledSchedule::parse(s).ok())
            .and_then(|c| c.next_after(now));
        if !hub
            .store
            .advance_fire_time(&due.id, due.next_fire_at, next)
            .await?
        {
            continue; // another process took this occurrence
        }
        let missed = now - due.next_fire_at > MISSED_AFTER_MS;
        let policy = due
            .spec
            .schedule
            .as_ref()
            .map(|s| s.missed)
            .unwrap_or_default();
        let when = display_time(due.next_fire_at);
        if missed && policy == MissedPolicy::Skip {
            let msg = format!(
                "missed: no hub was running at {when}; skipped as the flow's schedule says"
            );
            hub.store
                .record_skipped_run(&due.id, due.next_fire_at, &msg)
                .await?;
            continue;
        }
        match hub
            .store
            .enqueue_run(&due.id, Trigger::Schedule, Some(due.next_fire_at))
            .await
        {
            Ok(run_id) => {
                queued += 1;
                hub.metrics.fire_lag(now_ms() - due.next_fire_at);
                if missed {
                    let msg = format!(
                        "caught up: the occurrence at {when} was missed while no hub was running"
                    );
                    hub.store.set_run_message(&run_id, &msg).await?;
                }
            }
            Err(e) => match HubError::from(e) {
                HubError::Conflict { .. } => {
                    let msg =
                        "skipped: another run of this flow was still queued or running (overlap)";
                    hub.store
                        .record_skipped_run(&due.id, due.next_fire_at, msg)
                        .await?;
                }
                other => return Err(other),
            },
        }
    }
    Ok(queued)
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
