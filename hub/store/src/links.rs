//! Links (source record ↔ target record per flow, with what was last synced) and cursors
//! (where each side's next incremental read starts). Both move only in `commit_page`, in one
//! transaction, after the target acknowledged the writes: a crash loses nothing and a rerun
//! repeats at most the unacknowledged page, which the upsert makes harmless.

use sqlx::any::AnyRow;
use std::collections::{HashMap, HashSet};

use crate::changes::{insert_changes, mark_undone, RunChange, Undone};
use crate::params::Params;
use crate::{get, Result, Store};
use hub_domain::*;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub source_id: String,
    pub target_id: String,
    pub source_fingerprint: Option<String>,
    pub target_fingerprint: Option<String>,
    pub source_version: Option<String>,
    pub target_version: Option<String>,
    /// The mapped fields as last synced (JSON), for three-way merges.
    pub synced_copy: Option<String>,
}

const COLUMNS: &str = "source_id, target_id, source_fingerprint, target_fingerprint, source_version, target_version, synced_copy";

fn link_from_row(r: &AnyRow) -> Result<Link> {
    Ok(Link {
        source_id: get(r, "source_id")?,
        target_id: get(r, "target_id")?,
        source_fingerprint: get(r, "source_fingerprint")?,
        target_fingerprint: get(r, "target_fingerprint")?,
        source_version: get(r, "source_version")?,
        target_version: get(r, "target_version")?,
        synced_copy: get(r, "synced_copy")?,
    })
}

/// What one processed page changes, applied atomically.
#[derive(Debug, Default)]
pub struct PageCommit {
    pub upsert_links: Vec<Link>,
    pub delete_links_by_source: Vec<String>,
    /// `(side, cursor)` to save.
    pub cursors: Vec<(String, String)>,
    /// What the page's writes changed, kept for undo (`changes.rs`).
    pub changes: Vec<RunChange>,
    /// Change rows an undo restored.
    pub undone: Vec<Undone>,
    /// Records the pages failed on, kept pending for run `.0` at once: the cursor may move
    /// past them, and a run killed before it finishes settles nothing (`pending.rs`).
    pub failed: Option<(String, Vec<RunError>)>,
}

