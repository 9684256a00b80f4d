//! API tokens for `/api`: shown once at creation, stored only as a SHA-256 hash. The tokens
//! are 256 random bits, so a fast hash is enough (no password stretching needed).

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::model::*;
use crate::{get, is_unique_violation, Result, Store, StoreError};

const PREFIX: &str = "rkh_";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Store {
    /// Creates a token and returns it in the clear: the only time it is ever visible.
    pub async fn create_api_token(&self, name: &str) -> Result<String> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = format!("{PREFIX}{}", hex::encode(raw));
        let r = sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new_id())
        .bind(name)
        .bind(hash(&token))
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match r {
            Ok(_) => Ok(token),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::Conflict("token collision; try again".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The token's name if it is valid.
    pub async fn verify_api_token(&self, token: &str) -> Result<Option<String>> {
        if !token.starts_with(PREFIX) {
            return Ok(None);
        }
        let h = hash(token);
        let row = sqlx::query("SELECT name FROM api_tokens WHERE token_hash = $1")
            .bind(&h)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now_ms())
            .bind(&h)
            .execute(&self.pool)
            .await?;
        Ok(Some(get(&row, "name")?))
    }

    pub async fn list_api_tokens(&self) -> Result<Vec<ApiTokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM api_tokens ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiTokenInfo {
                    id: get(r, "id")?,
                    name: get(r, "name")?,
                    created_at: get(r, "created_at")?,
                    last_used_at: get(r, "last_used_at")?,
                })
            })
            .collect()
    }
}
