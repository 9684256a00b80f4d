//! What the scheduler needs: flows whose next fire time has come, and a compare-and-set that
//! lets exactly one process take each occurrence.

use std::collections::{HashMap, HashSet};

use crate::params::Params;
use crate::{get, Result, Store, StoreError};
use futures::StreamExt;
use hub_domain::*;
use hub_messages::Message;
use sqlx::any::AnyRow;
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct DueFlow {
    pub id: String,
    pub next_fire_at: Millis,
    pub schedule: Option<Schedule>,
}

/// The part of a flow's spec the scheduler reads: the rest (mapping, filters…) is skipped
/// unbuilt, 10,000 flows falling due on the same minute.
#[derive(serde::Deserialize)]
struct ScheduleOnly {
    #[serde(default)]
    schedule: Option<Schedule>,
}

const DUE_FLOWS: &str =
    "SELECT id, next_fire_at, spec FROM flows WHERE enabled = 1 AND next_fire_at IS NOT NULL \
     AND next_fire_at <= $1 ORDER BY next_fire_at";

fn due_flow(r: &AnyRow) -> Result<DueFlow> {
    Ok(DueFlow {
        id: get(r, "id")?,
        next_fire_at: get(r, "next_fire_at")?,
        schedule: crate::json_col::<ScheduleOnly>(r, "spec")?.schedule,
    })
}

impl Store {
    /// The first `limit` flows due at `now`, earliest fire time first.
    pub async fn due_flows(&self, now: Millis, limit: i64) -> Result<Vec<DueFlow>> {
        let sql = format!("{DUE_FLOWS} LIMIT $2");
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(due_flow).collect()
    }

