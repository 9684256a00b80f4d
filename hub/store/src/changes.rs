//! What each run changed, for 元に戻す (undo), and the runs that act on another run (undo,
//! 失敗分のみ再実行). Change rows are written by `commit_page` in the transaction that moves the
//! page's links and cursor, so a row exists exactly when its write was acknowledged.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use std::collections::HashMap;

use crate::links::Link;
use crate::params::Params;
use crate::{get, Result, Store, StoreError};
use hub_domain::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Created,
    Updated,
    Deleted,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Created => "created",
            ChangeAction::Updated => "updated",
            ChangeAction::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "created" => ChangeAction::Created,
            "updated" => ChangeAction::Updated,
            "deleted" => ChangeAction::Deleted,
            _ => return None,
        })
    }
}

/// One record a run wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct RunChange {
    pub run_id: String,
    /// `target`, or `source` when a two-way flow wrote back.
    pub side: String,
    pub object: String,
    /// The written record's id (for a created record, the id it got).
    pub record_id: String,
    /// The record as the run's history names it.
    pub label: String,
    pub action: ChangeAction,
    /// The written fields as they were (JSON object); `None` for a created record, or when
    /// the target found the record by its own key and never showed it to the hub.
    pub before: Option<String>,
    pub after_version: Option<String>,
    pub after_modified: Option<String>,
    /// The flow's link of this record before the run.
    pub prior_link: Option<Link>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredChange {
    pub seq: i64,
    pub change: RunChange,
    pub undone_by: Option<String>,
}

/// A change row restored by an undo run, marked in the transaction that restores its link.
#[derive(Debug, Clone, PartialEq)]
pub struct Undone {
    pub run_id: String,
    pub seq: i64,
    pub by: String,
}

fn change_from_row(r: &AnyRow) -> Result<StoredChange> {
    let action: String = get(r, "action")?;
    let prior: Option<String> = get(r, "prior_link")?;
    let prior_link = prior
        .map(|p| serde_json::from_str::<Link>(&p))
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("run_changes.prior_link: {e}")))?;
    Ok(StoredChange {
        seq: get(r, "seq")?,
        undone_by: get(r, "undone_by")?,
        change: RunChange {
            run_id: get(r, "run_id")?,
            side: get(r, "side")?,
            object: get(r, "object")?,
            record_id: get(r, "record_id")?,
            label: get(r, "label")?,
            action: ChangeAction::parse(&action)
                .ok_or_else(|| StoreError::Corrupt(format!("run change action '{action}'")))?,
            before: get(r, "before_fields")?,
            after_version: get(r, "after_version")?,
            after_modified: get(r, "after_modified")?,
            prior_link,
        },
    })
}

fn request_from_row(r: &AnyRow) -> Result<RunRequest> {
    let kind: String = get(r, "kind")?;
    Ok(RunRequest {
        run_id: get(r, "run_id")?,
        kind: RunKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("run request kind '{kind}'")))?,
        of_run: get(r, "of_run")?,
    })
}

/// Rows one insert takes (11 binds each: well under both databases' parameter limits).
const ROWS_PER_INSERT: usize = 500;

