//! The runner: claims queued runs from the database (so several hub processes share the work),
//! keeps the claim alive while the engine works, and records the outcome in the history.

use hub_domain::{now_ms, Run, RunCounts};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

use hub_messages::Message;
use hub_store::StoreError;

use crate::engine::{self, RunReport};
use crate::Hub;

/// A claim not renewed for this long is considered abandoned (its process died).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_secs(1);

pub struct Runner {
    hub: Hub,
    owner: String,
    /// Set by [`Runner::run_forever`]: a run in progress when it turns true is cancelled (its
    /// plugin workers killed) and recorded as `interrupted`, to be resumed by a queued run.
    shutdown: Option<watch::Receiver<bool>>,
}

impl Runner {
    pub fn new(hub: Hub, owner: impl Into<String>) -> Self {
        Runner {
            hub,
            owner: owner.into(),
            shutdown: None,
        }
    }

    pub fn lease_until(&self) -> i64 {
        now_ms() + self.hub.run_lease.as_millis() as i64
    }

    /// Claims a queued run for this runner (`hub run`); false if another runner took it.
    pub async fn claim(&self, run_id: &str) -> crate::HubResult<bool> {
        Ok(self
            .hub
            .store
            .claim_run(run_id, &self.owner, self.lease_until())
            .await?)
    }

