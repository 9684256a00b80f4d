//! Runs (処理) and their per-record errors: the execution history (処理履歴) and the queue.
//! "One run per flow at a time" is a partial unique index, so no process can break it.

use sqlx::any::AnyRow;

use crate::{get, is_unique_violation, Engine, Result, Store, StoreError};
use hub_domain::*;

const COLUMNS: &str = "id, flow_id, trigger, status, queued_at, started_at, finished_at, scheduled_for, attempt, \
    count_read, count_created, count_updated, count_unchanged, count_skipped, count_failed, count_warnings, message, expected_read";

/// What a finished run records ([`Store::finish_run_settling`]).
#[derive(Debug, Clone, Copy)]
pub struct Finished<'a> {
    pub status: RunStatus,
    pub counts: &'a RunCounts,
    pub message: Option<&'a str>,
    pub errors: &'a [RunError],
    pub warnings: &'a [RunWarning],
}

impl Store {
    /// Queues a run; `AlreadyRunning` if the flow has one queued or running.
    pub async fn enqueue_run(
        &self,
        flow_id: &str,
        trigger: Trigger,
        scheduled_for: Option<Millis>,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO runs (id, flow_id, trigger, status, queued_at, scheduled_for) VALUES ($1, $2, $3, 'queued', $4, $5)",
        )
        .bind(&id)
        .bind(flow_id)
        .bind(trigger.as_str())
        .bind(now)
        .bind(scheduled_for)
        .execute(&mut *tx)
        .await;
        queued(tx, r, flow_id, now).await?;
        Ok(id)
    }

    /// Queues a run that reads the flow's source again from the beginning (全件を取り込む): in one
    /// transaction with the run, the cursors named in `forget` are dropped and `set` saved, so
    /// the run cannot start from the old cursor and nothing is reset while another run is active
    /// (`AlreadyRunning`).
    pub async fn enqueue_reread(
        &self,
        flow_id: &str,
        trigger: Trigger,
        forget: &[&str],
        set: (&str, &str),
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO runs (id, flow_id, trigger, status, queued_at) VALUES ($1, $2, $3, 'queued', $4)",
        )
        .bind(&id)
        .bind(flow_id)
        .bind(trigger.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await;
        already_running(r, flow_id)?;
        crate::run_days::bump_one(&mut tx, flow_id, now, "queued").await?;
        for side in forget {
            sqlx::query("DELETE FROM cursors WHERE flow_id = $1 AND side = $2")
                .bind(flow_id)
                .bind(*side)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO cursors (flow_id, side, cursor, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (flow_id, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        )
        .bind(flow_id)
        .bind(set.0)
        .bind(set.1)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Queues attempt `attempt` of a failed run, not to start before `not_before`.
    pub async fn enqueue_retry(
        &self,
        flow_id: &str,
        attempt: i64,
        not_before: Millis,
        message: &str,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO runs (id, flow_id, trigger, status, queued_at, attempt, not_before, message) \
             VALUES ($1, $2, 'retry', 'queued', $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(flow_id)
        .bind(now)
        .bind(attempt)
        .bind(not_before)
        .bind(message)
        .execute(&mut *tx)
        .await;
        queued(tx, r, flow_id, now).await?;
        Ok(id)
    }

    /// Claims the oldest queued run for `owner` until `lease_until`. On PostgreSQL concurrent
    /// claimers skip each other's locked rows; SQLite serializes writers itself.
    pub async fn claim_next_run(&self, owner: &str, lease_until: Millis) -> Result<Option<Run>> {
        let lock = match self.engine {
            Engine::Postgres => " FOR UPDATE SKIP LOCKED",
            Engine::Sqlite => "",
        };
        let sql = format!(
            "UPDATE runs SET status = 'running', claimed_by = $1, lease_until = $2, started_at = COALESCE(started_at, $3) \
             WHERE id = (SELECT id FROM runs WHERE status = 'queued' AND (not_before IS NULL OR not_before <= $3) ORDER BY queued_at, id LIMIT 1{lock}) \
             AND status = 'queued' RETURNING {COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(lease_until)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
        let run = row.as_ref().map(run_from_row).transpose()?;
        if let Some(r) = &run {
            let mut b = crate::run_days::Bumps::default();
            b.moved(&r.flow_id, r.queued_at, "queued", "running");
            b.write(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(run)
    }

    /// Extends a claim; false if the run is no longer ours (lease lost).
    pub async fn renew_run_lease(
        &self,
        run_id: &str,
        owner: &str,
        lease_until: Millis,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE runs SET lease_until = $1 WHERE id = $2 AND claimed_by = $3 AND status = 'running'")
            .bind(lease_until)
            .bind(run_id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Saves running counts (for live progress) without finishing the run, only while `owner`
    /// holds it: false once its lease was lost or the run finished, so a late update can never
    /// overwrite another runner's counts or the final ones.
    pub async fn update_run_progress(
        &self,
        run_id: &str,
        owner: &str,
        counts: &RunCounts,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET count_read = $1, count_created = $2, count_updated = $3, count_unchanged = $4, \
             count_skipped = $5, count_failed = $6, count_warnings = $7 \
             WHERE id = $8 AND claimed_by = $9 AND status = 'running'",
        )
        .bind(counts.read)
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.skipped)
        .bind(counts.failed)
        .bind(counts.warnings)
        .bind(run_id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Saves how many records the running run expects to read (live progress's total).
    pub async fn set_run_expected(&self, run_id: &str, expected_read: i64) -> Result<()> {
        sqlx::query("UPDATE runs SET expected_read = $1 WHERE id = $2 AND status = 'running'")
            .bind(expected_read)
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records a run's result and its per-record errors (and warnings) in one transaction. The UPDATE comes
    /// first so that SQLite takes the write lock at once: a deferred transaction that read first
    /// could not upgrade while another process (a serving hub beside `hub run`) writes, and would
    /// fail with SQLITE_BUSY whatever the busy timeout.
    pub async fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        counts: &RunCounts,
        message: Option<&str>,
        errors: &[RunError],
    ) -> Result<()> {
        let result = Finished {
            status,
            counts,
            message,
            errors,
            warnings: &[],
        };
        self.finish_run_settling(run_id, &result, &crate::pending::PendingUpdate::Keep)
            .await
    }

    /// [`Store::finish_run`], settling the flow's pending records in the same transaction.
    pub async fn finish_run_settling(
        &self,
        run_id: &str,
        result: &Finished<'_>,
        pending: &crate::pending::PendingUpdate,
    ) -> Result<()> {
        self.finish(run_id, None, result, pending).await
    }

    /// [`Store::finish_run_settling`] by the runner that claimed the run: nothing is recorded
    /// (`LeaseLost`) unless `owner` still holds it, so a runner that lost its lease to another
    /// never writes a result, errors or settled pending records over the other's.
    pub async fn finish_claimed_run(
        &self,
        run_id: &str,
        owner: &str,
        result: &Finished<'_>,
        pending: &crate::pending::PendingUpdate,
    ) -> Result<()> {
        self.finish(run_id, Some(owner), result, pending).await
    }

    async fn finish(
        &self,
        run_id: &str,
        owner: Option<&str>,
        result: &Finished<'_>,
        pending: &crate::pending::PendingUpdate,
    ) -> Result<()> {
        let Finished {
            status,
            counts,
            message,
            errors,
            warnings,
        } = *result;
        let mut tx = self.begin_write().await?;
        let lock = match self.engine {
            Engine::Postgres => " FOR UPDATE",
            Engine::Sqlite => "",
        };
        let before = sqlx::query(&format!(
            "SELECT flow_id, status, queued_at FROM runs WHERE id = $1{lock}"
        ))
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE runs SET status = $1, finished_at = $2, count_read = $3, count_created = $4, count_updated = $5, \
             count_unchanged = $6, count_skipped = $7, count_failed = $8, count_warnings = $9, message = $10, lease_until = NULL \
             WHERE id = $11 AND ($12 IS NULL OR (claimed_by = $12 AND status = 'running'))",
        )
        .bind(status.as_str())
        .bind(now_ms())
        .bind(counts.read)
        .bind(counts.created)
        .bind(counts.updated)
        .bind(counts.unchanged)
        .bind(counts.skipped)
        .bind(counts.failed)
        .bind(counts.warnings)
        .bind(message)
        .bind(run_id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Err(match owner {
                Some(_) => StoreError::LeaseLost {
                    run: run_id.to_string(),
                },
                None => StoreError::NotFound {
                    what: "run",
                    id: run_id.to_string(),
                },
            });
        }
        if let Some(b) = &before {
            let mut bumps = crate::run_days::Bumps::default();
            let from = crate::run_days::status_name(&get::<String>(b, "status")?)?;
            let flow: String = get(b, "flow_id")?;
            bumps.moved(&flow, get(b, "queued_at")?, from, status.as_str());
            bumps.write(&mut tx).await?;
        }
        insert_run_errors(&mut tx, run_id, errors).await?;
        insert_run_warnings(&mut tx, run_id, warnings).await?;
        crate::pending::settle(&mut tx, run_id, pending, errors).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The flow's queued or running run, if any.
    pub async fn active_run(&self, flow_id: &str) -> Result<Option<Run>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runs WHERE flow_id = $1 AND status IN ('queued', 'running')"
        ))
        .bind(flow_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// Every queued or running run (one per flow at most), for the dashboard's progress bars.
    pub async fn active_runs(&self) -> Result<Vec<Run>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM runs WHERE status IN ('queued', 'running')"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    pub async fn get_run(&self, id: &str) -> Result<Run> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM runs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "run",
                id: id.to_string(),
            })?;
        run_from_row(&row)
    }

    pub async fn run_errors(&self, run_id: &str, limit: i64) -> Result<Vec<RunError>> {
        let rows = sqlx::query("SELECT record, side, code, message, title, url, field, value FROM run_errors WHERE run_id = $1 ORDER BY seq LIMIT $2")
            .bind(run_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RunError {
                    record: get(r, "record")?,
                    side: get(r, "side")?,
                    code: get(r, "code")?,
                    message: get(r, "message")?,
                    title: get(r, "title")?,
                    url: get(r, "url")?,
                    field: get(r, "field")?,
                    value: get(r, "value")?,
                })
            })
            .collect()
    }

    /// The run's warnings in the order they were met.
    pub async fn run_warnings(&self, run_id: &str, limit: i64) -> Result<Vec<RunWarning>> {
        let rows = sqlx::query("SELECT record, side, code, params, message, title FROM run_warnings WHERE run_id = $1 ORDER BY seq LIMIT $2")
            .bind(run_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(RunWarning {
                    record: get(r, "record")?,
                    side: get(r, "side")?,
                    code: get(r, "code")?,
                    params: crate::json_col(r, "params")?,
                    message: get(r, "message")?,
                    title: get(r, "title")?,
                })
            })
            .collect()
    }

    /// Newest first.
    pub async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<Run>> {
        let mut sql = format!("SELECT {COLUMNS} FROM runs WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if filter.flow.is_some() {
            sql += &format!(" AND flow_id = {}", next());
        }
        if filter.status.is_some() {
            sql += &format!(" AND status = {}", next());
        }
        if filter.trigger.is_some() {
            sql += &format!(" AND trigger = {}", next());
        }
        if filter.since.is_some() {
            sql += &format!(" AND queued_at >= {}", next());
        }
        if filter.until.is_some() {
            sql += &format!(" AND queued_at < {}", next());
        }
        sql += &format!(" ORDER BY queued_at DESC, id DESC LIMIT {}", next());
        let mut q = sqlx::query(&sql);
        if let Some(f) = &filter.flow {
            q = q.bind(f);
        }
        if let Some(s) = filter.status {
            q = q.bind(s.as_str());
        }
        if let Some(t) = filter.trigger {
            q = q.bind(t.as_str());
        }
        if let Some(s) = filter.since {
            q = q.bind(s);
        }
        if let Some(u) = filter.until {
            q = q.bind(u);
        }
        let rows = q
            .bind(filter.limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }
}

pub(crate) fn run_from_row(row: &AnyRow) -> Result<Run> {
    let trigger: String = get(row, "trigger")?;
    let status: String = get(row, "status")?;
    Ok(Run {
        id: get(row, "id")?,
        flow_id: get(row, "flow_id")?,
        trigger: Trigger::parse(&trigger)
            .ok_or_else(|| StoreError::Corrupt(format!("run trigger '{trigger}'")))?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("run status '{status}'")))?,
        queued_at: get(row, "queued_at")?,
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        scheduled_for: get(row, "scheduled_for")?,
        attempt: get(row, "attempt")?,
        counts: RunCounts {
            read: get(row, "count_read")?,
            created: get(row, "count_created")?,
            updated: get(row, "count_updated")?,
            unchanged: get(row, "count_unchanged")?,
            skipped: get(row, "count_skipped")?,
            failed: get(row, "count_failed")?,
            warnings: get(row, "count_warnings")?,
        },
        message: get(row, "message")?,
        expected_read: get(row, "expected_read")?,
    })
}

impl Store {
    pub async fn run_stats(&self) -> Result<RunStats> {
        let rows =
            sqlx::query("SELECT status, COUNT(*) AS n FROM runs GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        let by_status = rows
            .iter()
            .map(|r| Ok((get::<String>(r, "status")?, get::<i64>(r, "n")?)))
            .collect::<Result<Vec<_>>>()?;
        let sums = sqlx::query(
            "SELECT CAST(COALESCE(SUM(count_read), 0) AS BIGINT) AS r, CAST(COALESCE(SUM(count_created), 0) AS BIGINT) AS c, \
             CAST(COALESCE(SUM(count_updated), 0) AS BIGINT) AS u, CAST(COALESCE(SUM(count_unchanged), 0) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(count_skipped), 0) AS BIGINT) AS s, CAST(COALESCE(SUM(count_failed), 0) AS BIGINT) AS f FROM runs",
        )
        .fetch_one(&self.pool)
        .await?;
        let queued = by_status
            .iter()
            .find(|(s, _)| s == "queued")
            .map(|(_, n)| *n)
            .unwrap_or(0);
        Ok(RunStats {
            by_status,
            records: RunCounts {
                read: get(&sums, "r")?,
                created: get(&sums, "c")?,
                updated: get(&sums, "u")?,
                unchanged: get(&sums, "n")?,
                skipped: get(&sums, "s")?,
                failed: get(&sums, "f")?,
                warnings: 0,
            },
            queued,
        })
    }
}

/// The last `seq` of the run's rows in `table` (`run_errors`, `run_warnings`), 0 when none.
async fn last_seq(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
    run_id: &str,
) -> Result<i64> {
    get(
        &sqlx::query(&format!(
            "SELECT COALESCE(MAX(seq), 0) AS n FROM {table} WHERE run_id = $1"
        ))
        .bind(run_id)
        .fetch_one(&mut **tx)
        .await?,
        "n",
    )
}

/// Appends errors after those the run already has (a resumed run keeps its earlier ones).
async fn insert_run_errors(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    run_id: &str,
    errors: &[RunError],
) -> Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    let next = last_seq(tx, "run_errors", run_id).await?;
    for (i, e) in errors.iter().enumerate() {
        sqlx::query("INSERT INTO run_errors (run_id, seq, record, side, code, message, title, url, field, value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(run_id)
            .bind(next + 1 + i as i64)
            .bind(&e.record)
            .bind(&e.side)
            .bind(&e.code)
            .bind(&e.message)
            .bind(&e.title)
            .bind(&e.url)
            .bind(&e.field)
            .bind(&e.value)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Appends warnings after those the run already has (a resumed run keeps its earlier ones).
async fn insert_run_warnings(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    run_id: &str,
    warnings: &[RunWarning],
) -> Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let next = last_seq(tx, "run_warnings", run_id).await?;
    for (i, w) in warnings.iter().enumerate() {
        let params = crate::to_json(&w.params)?;
        sqlx::query("INSERT INTO run_warnings (run_id, seq, record, side, code, params, message, title) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(run_id)
            .bind(next + 1 + i as i64)
            .bind(&w.record)
            .bind(&w.side)
            .bind(&w.code)
            .bind(params)
            .bind(&w.message)
            .bind(&w.title)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Maps a unique violation of the insert `r` (the flow has an active run) to `AlreadyRunning`.
pub(crate) fn already_running(
    r: std::result::Result<sqlx::any::AnyQueryResult, sqlx::Error>,
    flow_id: &str,
) -> Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyRunning {
            flow: flow_id.to_string(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Finishes queueing one run of `flow_id` at `now` whose insert was `r`: counts it in the
/// rollup and commits.
pub(crate) async fn queued(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    r: std::result::Result<sqlx::any::AnyQueryResult, sqlx::Error>,
    flow_id: &str,
    now: Millis,
) -> Result<()> {
    already_running(r, flow_id)?;
    crate::run_days::bump_one(&mut tx, flow_id, now, "queued").await?;
    tx.commit().await?;
    Ok(())
}
