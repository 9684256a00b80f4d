//! Connections (接続): settings in the clear, credentials and tokens encrypted per row.

use connector_sdk::Secret;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use std::collections::BTreeMap;

use crate::{get, json_col, to_json, Result, Store, StoreError};
use hub_domain::*;

const COLUMNS: &str =
    "id, connector_id, name, settings, registration_number, phone, credential_keys, \
    token_expires_at, token_refreshed_at, access_token_enc IS NOT NULL AS has_token, status, \
    status_message, checked_at, created_at, updated_at";

fn ctx(id: &str, what: &str) -> String {
    format!("connection:{id}:{what}")
}

impl Store {
    fn encrypt_map(&self, id: &str, creds: &BTreeMap<String, Secret>) -> Result<Option<String>> {
        if creds.is_empty() {
            return Ok(None);
        }
        let plain: BTreeMap<&str, &str> = creds
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        Ok(Some(
            self.cipher
                .encrypt(&to_json(&plain)?, &ctx(id, "credentials")),
        ))
    }

    pub async fn insert_connection(&self, c: &NewConnection) -> Result<String> {
        let id = new_id();
        let now = now_ms();
        let creds = self.encrypt_map(&id, &c.credentials)?;
        let keys: Vec<&String> = c.credentials.keys().collect();
        let refresh = c
            .refresh_token
            .as_ref()
            .map(|t| self.cipher.encrypt(t.expose(), &ctx(&id, "refresh_token")));
        sqlx::query(
            "INSERT INTO connections (id, connector_id, name, settings, registration_number, phone, \
             credential_keys, credentials_enc, refresh_token_enc, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'unchecked', $10, $10)",
        )
        .bind(&id)
        .bind(&c.connector_id)
        .bind(&c.name)
        .bind(to_json(&c.settings)?)
        .bind(&c.registration_number)
        .bind(&c.phone)
        .bind(to_json(&keys)?)
        .bind(creds)
        .bind(refresh)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn get_connection(&self, id: &str) -> Result<Connection> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM connections WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_string(),
            })?;
        connection_from_row(&row)
    }

    pub async fn list_connections(&self) -> Result<Vec<Connection>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM connections ORDER BY created_at"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(connection_from_row).collect()
    }

    pub async fn update_connection(&self, id: &str, patch: &ConnectionPatch) -> Result<Connection> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT credentials_enc FROM connections WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "connection",
                id: id.to_string(),
            })?;
        let now = now_ms();
        // New secrets or a new endpoint: what the last check found no longer says anything.
        let unchecked = patch.endpoint_changed
            || patch.refresh_token.is_some()
            || patch.credentials.as_ref().is_some_and(|c| !c.is_empty());
        if let Some(new_creds) = &patch.credentials {
            let stored: Option<String> = get(&row, "credentials_enc")?;
            let mut creds = match stored {
                Some(enc) => self.decrypt_map(id, &enc)?,
                None => BTreeMap::new(),
            };
            for (k, v) in new_creds {
                creds.insert(k.clone(), v.clone());
            }
            let keys: Vec<&String> = creds.keys().collect();
            sqlx::query("UPDATE connections SET credentials_enc = $1, credential_keys = $2, updated_at = $3 WHERE id = $4")
                .bind(self.encrypt_map(id, &creds)?)
                .bind(to_json(&keys)?)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(r) = &patch.refresh_token {
            sqlx::query(
                "UPDATE connections SET access_token_enc = NULL, token_expires_at = NULL, \
                 refresh_token_enc = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(self.cipher.encrypt(r.expose(), &ctx(id, "refresh_token")))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        } else if patch.drop_tokens {
            // Needs signing in again: that says more than 未確認.
            sqlx::query(
                "UPDATE connections SET access_token_enc = NULL, token_expires_at = NULL, \
                 refresh_token_enc = NULL, status = $1, status_message = $2, checked_at = NULL, \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(ConnectionStatus::Reauthorize.as_str())
            .bind(&patch.tokens_dropped_message)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if unchecked && !(patch.drop_tokens && patch.refresh_token.is_none()) {
            sqlx::query(
                "UPDATE connections SET status = $1, status_message = NULL, checked_at = NULL \
                 WHERE id = $2",
            )
            .bind(ConnectionStatus::Unchecked.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        let settings = patch.settings.as_ref().map(to_json).transpose()?;
        sqlx::query(
            "UPDATE connections SET name = COALESCE($1, name), settings = COALESCE($2, settings), \
             registration_number = COALESCE($3, registration_number), phone = COALESCE($4, phone), \
             updated_at = $5 WHERE id = $6",
        )
        .bind(&patch.name)
        .bind(settings)
        .bind(&patch.registration_number)
        .bind(&patch.phone)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.get_connection(id).await
    }

    /// Deletes a connection that no flow uses.
    pub async fn delete_connection(&self, id: &str) -> Result<()> {
        let used: i64 = get(
            &sqlx::query("SELECT COUNT(*) AS n FROM flows WHERE source_connection = $1 OR target_connection = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?,
            "n",
        )?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "connection '{id}' is used by {used} flow(s); delete or change those flows first"
            )));
        }
        let done = sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "connection",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    fn decrypt_map(&self, id: &str, enc: &str) -> Result<BTreeMap<String, Secret>> {
        let plain = self.cipher.decrypt(enc, &ctx(id, "credentials"))?;
        let map: BTreeMap<String, String> = serde_json::from_str(&plain)
            .map_err(|e| StoreError::Corrupt(format!("credentials: {e}")))?;
        Ok(map.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
    }

    /// Decrypts a connection's secrets for a call into its connector.
    pub async fn connection_secrets(&self, id: &str) -> Result<ConnectionSecrets> {
        let row = sqlx::query(
            "SELECT credentials_enc, access_token_enc, refresh_token_enc, token_expires_at FROM connections WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "connection",
            id: id.to_string(),
        })?;
        let creds: Option<String> = get(&row, "credentials_enc")?;
        let access: Option<String> = get(&row, "access_token_enc")?;
        let refresh: Option<String> = get(&row, "refresh_token_enc")?;
        Ok(ConnectionSecrets {
            credentials: match creds {
                Some(enc) => self.decrypt_map(id, &enc)?,
                None => BTreeMap::new(),
            },
            access_token: access
                .map(|a| {
                    self.cipher
                        .decrypt(&a, &ctx(id, "access_token"))
                        .map(Secret::new)
                })
                .transpose()?,
            refresh_token: refresh
                .map(|r| {
                    self.cipher
                        .decrypt(&r, &ctx(id, "refresh_token"))
                        .map(Secret::new)
                })
                .transpose()?,
            token_expires_at: get(&row, "token_expires_at")?,
        })
    }

    /// Stores a fresh access token and, when the provider rotated it, the new refresh token,
    /// in one statement: a crash never leaves a new access token beside a dead refresh token.
    /// A connection that needed signing in again is `unchecked` (a token is not a check); any
    /// other status stays what the last check or run found.
    pub async fn save_tokens(
        &self,
        id: &str,
        access_token: &Secret,
        refresh_token: Option<&Secret>,
        expires_at: Option<Millis>,
    ) -> Result<()> {
        let now = now_ms();
        let access = self
            .cipher
            .encrypt(access_token.expose(), &ctx(id, "access_token"));
        let refresh =
            refresh_token.map(|r| self.cipher.encrypt(r.expose(), &ctx(id, "refresh_token")));
        let done = sqlx::query(
            "UPDATE connections SET access_token_enc = $1, refresh_token_enc = COALESCE($2, refresh_token_enc), \
             token_expires_at = $3, token_refreshed_at = $4, \
             status = CASE WHEN status = 'reauthorize' THEN 'unchecked' ELSE status END, \
             status_message = CASE WHEN status = 'reauthorize' THEN NULL ELSE status_message END, \
             checked_at = CASE WHEN status = 'reauthorize' THEN NULL ELSE checked_at END, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(access)
        .bind(refresh)
        .bind(expires_at)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "connection",
                id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Records what a check (接続テスト), a run or a token refresh found, now (`checked_at`);
    /// `Unchecked` forgets the last finding. Not a change of the connection (`updated_at` stays).
    pub async fn set_connection_status(
        &self,
        id: &str,
        status: ConnectionStatus,
        message: Option<&str>,
    ) -> Result<()> {
        let at = (status != ConnectionStatus::Unchecked).then(now_ms);
        sqlx::query(
            "UPDATE connections SET status = $1, status_message = $2, checked_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(message)
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn connection_from_row(row: &AnyRow) -> Result<Connection> {
    let status = ConnectionStatus::parse(&get::<String>(row, "status")?);
    let expires_at: Option<Millis> = get(row, "token_expires_at")?;
    let has_token: bool = get::<i64>(row, "has_token")
        .map(|v| v != 0)
        .or_else(|_| get::<bool>(row, "has_token"))?;
    let token_status = if status == ConnectionStatus::Reauthorize {
        "reauthorize"
    } else if !has_token {
        "none"
    } else if expires_at.is_some_and(|e| e <= now_ms()) {
        "expired"
    } else {
        "valid"
    };
    let settings: Map<String, Value> = json_col(row, "settings")?;
    Ok(Connection {
        id: get(row, "id")?,
        connector_id: get(row, "connector_id")?,
        name: get(row, "name")?,
        settings,
        registration_number: get(row, "registration_number")?,
        phone: get(row, "phone")?,
        status,
        status_message: get(row, "status_message")?,
        checked_at: get(row, "checked_at")?,
        token: TokenStatus {
            status: token_status,
            expires_at,
            refreshed_at: get(row, "token_refreshed_at")?,
        },
        credential_keys: json_col(row, "credential_keys")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}