    /// Executes a run this runner has claimed, renewing the lease, saving progress, and
    /// recording counts and per-record errors.
    pub async fn execute(&self, run: &Run) -> RunReport {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        // Turns true when the lease is lost: another runner may own the run now.
        let (lost_tx, mut lost_rx) = watch::channel(false);
        let heartbeat = {
            let store = self.hub.store.clone();
            let (id, owner) = (run.id.clone(), self.owner.clone());
            let lease = self.hub.run_lease;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(lease / 3) => {
                            let until = now_ms() + lease.as_millis() as i64;
                            match store.renew_run_lease(&id, &owner, until).await {
                                Ok(true) => {}
                                Ok(false) => {
                                    let _ = lost_tx.send(true);
                                    break;
                                }
                                Err(e) => tracing::warn!(run = %id, error = %e, "cannot renew the run's lease"),
                            }
                        }
                        _ = stop_rx.changed() => break,
                    }
                }
            })
        };
        let store = self.hub.store.clone();
        let (run_id, owner) = (run.id.clone(), self.owner.clone());
        let progress = move |c: &RunCounts| {
            let (store, id, owner, c) = (store.clone(), run_id.clone(), owner.clone(), *c);
            tokio::spawn(async move {
                if let Err(e) = store.update_run_progress(&id, &owner, &c).await {
                    tracing::warn!(run = %id, error = %e, "cannot save run progress");
                }
            });
        };
        tracing::info!(run = %run.id, flow = %run.flow_id, trigger = run.trigger.as_str(), "run started");
        let mut shutdown = self.shutdown.clone();
        let report = tokio::select! {
            report = engine::execute(&self.hub, run, &progress) => report,
            // The engine's future is dropped in both arms below: its plugin sessions kill
            // their workers (a hung call too) before any further write, and an
            // unacknowledged page is read again by the run that resumes.
            _ = async { drop(lost_rx.wait_for(|lost| *lost).await) } => {
                let _ = stop_tx.send(true);
                let _ = heartbeat.await;
                return Self::lease_lost(run);
            }
            // The guard `wait_for` answers is not `Send`: dropped inside.
            _ = async {
                match shutdown.as_mut() {
                    Some(s) => drop(s.wait_for(|stop| *stop).await),
                    None => std::future::pending().await,
                }
            } => {
                let _ = stop_tx.send(true);
                let _ = heartbeat.await;
                return self.interrupted(run).await;
            }
        };
        let _ = stop_tx.send(true);
        let _ = heartbeat.await;
        // Retried briefly: a run whose result is not recorded would sit as running until its
        // lease expires and then be resumed for nothing.
        for attempt in 1..=5u32 {
            match self
                .hub
                .store
                .finish_claimed_run(
                    &run.id,
                    &self.owner,
                    &hub_store::runs::Finished {
                        status: report.status,
                        counts: &report.counts,
                        message: report.message.as_deref(),
                        errors: &report.errors,
                        warnings: &report.warnings,
                    },
                    &report.pending,
                )
                .await
            {
                Ok(()) => break,
                Err(StoreError::LeaseLost { .. }) => {
                    tracing::warn!(run = %run.id, "the run's lease was lost before its result was recorded; the runner that resumed it records its own");
                    return Self::lease_lost(run);
                }
                Err(e) if attempt < 5 => {
                    tracing::warn!(run = %run.id, error = %e, attempt, "cannot record the run's result yet; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                        .await;
                }
                Err(e) => {
                    tracing::error!(run = %run.id, error = %e, "cannot record the run's result")
                }
            }
        }
        // Awaited (each channel has its own time-out) so `hub run` does not exit before sending.
        if let Ok(flow) = self.hub.store.get_flow(&run.flow_id).await {
            crate::notify::run_finished(&self.hub, &flow, run, &report).await;
        }
        if report.status == hub_domain::RunStatus::Failed && report.retryable {
            self.schedule_retry(run).await;
        }
        tracing::info!(run = %run.id, status = report.status.as_str(), read = report.counts.read, created = report.counts.created,
            updated = report.counts.updated, failed = report.counts.failed, "run finished");
        report
    }

    /// What a runner that lost its lease reports: nothing is recorded by it (the run is
    /// another runner's now, or queued again to be resumed).
    fn lease_lost(run: &Run) -> RunReport {
        tracing::warn!(run = %run.id, flow = %run.flow_id, "the run's lease was lost: stopped before its next write");
        RunReport {
            status: hub_domain::RunStatus::Interrupted,
            counts: RunCounts::default(),
            errors: Vec::new(),
            warnings: Vec::new(),
            message: Some(Message::new("run.lease_lost").to_stored()),
            retryable: false,
            pending: hub_store::pending::PendingUpdate::Keep,
        }
    }

    /// Records a run stopped by the hub's shutdown as `interrupted` and queues its resumption.
    async fn interrupted(&self, run: &Run) -> RunReport {
        let message = Message::new("run.interrupted").to_stored();
        match self
            .hub
            .store
            .interrupt_run(&run.id, &self.owner, now_ms())
            .await
        {
            Ok(_) => {
                tracing::warn!(run = %run.id, flow = %run.flow_id, "run interrupted by shutdown; it resumes at the next start")
            }
            // The lease then expires and any hub resumes the run as it would a dead process's.
            Err(e) => {
                tracing::error!(run = %run.id, error = %e, "cannot record the interrupted run")
            }
        }
        RunReport {
            status: hub_domain::RunStatus::Interrupted,
            counts: RunCounts::default(),
            errors: Vec::new(),
            warnings: Vec::new(),
            message: Some(message),
            retryable: false,
            pending: hub_store::pending::PendingUpdate::Keep,
        }
    }

    /// Queues the next attempt of a run that failed for a passing reason, with exponential
    /// backoff, up to the flow's `max_retries`.
    async fn schedule_retry(&self, run: &Run) {
        let Ok(flow) = self.hub.store.get_flow(&run.flow_id).await else {
            return;
        };
        let opts = &flow.spec.options;
        if run.attempt > i64::from(opts.max_retries) {
            return;
        }
        let delay_s = opts
            .retry_delay_secs
            .saturating_mul(1u64 << (run.attempt - 1).clamp(0, 10))
            .min(3600);
        let not_before = now_ms() + (delay_s as i64) * 1000;
        let msg = Message::new("run.retry_later")
            .with("attempt", run.attempt)
            .with("max", opts.max_retries)
            .with("secs", delay_s)
            .to_stored();
        match self
            .hub
            .store
            .enqueue_retry(&run.flow_id, run.attempt + 1, not_before, &msg)
            .await
        {
            Ok(id) => tracing::info!(run = %run.id, retry = %id, delay_s, "retry queued"),
            Err(e) => tracing::warn!(run = %run.id, error = %e, "cannot queue a retry"),
        }
    }

    /// Claims and executes runs until `shutdown` turns true; `wake` starts a claim at once.
    pub async fn run_forever(mut self, wake: Arc<Notify>, mut shutdown: watch::Receiver<bool>) {
        self.shutdown = Some(shutdown.clone());
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.hub.store.requeue_expired_runs(now_ms()).await {
                tracing::warn!(error = %e, "cannot requeue abandoned runs");
            }
            match self
                .hub
                .store
                .claim_next_run(&self.owner, self.lease_until())
                .await
            {
                Ok(Some(run)) => {
                    self.execute(&run).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim a run"),
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
