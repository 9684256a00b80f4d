//! The scheduler: fire times live in the database (`flows.next_fire_at`), never only in a timer.
//! Due occurrences are taken in transactions that move each fire time (compare-and-set) and
//! record the occurrence together, so across any number of hub processes each is queued exactly
//! once and a process killed half-way leaves them to be taken again. An occurrence that meets an
//! active run is recorded as skipped (overlap); one missed while no hub ran is caught up by one
//! run, or recorded as skipped, as the flow's schedule says. Nothing is dropped silently.

use hub_domain::{now_ms, MissedPolicy};
use hub_store::schedule::{DueFlow, Occurrence, Taken};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use crate::error::HubResult;
use crate::schedule::{display_time, CompiledSchedule};
use crate::Hub;
use hub_messages::Message;

/// The longest the scheduler sleeps: a flow saved meanwhile is seen within this.
const TICK: Duration = Duration::from_millis(500);
/// An occurrence older than this when it is taken was missed (no hub was running then).
const MISSED_AFTER_MS: i64 = 2 * 60_000;
/// Occurrences taken in one transaction; the due flows are read up to two batches ahead.
const BATCH: usize = 500;

/// Next fire times of the schedules seen in one pass, by (cron, time zone, skip weekends,
/// skip holidays): flows share a few schedules, and parsing a cron is dear at 10,000 a minute.
type NextFires = HashMap<(String, String, bool, bool), Option<i64>>;

fn occurrence(due: &DueFlow, now: i64, nexts: &mut NextFires) -> Occurrence {
    let schedule = due.schedule.as_ref();
    let next = schedule.and_then(|s| {
        let key = (
            s.cron.clone(),
            s.timezone.clone(),
            s.skip_weekends,
            s.skip_holidays,
        );
        *nexts.entry(key).or_insert_with(|| {
            CompiledSchedule::parse(s)
                .ok()
                .and_then(|c| c.next_after(now))
        })
    });
    let missed = now - due.next_fire_at > MISSED_AFTER_MS;
    let policy = schedule.map(|s| s.missed).unwrap_or_default();
    let when = || display_time(due.next_fire_at);
    Occurrence {
        flow_id: due.id.clone(),
        old: due.next_fire_at,
        new: next,
        skip: (missed && policy == MissedPolicy::Skip).then(|| {
            Message::new("run.missed_skipped")
                .with("when", when())
                .to_stored()
        }),
        message: missed.then(|| {
            Message::new("run.caught_up")
                .with("when", when())
                .to_stored()
        }),
    }
}

/// Takes every occurrence due at the start of the pass, in batches; answers how many were
/// queued. The due flows are read ahead while a batch is taken, so reading and writing
/// overlap: with 10,000 flows on the same minute, the last batch's lag is what the pass took.
/// One that falls due meanwhile is left to the next pass (the scheduler comes back at once).
pub async fn fire_due(hub: &Hub) -> HubResult<usize> {
    let mut queued = 0;
    let now = now_ms();
    let mut due = hub.store.read_due_flows(now, 2 * BATCH);
    let mut nexts = NextFires::new();
    let mut read = Vec::with_capacity(BATCH);
    let mut taken = false;
    loop {
        read.clear();
        // A whole batch, or what is left: recv_many answers 0 once the reader is done.
        while read.len() < BATCH {
            let want = BATCH - read.len();
            if due.recv_many(&mut read, want).await == 0 {
                break;
            }
        }
        if read.is_empty() {
            if taken {
                // Off the fire lag: the pass is over.
                if let Err(e) = hub.store.checkpoint().await {
                    tracing::warn!(error = %e, "checkpoint after the scheduler pass failed");
                }
                release_free_memory();
            }
            return Ok(queued);
        }
        taken = true;
        let batch: Vec<Occurrence> = read
            .drain(..)
            .map(|d| d.map(|d| occurrence(&d, now, &mut nexts)))
            .collect::<Result<_, _>>()?;
        let results = match hub.store.take_occurrences(&batch).await {
            Ok(r) => r,
            // A concurrent "Run now" raced an insert and the batch rolled back: take them one by
            // one, so one racing flow does not hold back the others (it is retried next tick).
            Err(_) => {
                let mut r = Vec::new();
                for o in &batch {
                    match hub.store.take_occurrences(std::slice::from_ref(o)).await {
                        Ok(mut one) => r.append(&mut one),
                        Err(e) => {
                            tracing::debug!(flow = %o.flow_id, error = %e, "occurrence not taken this tick");
                            r.push(Taken::Lost)
                        }
                    }
                }
                r
            }
        };
        let taken_at = now_ms();
        for (o, t) in batch.iter().zip(&results) {
            if let Taken::Queued(_) = t {
                queued += 1;
                hub.metrics.fire_lag(taken_at - o.old);
            }
        }
    }
}

/// Hands the allocator's free memory back to the system. glibc keeps what a pass freed (the
/// large multi-row statements, built and prepared on several threads) in per-thread arenas:
/// after passes of 10,000 flows, trimming took a process from 25.7 to 20.9 MiB (BENCHMARKS.md).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages; glibc locks each arena while it trims.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// How long to sleep: until the earliest fire time if it comes within a [`TICK`], so an
/// occurrence is taken on its millisecond rather than up to a tick late.
async fn until_next(hub: &Hub) -> Duration {
    match hub.store.next_fire_time().await {
        Ok(Some(at)) => match u64::try_from(at - now_ms()) {
            Ok(wait) => TICK.min(Duration::from_millis(wait)),
            // Fell due while this pass ran: soon. Still due a tick later (not taken: another
            // process holds it, or it failed): no sooner than a tick, never a busy loop.
            Err(_) if now_ms() - at < TICK.as_millis() as i64 => Duration::from_millis(20),
            Err(_) => TICK,
        },
        _ => TICK,
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
            _ = tokio::time::sleep(until_next(&hub).await) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