impl Store {
    pub async fn get_cursor(&self, flow_id: &str, side: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT cursor FROM cursors WHERE flow_id = $1 AND side = $2")
            .bind(flow_id)
            .bind(side)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "cursor")).transpose()
    }

    /// Links of the given source ids, keyed by source id (missing ids are simply absent).
    pub async fn links_by_source(
        &self,
        flow_id: &str,
        source_ids: &[String],
    ) -> Result<HashMap<String, Link>> {
        self.links_by(flow_id, "source_id", source_ids).await
    }

    /// Links of the given target ids, keyed by target id.
    pub async fn links_by_target(
        &self,
        flow_id: &str,
        target_ids: &[String],
    ) -> Result<HashMap<String, Link>> {
        self.links_by(flow_id, "target_id", target_ids).await
    }

    async fn links_by(
        &self,
        flow_id: &str,
        column: &'static str,
        ids: &[String],
    ) -> Result<HashMap<String, Link>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(200) {
            let placeholders: Vec<String> =
                (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM links WHERE flow_id = $1 AND {column} IN ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(flow_id);
            for id in chunk {
                q = q.bind(id);
            }
            for row in q.fetch_all(&self.pool).await? {
                let l = link_from_row(&row)?;
                let key = if column == "source_id" {
                    l.source_id.clone()
                } else {
                    l.target_id.clone()
                };
                out.insert(key, l);
            }
        }
        Ok(out)
    }

    pub async fn link_by_target(&self, flow_id: &str, target_id: &str) -> Result<Option<Link>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM links WHERE flow_id = $1 AND target_id = $2"
        ))
        .bind(flow_id)
        .bind(target_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(link_from_row).transpose()
    }

    pub async fn count_links(&self, flow_id: &str) -> Result<i64> {
        get(
            &sqlx::query("SELECT COUNT(*) AS n FROM links WHERE flow_id = $1")
                .bind(flow_id)
                .fetch_one(&self.pool)
                .await?,
            "n",
        )
    }

    pub async fn commit_page(&self, flow_id: &str, page: &PageCommit) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        for source_id in &page.delete_links_by_source {
            sqlx::query("DELETE FROM links WHERE flow_id = $1 AND source_id = $2")
                .bind(flow_id)
                .bind(source_id)
                .execute(&mut *tx)
                .await?;
        }
        upsert_links(&mut tx, flow_id, &page.upsert_links, now).await?;
        for (side, cursor) in &page.cursors {
            sqlx::query(
                "INSERT INTO cursors (flow_id, side, cursor, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (flow_id, side) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(flow_id)
            .bind(side)
            .bind(cursor)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        insert_changes(&mut tx, &page.changes).await?;
        mark_undone(&mut tx, &page.undone).await?;
        if let Some((run_id, errors)) = &page.failed {
            crate::pending::put(&mut tx, flow_id, run_id, errors).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims one specific queued run (the foreground `hub run`).
    pub async fn claim_run(&self, run_id: &str, owner: &str, lease_until: Millis) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE runs SET status = 'running', claimed_by = $1, lease_until = $2, started_at = COALESCE(started_at, $3) \
             WHERE id = $4 AND status = 'queued' RETURNING flow_id, queued_at",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now_ms())
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let mut b = crate::run_days::Bumps::default();
        let flow: String = crate::get(&row, "flow_id")?;
        b.moved(&flow, crate::get(&row, "queued_at")?, "queued", "running");
        b.write(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}

/// Rows a multi-row statement takes (9 binds each: well under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// Saves links the way one statement per link in order would, in a few multi-row statements:
/// the last link of a source wins, and a target re-linked to another source (matched by key)
/// drops its old link.
async fn upsert_links(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    flow_id: &str,
    links: &[Link],
    now: i64,
) -> Result<()> {
    let (mut sources, mut targets) = (HashSet::new(), HashSet::new());
    let mut last: Vec<&Link> = links
        .iter()
        .rev()
        .filter(|l| sources.insert(&l.source_id) & targets.insert(&l.target_id))
        .collect();
    last.reverse();
    for chunk in last.chunks(ROWS_PER_STATEMENT) {
        let mut p = Params::new(tx);
        let flow = p.next();
        let targets = p.list(chunk.len());
        let pairs = p.rows(chunk.len(), 2);
        // Placeholders are bound in the order they appear; the target list finds the few rows
        // through the (flow_id, target_id) index before the pairs are compared.
        let sql = format!(
            "DELETE FROM links WHERE flow_id = {flow} AND target_id IN ({targets}) \
             AND (target_id, source_id) NOT IN (VALUES {pairs})"
        );
        // Not kept in the statement cache: one per chunk size, each large.
        let mut q = sqlx::query(&sql).persistent(false).bind(flow_id);
        for l in chunk {
            q = q.bind(&l.target_id);
        }
        for l in chunk {
            q = q.bind(&l.target_id).bind(&l.source_id);
        }
        q.execute(&mut **tx).await?;
        let mut p = Params::new(tx);
        let rows = p.rows(chunk.len(), 9);
        let sql = format!(
            "INSERT INTO links (flow_id, source_id, target_id, source_fingerprint, target_fingerprint, source_version, \
             target_version, synced_copy, updated_at) VALUES {rows} \
             ON CONFLICT (flow_id, source_id) DO UPDATE SET target_id = excluded.target_id, \
             source_fingerprint = excluded.source_fingerprint, target_fingerprint = excluded.target_fingerprint, \
             source_version = excluded.source_version, target_version = excluded.target_version, \
             synced_copy = excluded.synced_copy, updated_at = excluded.updated_at"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for l in chunk {
            q = q
                .bind(flow_id)
                .bind(&l.source_id)
                .bind(&l.target_id)
                .bind(&l.source_fingerprint)
                .bind(&l.target_fingerprint)
                .bind(&l.source_version)
                .bind(&l.target_version)
                .bind(&l.synced_copy)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
