//! The runs-per-day rollup (`run_days`): how many runs each flow has per day and status, so the
//! history's chart reads a few hundred rows instead of counting a month of runs.
//!
//! Invariant: for every (day, flow, status), `run_days.runs` equals the number of `runs` rows
//! with that flow and status queued that day (Japan time). Every statement that inserts a run
//! or changes its status bumps the rollup in the same transaction; a flow's rows go with the
//! flow (`ON DELETE CASCADE`). Rows may hold 0 and are not listed.

use std::collections::BTreeMap;

use crate::params::Params;
use crate::{get, Result, Store, StoreError};
use hub_domain::*;

/// The rollup's days are counted in this zone: Japan (UTC+9, no daylight saving).
pub const DAY_OFFSET_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The rollup's day of a run queued at `queued_at`.
pub fn day_of(queued_at: Millis) -> i64 {
    (queued_at + DAY_OFFSET_MS).div_euclid(DAY_MS)
}

/// Changes to the rollup, summed before they are written (one statement for a whole batch).
#[derive(Debug, Default)]
pub(crate) struct Bumps(BTreeMap<(i64, String, &'static str), i64>);

impl Bumps {
    pub(crate) fn add(
        &mut self,
        flow_id: &str,
        queued_at: Millis,
        status: &'static str,
        delta: i64,
    ) {
        *self
            .0
            .entry((day_of(queued_at), flow_id.to_string(), status))
            .or_default() += delta;
    }

    /// A run of `flow_id` queued at `queued_at` went from status `from` to `to`.
    pub(crate) fn moved(
        &mut self,
        flow_id: &str,
        queued_at: Millis,
        from: &'static str,
        to: &'static str,
    ) {
        if from != to {
            self.add(flow_id, queued_at, from, -1);
            self.add(flow_id, queued_at, to, 1);
        }
    }

    pub(crate) async fn write(self, tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
        let rows: Vec<_> = self.0.into_iter().filter(|(_, n)| *n != 0).collect();
        // 4 parameters a row: well under both engines' limits.
        for chunk in rows.chunks(1000) {
            let mut p = Params::new(tx);
            let values = p.rows(chunk.len(), 4);
            let sql = format!(
                "INSERT INTO run_days (day, flow_id, status, runs) VALUES {values} \
                 ON CONFLICT (day, flow_id, status) DO UPDATE SET runs = run_days.runs + excluded.runs"
            );
            // Not kept in the statement cache: one per chunk size, each large.
            let mut q = sqlx::query(&sql).persistent(false);
            for ((day, flow, status), n) in chunk {
                q = q.bind(*day).bind(flow.as_str()).bind(*status).bind(*n);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// Adds one run of `flow_id`, queued at `queued_at`, with `status`.
pub(crate) async fn bump_one(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    flow_id: &str,
    queued_at: Millis,
    status: &'static str,
) -> Result<()> {
    let mut b = Bumps::default();
    b.add(flow_id, queued_at, status, 1);
    b.write(tx).await
}

/// A run's status as a `'static` name (for the rollup's keys).
pub(crate) fn status_name(status: &str) -> Result<&'static str> {
    RunStatus::parse(status)
        .map(|s| s.as_str())
        .ok_or_else(|| StoreError::Corrupt(format!("run status '{status}'")))
}

impl Store {
    /// Rebuilds the rollup from the runs (for rows written around the store, e.g. the bench's
    /// bulk insert); the store keeps it up to date itself.
    pub async fn rebuild_run_days(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM run_days")
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO run_days (day, flow_id, status, runs) \
             SELECT CAST((queued_at + $1) / $2 AS BIGINT), flow_id, status, COUNT(*) FROM runs GROUP BY 1, 2, 3",
        )
        .bind(DAY_OFFSET_MS)
        .bind(DAY_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per-day counts from the rollup: days from `first_day` on, of one flow or all.
    pub(crate) async fn rollup_per_day(
        &self,
        flow: Option<&str>,
        first_day: i64,
    ) -> Result<Vec<DayCount>> {
        let sql = match flow {
            Some(_) => "SELECT day, status, runs AS n FROM run_days WHERE flow_id = $2 AND day >= $1 AND runs <> 0",
            None => "SELECT day, status, CAST(SUM(runs) AS BIGINT) AS n FROM run_days WHERE day >= $1 \
                     GROUP BY day, status HAVING SUM(runs) <> 0",
        };
        let mut q = sqlx::query(sql).bind(first_day);
        if let Some(f) = flow {
            q = q.bind(f);
        }
        day_counts(&q.fetch_all(&self.pool).await?)
    }
}

impl Store {
    /// Runs per day and status since `since` (optionally of one flow), days counted in the zone
    /// `utc_offset_ms` ahead of UTC. From the rollup when `since` starts a day in its zone (the
    /// history's chart: a month of history can hold a million runs); otherwise counted over the
    /// runs.
    pub async fn runs_per_day(
        &self,
        flow: Option<&str>,
        since: Millis,
        utc_offset_ms: i64,
    ) -> Result<Vec<DayCount>> {
        if utc_offset_ms == DAY_OFFSET_MS && (since + DAY_OFFSET_MS).rem_euclid(DAY_MS) == 0 {
            return self.rollup_per_day(flow, day_of(since)).await;
        }
        let by_flow = if flow.is_some() {
            " AND flow_id = $3"
        } else {
            ""
        };
        let sql = format!(
            "SELECT CAST((queued_at + $1) / 86400000 AS BIGINT) AS day, status, COUNT(*) AS n FROM runs \
             WHERE queued_at >= $2{by_flow} GROUP BY 1, 2"
        );
        let mut q = sqlx::query(&sql).bind(utc_offset_ms).bind(since);
        if let Some(f) = flow {
            q = q.bind(f);
        }
        day_counts(&q.fetch_all(&self.pool).await?)
    }
}

/// Rows of `day`, `status` and `n` as the history's day counts.
fn day_counts(rows: &[sqlx::any::AnyRow]) -> Result<Vec<DayCount>> {
    rows.iter()
        .map(|r| {
            let status: String = get(r, "status")?;
            Ok(DayCount {
                day: get(r, "day")?,
                status: RunStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("run status '{status}'")))?,
                runs: get(r, "n")?,
            })
        })
        .collect()
}