    /// Every flow due at `now`, earliest fire time first, read by a task of its own at most
    /// `ahead` flows ahead of the receiver: the scheduler takes one batch while the next is
    /// read, instead of reading and writing by turns. The rows are those of one snapshot: a
    /// flow another process takes meanwhile is still sent, and its compare-and-set fails.
    pub fn read_due_flows(&self, now: Millis, ahead: usize) -> mpsc::Receiver<Result<DueFlow>> {
        let (tx, rx) = mpsc::channel(ahead.max(1));
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut rows = sqlx::query(DUE_FLOWS).bind(now).fetch(&pool);
            loop {
                let due = match rows.next().await {
                    None => return,
                    Some(row) => row.map_err(StoreError::from).and_then(|r| due_flow(&r)),
                };
                let failed = due.is_err();
                // The receiver gone (the pass ended, or failed) or this read failed: stop.
                if tx.send(due).await.is_err() || failed {
                    return;
                }
            }
        });
        rx
    }

    /// The earliest fire time of any enabled flow (the scheduler sleeps until then).
    pub async fn next_fire_time(&self) -> Result<Option<Millis>> {
        let row = sqlx::query(
            "SELECT MIN(next_fire_at) AS t FROM flows WHERE enabled = 1 AND next_fire_at IS NOT NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        get(&row, "t")
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
             RETURNING id, flow_id, attempt, scheduled_for, queued_at"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(message.to_string());
        if let Some((id, owner)) = run {
            query = query.bind(id.to_string()).bind(owner.to_string());
        }
        let rows = query.fetch_all(&mut *tx).await?;
        let mut bumps = crate::run_days::Bumps::default();
        for r in &rows {
            let interrupted: String = get(r, "id")?;
            let flow: String = get(r, "flow_id")?;
            bumps.moved(&flow, get(r, "queued_at")?, "running", "interrupted");
            bumps.add(&flow, now, "queued", 1);
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
        bumps.write(&mut tx).await?;
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
    /// taken again, so none is lost and none is taken twice. A few statements per chunk of
    /// occurrences, not per occurrence: SQLite has one writer, and 10,000 flows can fall due on
    /// the same second.
    pub async fn take_occurrences(&self, batch: &[Occurrence]) -> Result<Vec<Taken>> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        let overlap = Message::new("run.skipped_overlap").to_stored();
        let mut out = Vec::with_capacity(batch.len());
        let mut bumps = crate::run_days::Bumps::default();
        let mut seen = HashSet::new();
        for chunk in batch.chunks(CHUNK) {
            // A flow listed twice: its later occurrences find the fire time already moved.
            let first: Vec<bool> = chunk
                .iter()
                .map(|o| seen.insert(o.flow_id.clone()))
                .collect();
            let cas: Vec<&Occurrence> = chunk
                .iter()
                .zip(&first)
                .filter(|(_, f)| **f)
                .map(|(o, _)| o)
                .collect();
            let moved = move_fire_times(&mut tx, &cas).await?;
            let mut rows = Vec::new();
            for (o, f) in chunk.iter().zip(&first) {
                let Some(&active) = moved.get(&o.flow_id).filter(|_| *f) else {
                    out.push(Taken::Lost);
                    continue;
                };
                let overlapping = active.then_some(overlap.as_str());
                let id = new_id();
                let row = match o.skip.as_deref().or(overlapping) {
                    Some(reason) => {
                        out.push(Taken::Skipped(id.clone()));
                        NewRun {
                            id,
                            occ: o,
                            status: "skipped",
                            message: Some(reason),
                        }
                    }
                    None => {
                        out.push(Taken::Queued(id.clone()));
                        NewRun {
                            id,
                            occ: o,
                            status: "queued",
                            message: o.message.as_deref(),
                        }
                    }
                };
                bumps.add(&o.flow_id, now, row.status, 1);
                rows.push(row);
            }
            insert_runs(&mut tx, &rows, now).await?;
        }
        bumps.write(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// Occurrences taken per statement: 8 parameters a run, well under both engines' limits.
const CHUNK: usize = 500;

/// One occurrence recorded as a run.
struct NewRun<'a> {
    id: String,
    occ: &'a Occurrence,
    status: &'static str,
    message: Option<&'a str>,
}

/// Moves each flow's fire time from `old` to `new` where it still is `old` (the compare-and-set,
/// one statement); answers the flows it moved, each with whether it has a queued or running run
/// (the occurrence then overlaps). Both in one statement: on SQLite each row answered costs a
/// hand-over between threads, and a second statement answering the same flows doubled that.
async fn move_fire_times(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    occs: &[&Occurrence],
) -> Result<HashMap<String, bool>> {
    if occs.is_empty() {
        return Ok(HashMap::new());
    }
    let mut p = Params::new(tx);
    let values = p.rows(occs.len(), 3);
    let sql = format!(
        "WITH v (id, old, new) AS (VALUES {values}) \
         UPDATE flows SET next_fire_at = v.new FROM v WHERE flows.id = v.id AND flows.next_fire_at = v.old \
         RETURNING flows.id AS id, (SELECT COUNT(*) FROM runs WHERE runs.flow_id = flows.id \
         AND runs.status IN ('queued', 'running')) AS active"
    );
    // Not kept in the statement cache: one per chunk size, each large.
    let mut q = sqlx::query(&sql).persistent(false);
    for o in occs {
        q = q.bind(o.flow_id.as_str()).bind(o.old).bind(o.new);
    }
    q.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((get::<String>(r, "id")?, get::<i64>(r, "active")? > 0)))
        .collect()
}

/// Records the occurrences as runs, in one statement.
async fn insert_runs(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    rows: &[NewRun<'_>],
    now: Millis,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut p = Params::new(tx);
    let values = p.rows(rows.len(), 8);
    let sql = format!(
        "INSERT INTO runs (id, flow_id, trigger, status, queued_at, finished_at, scheduled_for, message) VALUES {values}"
    );
    let mut q = sqlx::query(&sql).persistent(false);
    for r in rows {
        let finished = (r.status == "skipped").then_some(now);
        q = q
            .bind(r.id.as_str())
            .bind(r.occ.flow_id.as_str())
            .bind("schedule")
            .bind(r.status)
            .bind(now)
            .bind(finished)
            .bind(r.occ.old)
            .bind(r.message);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
