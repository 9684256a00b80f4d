//! The connectors the hub has seen (a snapshot of the last plugin discovery), so a connection
//! whose plugin disappeared can still be shown with its connector's name and version.

use connector_sdk::Manifest;

use crate::{json_col, to_json, Result, Store};
use hub_domain::*;

#[derive(Debug, Clone)]
pub struct SeenConnector {
    pub id: String,
    pub version: String,
    pub sdk_version: String,
    pub file: String,
    pub manifest: Manifest,
}

impl Store {
    pub async fn record_connectors(&self, seen: &[SeenConnector]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let now = now_ms();
        for c in seen {
            sqlx::query(
                "INSERT INTO connectors (id, version, sdk_version, file, manifest, seen_at) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, sdk_version = excluded.sdk_version, \
                 file = excluded.file, manifest = excluded.manifest, seen_at = excluded.seen_at",
            )
            .bind(&c.id)
            .bind(&c.version)
            .bind(&c.sdk_version)
            .bind(&c.file)
            .bind(to_json(&c.manifest)?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn seen_connectors(&self) -> Result<Vec<SeenConnector>> {
        let rows = sqlx::query(
            "SELECT id, version, sdk_version, file, manifest FROM connectors ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SeenConnector {
                    id: crate::get(r, "id")?,
                    version: crate::get(r, "version")?,
                    sdk_version: crate::get(r, "sdk_version")?,
                    file: crate::get(r, "file")?,
                    manifest: json_col(r, "manifest")?,
                })
            })
            .collect()
    }
}
