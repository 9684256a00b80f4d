//! Pending records: what a flow's runs failed on and no run has written since. A record stays
//! pending until a run writes it or a person dismisses it; every ordinary run tries the pending
//! ones first (the engine), and a run is a success only when none is left.
//!
//! A run settles the pending set in the transaction that records its result
//! ([`Store::finish_run_settling`]): the records it tried are taken off, and the ones it failed
//! on are put (back) on.

use std::collections::HashMap;

use crate::{get, Result, Store};
use hub_domain::*;

/// What a finished run does to its flow's pending records.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingUpdate {
    /// Nothing (an undo).
    Keep,
    /// Take `tried` off, then put the run's failed records on.
    Settle { tried: Vec<String> },
}

impl Store {
    /// The flow's pending records, oldest first.
    pub async fn pending_records(&self, flow_id: &str) -> Result<Vec<PendingRecord>> {
        let rows = sqlx::query(
            "SELECT record, side, code, message, title, first_run_id, last_run_id, since \
             FROM pending_records WHERE flow_id = $1 ORDER BY since, record",
        )
        .bind(flow_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingRecord {
                    record: get(r, "record")?,
                    side: get(r, "side")?,
                    code: get(r, "code")?,
                    message: get(r, "message")?,
                    title: get(r, "title")?,
                    first_run_id: get(r, "first_run_id")?,
                    last_run_id: get(r, "last_run_id")?,
                    since: get(r, "since")?,
                })
            })
            .collect()
    }

    /// How many records are pending, per flow that has any.
    pub async fn pending_counts(&self) -> Result<HashMap<String, i64>> {
        let rows =
            sqlx::query("SELECT flow_id, COUNT(*) AS n FROM pending_records GROUP BY flow_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| Ok((get(r, "flow_id")?, get(r, "n")?)))
            .collect()
    }

    /// A person decided these records need nothing more (all of the flow's when `records` is
    /// `None`); answers how many were dismissed.
    pub async fn dismiss_pending(&self, flow_id: &str, records: Option<&[String]>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = match records {
            None => sqlx::query("DELETE FROM pending_records WHERE flow_id = $1")
                .bind(flow_id)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            Some(ids) => {
                let mut n = 0;
                for id in ids {
                    n += sqlx::query(
                        "DELETE FROM pending_records WHERE flow_id = $1 AND record = $2",
                    )
                    .bind(flow_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                n
            }
        };
        tx.commit().await?;
        Ok(n)
    }
}

/// Inside the transaction that records run `run_id`'s result.
pub(crate) async fn settle(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    run_id: &str,
    update: &PendingUpdate,
    errors: &[RunError],
) -> Result<()> {
    let PendingUpdate::Settle { tried } = update else {
        return Ok(());
    };
    let flow_id: String = get(
        &sqlx::query("SELECT flow_id FROM runs WHERE id = $1")
            .bind(run_id)
            .fetch_one(&mut **tx)
            .await?,
        "flow_id",
    )?;
    for record in tried {
        sqlx::query("DELETE FROM pending_records WHERE flow_id = $1 AND record = $2")
            .bind(&flow_id)
            .bind(record)
            .execute(&mut **tx)
            .await?;
    }
    put(tx, &flow_id, run_id, errors).await
}

/// Puts records run `run_id` failed on (back) on its flow's pending set: a record already
/// pending keeps its first run and time.
pub(crate) async fn put(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    flow_id: &str,
    run_id: &str,
    errors: &[RunError],
) -> Result<()> {
    let now = now_ms();
    for e in errors {
        sqlx::query(
            "INSERT INTO pending_records (flow_id, record, side, code, message, first_run_id, last_run_id, since, title) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) \
             ON CONFLICT (flow_id, record) DO UPDATE SET side = excluded.side, code = excluded.code, \
             message = excluded.message, last_run_id = excluded.last_run_id, \
             title = COALESCE(excluded.title, pending_records.title)",
        )
        .bind(flow_id)
        .bind(&e.record)
        .bind(&e.side)
        .bind(&e.code)
        .bind(&e.message)
        .bind(run_id)
        .bind(now)
        .bind(&e.title)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
