//! What the scheduler needs: flows whose next fire time has come, and a compare-and-set that
//! lets exactly one process take each occurrence.

use crate::{get, Result, Store};
use hub_domain::*;
use hub_messages::Message;

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

    /// Runs whose holder stopped renewing the lease (a dead process) are recorded as
    /// `interrupted`, and a run that resumes from the flow's last checkpoint (its cursor) is
    /// queued in the same transaction, with trigger `retry` and the same scheduled time.
    /// Answers how many were interrupted.
    pub async fn requeue_expired_runs(&self, now: Millis) -> Result<u64> {
        self.interrupt_where(
            "status = 'running' AND lease_until IS NOT NULL AND lease_until < $1",
            None,
            now,
            &Message::new("run.interrupted_abandoned").to_stored(),
        )
        .await
    }

    /// A run this process holds (`owner`) and stops because the hub is shutting down: recorded
    /// as `interrupted` and resumed by a queued run, as [`Store::requeue_expired_runs`] does for
    /// a dead process. Answers whether the run was still this owner's and running.
    pub async fn interrupt_run(&self, run_id: &str, owner: &str, now: Millis) -> Result<bool> {
        let n = self
            .interrupt_where(
                "status = 'running' AND id = $3 AND claimed_by = $4",
                Some((run_id, owner)),
                now,
                &Message::new("run.interrupted").to_stored(),
            )
            .await?;
        Ok(n > 0)
    }

    async fn interrupt_where(
        &self,
        condition: &str,
        run: Option<(&str, &str)>,
        now: Millis,
        message: &str,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE runs SET status = 'interrupted', finished_at = $1, lease_until = NULL, \
             message = $2 WHERE {condition} \
             RETURNING id, flow_id, attempt, scheduled_for"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(message.to_string());
        if let Some((id, owner)) = run {
            query = query.bind(id.to_string()).bind(owner.to_string());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        for r in &rows {
            let interrupted: String = get(r, "id")?;
            sqlx::query(
                "INSERT INTO runs (id, flow_id, trigger, status, queued_at, attempt, scheduled_for, message) \
                 VALUES ($1, $2, 'retry', 'queued', $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(get::<String>(r, "flow_id")?)
            .bind(now)
            .bind(get::<i64>(r, "attempt")? + 1)
            .bind(get::<Option<i64>>(r, "scheduled_for")?)
            .bind(format!("resumes interrupted run {interrupted}"))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}

/// What happened to one scheduled occurrence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Queued as this run.
    Queued(String),
    /// Recorded as this skipped run (overlap with an active run, or missed and skipped).
    Skipped(String),
    /// Another process took it first.
    Lost,
}

/// One due occurrence to take: move the flow's fire time from `old` to `new`, and record it
/// (as skipped with `skip` if given; `message` goes on a queued run).
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub flow_id: String,
    pub old: Millis,
    pub new: Option<Millis>,
    pub skip: Option<String>,
    pub message: Option<String>,
}

impl Store {
    /// Takes one occurrence in one transaction (see [`Store::take_occurrences`]).
    pub async fn take_occurrence(
        &self,
        flow_id: &str,
        old: Millis,
        new: Option<Millis>,
        skip: Option<&str>,
        message: Option<&str>,
    ) -> Result<Taken> {
        let occ = Occurrence {
            flow_id: flow_id.into(),
            old,
            new,
            skip: skip.map(String::from),
            message: message.map(String::from),
        };
        Ok(self
            .take_occurrences(&[occ])
            .await?
            .pop()
            .unwrap_or(Taken::Lost))
    }

    /// Takes a batch of occurrences in one transaction: for each, moves the flow's fire time
    /// (compare-and-set: another process that moved it first wins) and records the occurrence,
    /// queued or skipped. All or nothing: a process killed half-way leaves every occurrence to be
    /// taken again, so none is lost and none is taken twice.
    pub async fn take_occurrences(&self, batch: &[Occurrence]) -> Result<Vec<Taken>> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let mut out = Vec::with_capacity(batch.len());
        for o in batch {
            let moved = sqlx::query(
                "UPDATE flows SET next_fire_at = $1 WHERE id = $2 AND next_fire_at = $3",
            )
            .bind(o.new)
            .bind(&o.flow_id)
            .bind(o.old)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() != 1 {
                out.push(Taken::Lost);
                continue;
            }
            let active: i64 = get(
                &sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE flow_id = $1 AND status IN ('queued', 'running')")
                    .bind(&o.flow_id)
                    .fetch_one(&mut *tx)
                    .await?,
                "n",
            )?;
            let overlap = (active > 0).then(|| Message::new("run.skipped_overlap").to_stored());
            let skip = o.skip.as_deref().or(overlap.as_deref());
            let id = new_id();
            match skip {
                Some(reason) => {
                    sqlx::query(
                        "INSERT INTO runs (id, flow_id, trigger, status, queued_at, finished_at, scheduled_for, message) \
                         VALUES ($1, $2, 'schedule', 'skipped', $3, $3, $4, $5)",
                    )
                    .bind(&id)
                    .bind(&o.flow_id)
                    .bind(now)
                    .bind(o.old)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                    out.push(Taken::Skipped(id));
                }
                None => {
                    sqlx::query(
                        "INSERT INTO runs (id, flow_id, trigger, status, queued_at, scheduled_for, message) \
                         VALUES ($1, $2, 'schedule', 'queued', $3, $4, $5)",
                    )
                    .bind(&id)
                    .bind(&o.flow_id)
                    .bind(now)
                    .bind(o.old)
                    .bind(&o.message)
                    .execute(&mut *tx)
                    .await?;
                    out.push(Taken::Queued(id));
                }
            }
        }
        tx.commit().await?;
        Ok(out)
    }
}
