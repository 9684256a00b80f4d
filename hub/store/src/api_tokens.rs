//! API tokens for `/api`: shown once at creation, stored only as a SHA-256 hash. The tokens
//! are 256 random bits, so a fast hash is enough (no password stretching needed).
//!
//! Each token has a role (`admin`, `operator`, `read_only`: what it may do, enforced by the web
//! crate's route table), an optional expiry and, once revoked, the time it was revoked. An
//! expired or revoked token is not valid: [`Store::authenticate_api_token`] answers `None`.

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::{get, is_unique_violation, Result, Store, StoreError};
use hub_domain::*;

const PREFIX: &str = "rkh_";

const COLUMNS: &str = "id, name, role, created_at, last_used_at, expires_at, revoked_at";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn info(r: &AnyRow) -> Result<ApiTokenInfo> {
    Ok(ApiTokenInfo {
        id: get(r, "id")?,
        name: get(r, "name")?,
        role: get(r, "role")?,
        created_at: get(r, "created_at")?,
        last_used_at: get(r, "last_used_at")?,
        expires_at: get(r, "expires_at")?,
        revoked_at: get(r, "revoked_at")?,
    })
}

impl Store {
    /// Creates a full-access token (role `admin`, no expiry) and returns it in the clear: the
    /// only time it is ever visible.
    pub async fn create_api_token(&self, name: &str) -> Result<String> {
        Ok(self.create_api_token_with(name, "admin", None).await?.token)
    }

    /// Creates a token with a role and an optional expiry (milliseconds since the epoch).
    /// The caller checks the role's spelling (hub-core's `Role`).
    pub async fn create_api_token_with(
        &self,
        name: &str,
        role: &str,
        expires_at: Option<Millis>,
    ) -> Result<NewApiToken> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = format!("{PREFIX}{}", hex::encode(raw));
        let id = new_id();
        let r = sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at, role, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(&token))
        .bind(now_ms())
        .bind(role)
        .bind(expires_at)
        .execute(&self.pool)
        .await;
        match r {
            Ok(_) => Ok(NewApiToken { id, token }),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict("token collision; try again".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The token if it is valid now (known, not revoked, not expired); records its use.
    pub async fn authenticate_api_token(&self, token: &str) -> Result<Option<ApiTokenInfo>> {
        if !token.starts_with(PREFIX) {
            return Ok(None);
        }
        let h = hash(token);
        let now = now_ms();
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 \
             AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)"
        ))
        .bind(&h)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut t = info(&row)?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(&h)
            .execute(&self.pool)
            .await?;
        t.last_used_at = Some(now);
        Ok(Some(t))
    }

    /// The token's name if it is valid now.
    pub async fn verify_api_token(&self, token: &str) -> Result<Option<String>> {
        Ok(self.authenticate_api_token(token).await?.map(|t| t.name))
    }

    /// Every token, revoked and expired ones included, oldest first.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(info).collect()
    }

    /// Revokes a token given by id, or by name when exactly one token not yet revoked has it
    /// (`Conflict` when several do: give the id). Revoking a revoked token changes nothing (by
    /// name: when every token of that name is revoked, the last one is answered). Answers the
    /// token as it is now.
    pub async fn revoke_api_token(&self, name_or_id: &str) -> Result<ApiTokenInfo> {
        let all = self.list_api_tokens().await?;
        let target = match all.iter().find(|t| t.id == name_or_id) {
            Some(t) => t.clone(),
            None => {
                let named: Vec<&ApiTokenInfo> = all
                    .iter()
                    .filter(|t| t.name == name_or_id && t.revoked_at.is_none())
                    .collect();
                match named.as_slice() {
                    [one] => (*one).clone(),
                    [] => match all.iter().rev().find(|t| t.name == name_or_id) {
                        Some(revoked) => revoked.clone(),
                        None => {
                            return Err(StoreError::NotFound {
                                what: "API token",
                                id: name_or_id.to_string(),
                            })
                        }
                    },
                    many => {
                        return Err(StoreError::Conflict(format!(
                            "{} tokens are named '{name_or_id}': revoke one by its id ({})",
                            many.len(),
                            many.iter()
                                .map(|t| t.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                }
            }
        };
        if target.revoked_at.is_some() {
            return Ok(target);
        }
        let now = now_ms();
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(&target.id)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(&target.id)
            .fetch_one(&self.pool)
            .await?;
        info(&row)
    }
}
