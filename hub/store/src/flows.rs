//! Flows (連携サービス): the API's flow JSON is kept whole in `spec`; the columns the scheduler
//! and joins need are copied out of it.

use sqlx::any::AnyRow;

use crate::{get, json_col, to_json, Result, Store, StoreError};
use hub_domain::*;

const COLUMNS: &str = "id, spec, next_fire_at, created_at, updated_at";

impl Store {
    pub async fn insert_flow(
        &self,
        spec: &FlowSpec,
        next_fire_at: Option<Millis>,
    ) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        sqlx::query(
            "INSERT INTO flows (id, name, source_connection, source_object, target_connection, target_object, \
             spec, enabled, schedule_cron, schedule_tz, next_fire_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(&spec.name)
        .bind(&spec.source.connection)
        .bind(&spec.source.object)
        .bind(&spec.target.connection)
        .bind(&spec.target.object)
        .bind(to_json(spec)?)
        .bind(spec.enabled as i64)
        .bind(spec.schedule.as_ref().map(|s| s.cron.clone()))
        .bind(spec.schedule.as_ref().map(|s| s.timezone.clone()))
        .bind(next_fire_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.save_notify_secret(&id, spec).await?;
        Ok(id)
    }

    pub async fn update_flow(
        &self,
        id: &str,
        spec: &FlowSpec,
        next_fire_at: Option<Millis>,
    ) -> Result<Flow> {
        let done = sqlx::query(
            "UPDATE flows SET name = $1, source_connection = $2, source_object = $3, target_connection = $4, \
             target_object = $5, spec = $6, enabled = $7, schedule_cron = $8, schedule_tz = $9, next_fire_at = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(&spec.name)
        .bind(&spec.source.connection)
        .bind(&spec.source.object)
        .bind(&spec.target.connection)
        .bind(&spec.target.object)
        .bind(to_json(spec)?)
        .bind(spec.enabled as i64)
        .bind(spec.schedule.as_ref().map(|s| s.cron.clone()))
        .bind(spec.schedule.as_ref().map(|s| s.timezone.clone()))
        .bind(next_fire_at)
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        self.save_notify_secret(id, spec).await?;
        self.get_flow(id).await
    }

    /// Keeps the webhook URL and token encrypted beside the flow (the spec JSON only ever holds
    /// "[REDACTED]"). A redacted or empty URL keeps what is stored; no webhook clears it.
    async fn save_notify_secret(&self, id: &str, spec: &FlowSpec) -> Result<()> {
        let webhook = spec.notify.as_ref().and_then(|n| n.webhook.as_ref());
        let value = match webhook {
            None => None,
            Some(w) if w.url.is_empty() || w.url.expose() == "[REDACTED]" => return Ok(()),
            Some(w) => {
                let plain = serde_json::json!({"url": w.url.expose(), "token": w.token.as_ref().map(|t| t.expose())});
                Some(
                    self.cipher
                        .encrypt(&plain.to_string(), &format!("flow:{id}:notify")),
                )
            }
        };
        sqlx::query("UPDATE flows SET notify_secret_enc = $1 WHERE id = $2")
            .bind(value)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The decrypted webhook URL and token of a flow, for sending a notification.
    pub async fn flow_notify_secret(
        &self,
        id: &str,
    ) -> Result<Option<(connector_sdk::Secret, Option<connector_sdk::Secret>)>> {
        let row = sqlx::query("SELECT notify_secret_enc FROM flows WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found(id))?;
        let Some(enc) = get::<Option<String>>(&row, "notify_secret_enc")? else {
            return Ok(None);
        };
        let plain = self.cipher.decrypt(&enc, &format!("flow:{id}:notify"))?;
        let v: serde_json::Value = serde_json::from_str(&plain)
            .map_err(|e| StoreError::Corrupt(format!("notify secret: {e}")))?;
        let url = connector_sdk::Secret::new(v["url"].as_str().unwrap_or_default());
        let token = v["token"].as_str().map(connector_sdk::Secret::new);
        Ok(Some((url, token)))
    }

    pub async fn get_flow(&self, id: &str) -> Result<Flow> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM flows WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| not_found(id))?;
        flow_from_row(&row)
    }

    pub async fn list_flows(&self) -> Result<Vec<Flow>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM flows ORDER BY created_at"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(flow_from_row).collect()
    }

    /// Deletes a flow with its runs, links and cursors; refused while a run is queued or running.
    pub async fn delete_flow(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let active: i64 = get(
            &sqlx::query("SELECT COUNT(*) AS n FROM runs WHERE flow_id = $1 AND status IN ('queued', 'running')")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?,
            "n",
        )?;
        if active > 0 {
            return Err(StoreError::AlreadyRunning {
                flow: id.to_string(),
            });
        }
        for table in [
            "run_errors WHERE run_id IN (SELECT id FROM runs WHERE flow_id = $1)",
            "run_warnings WHERE run_id IN (SELECT id FROM runs WHERE flow_id = $1)",
            "runs WHERE flow_id = $1",
            "links WHERE flow_id = $1",
            "cursors WHERE flow_id = $1",
        ] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let done = sqlx::query("DELETE FROM flows WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found(id));
        }
        tx.commit().await?;
        Ok(())
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "flow",
        id: id.to_string(),
    }
}

fn flow_from_row(row: &AnyRow) -> Result<Flow> {
    Ok(Flow {
        id: get(row, "id")?,
        spec: json_col(row, "spec")?,
        next_fire_at: get(row, "next_fire_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}