/// Appends change rows after those their run already has (inside `commit_page`'s transaction),
/// a few hundred rows a statement.
pub(crate) async fn insert_changes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    changes: &[RunChange],
) -> Result<()> {
    let mut next: HashMap<&str, i64> = HashMap::new();
    let mut rows = Vec::with_capacity(changes.len());
    for c in changes {
        let seq = match next.get(c.run_id.as_str()) {
            Some(n) => *n,
            None => {
                get::<i64>(
                    &sqlx::query(
                        "SELECT COALESCE(MAX(seq), 0) AS n FROM run_changes WHERE run_id = $1",
                    )
                    .bind(&c.run_id)
                    .fetch_one(&mut **tx)
                    .await?,
                    "n",
                )? + 1
            }
        };
        next.insert(&c.run_id, seq + 1);
        let prior = c
            .prior_link
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        rows.push((c, seq, prior));
    }
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut p = Params::new(tx);
        let values = p.rows(chunk.len(), 11);
        let sql = format!(
            "INSERT INTO run_changes (run_id, seq, side, object, record_id, label, action, before_fields, \
             after_version, after_modified, prior_link) VALUES {values}"
        );
        // Not kept in the statement cache: one per chunk size, each large.
        let mut q = sqlx::query(&sql).persistent(false);
        for (c, seq, prior) in chunk {
            q = q
                .bind(&c.run_id)
                .bind(*seq)
                .bind(&c.side)
                .bind(&c.object)
                .bind(&c.record_id)
                .bind(&c.label)
                .bind(c.action.as_str())
                .bind(&c.before)
                .bind(&c.after_version)
                .bind(&c.after_modified)
                .bind(prior.as_deref());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) async fn mark_undone(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    undone: &[Undone],
) -> Result<()> {
    for u in undone {
        sqlx::query("UPDATE run_changes SET undone_by = $1 WHERE run_id = $2 AND seq = $3")
            .bind(&u.by)
            .bind(&u.run_id)
            .bind(u.seq)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// A run's changes after `after_seq`, in order, at most `limit`.
    pub async fn run_changes(
        &self,
        run_id: &str,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<StoredChange>> {
        let rows = sqlx::query(
            "SELECT run_id, seq, side, object, record_id, label, action, before_fields, after_version, \
             after_modified, prior_link, undone_by FROM run_changes WHERE run_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .bind(run_id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    /// `(all, not yet undone)` change rows of a run.
    pub async fn count_run_changes(&self, run_id: &str) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CASE WHEN undone_by IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS open \
             FROM run_changes WHERE run_id = $1",
        )
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((get(&row, "n")?, get(&row, "open")?))
    }

    /// Queues a run that acts on run `of_run` (one transaction with its request row);
    /// `AlreadyRunning` if the flow has a run queued or running.
    pub async fn enqueue_request(
        &self,
        flow_id: &str,
        trigger: Trigger,
        kind: RunKind,
        of_run: &str,
        message: &str,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "INSERT INTO runs (id, flow_id, trigger, status, queued_at, message) VALUES ($1, $2, $3, 'queued', $4, $5)",
        )
        .bind(&id)
        .bind(flow_id)
        .bind(trigger.as_str())
        .bind(now)
        .bind(message)
        .execute(&mut *tx)
        .await;
        crate::runs::already_running(r, flow_id)?;
        crate::run_days::bump_one(&mut tx, flow_id, now, "queued").await?;
        sqlx::query("INSERT INTO run_requests (run_id, kind, of_run) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(kind.as_str())
            .bind(of_run)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// What a run was queued to do, when it acts on another run.
    pub async fn run_request(&self, run_id: &str) -> Result<Option<RunRequest>> {
        let row = sqlx::query("SELECT run_id, kind, of_run FROM run_requests WHERE run_id = $1")
            .bind(run_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// The runs queued to act on `of_run`, oldest first.
    pub async fn requests_of(&self, of_run: &str) -> Result<Vec<RunRequest>> {
        let rows = sqlx::query(
            "SELECT q.run_id, q.kind, q.of_run FROM run_requests q JOIN runs r ON r.id = q.run_id \
             WHERE q.of_run = $1 ORDER BY r.queued_at, r.id",
        )
        .bind(of_run)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// Records where each side's read starts as a run begins; a resumed run keeps the first.
    pub async fn save_start_cursors(
        &self,
        run_id: &str,
        cursors: &[(&str, Option<String>)],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for (side, cursor) in cursors {
            sqlx::query(
                "INSERT INTO run_start_cursors (run_id, side, cursor) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_id, side) DO NOTHING",
            )
            .bind(run_id)
            .bind(side)
            .bind(cursor)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where each side's read started in a run (side → cursor; `None` = from the beginning).
    /// Empty for runs recorded before this was kept.
    pub async fn start_cursors(&self, run_id: &str) -> Result<HashMap<String, Option<String>>> {
        let rows = sqlx::query("SELECT side, cursor FROM run_start_cursors WHERE run_id = $1")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((get(r, "side")?, get(r, "cursor")?)))
            .collect()
    }
}
