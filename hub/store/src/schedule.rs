//! What the scheduler needs: flows whose next fire time has come, and a compare-and-set that
//! lets exactly one process take each occurrence.

use crate::model::*;
use crate::{get, Result, Store};

#[derive(Debug, Clone)]
pub struct DueFlow {
    pub id: String,
    pub next_fire_at: Millis,
    pub spec: FlowSpec,
}

impl Store {
    pub async fn due_flows(&self, now: Millis, limit: i64) -> Result<Vec<DueFlow>> {
        let rows = sqlx::query(
            "SELECT id, next_fire_at, spec FROM flows WHERE enabled = 1 AND next_fire_at IS NOT NULL AND next_fire_at <= $1 \
             ORDER BY next_fire_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DueFlow {
                    id: get(r, "id")?,
                    next_fire_at: get(r, "next_fire_at")?,
                    spec: crate::json_col(r, "spec")?,
                })
            })
            .collect()
    }

    /// Moves a flow's next fire time from `old` to `new`; false if another process already did.
    pub async fn advance_fire_time(
        &self,
        flow_id: &str,
        old: Millis,
        new: Option<Millis>,
    ) -> Result<bool> {
        let done =
            sqlx::query("UPDATE flows SET next_fire_at = $1 WHERE id = $2 AND next_fire_at = $3")
                .bind(new)
                .bind(flow_id)
                .bind(old)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records an occurrence that was not run (overlap with an active run, or skipped after downtime).
    pub async fn record_skipped_run(
        &self,
        flow_id: &str,
        scheduled_for: Millis,
        message: &str,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO runs (id, flow_id, trigger, status, queued_at, finished_at, scheduled_for, message) \
             VALUES ($1, $2, 'schedule', 'skipped', $3, $3, $4, $5)",
        )
        .bind(&id)
        .bind(flow_id)
        .bind(now)
        .bind(scheduled_for)
        .bind(message)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Runs whose holder stopped renewing the lease (a dead process): back to the queue,
    /// marked as interrupted in their message, so the next runner resumes from the cursor.
    pub async fn requeue_expired_runs(&self, now: Millis) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', claimed_by = NULL, lease_until = NULL, attempt = attempt + 1, \
             message = 'interrupted: the process running it stopped; resumed from the last checkpoint' \
             WHERE status = 'running' AND lease_until IS NOT NULL AND lease_until < $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
