//! Pending OAuth authorization-code flows. A state is taken once: checking it deletes it.

use connector_sdk::Secret;

use crate::{get, Result, Store};
use hub_domain::*;

pub struct PendingAuthorization {
    pub connection_id: String,
    pub redirect_uri: String,
    pub pkce_verifier: Secret,
    pub created_at: Millis,
}

impl Store {
    pub async fn save_oauth_state(
        &self,
        state: &str,
        connection_id: &str,
        redirect_uri: &str,
        pkce_verifier: &Secret,
    ) -> Result<()> {
        let enc = self
            .cipher
            .encrypt(pkce_verifier.expose(), &format!("oauth_state:{state}"));
        sqlx::query("INSERT INTO oauth_states (state, connection_id, redirect_uri, pkce_verifier_enc, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(state)
            .bind(connection_id)
            .bind(redirect_uri)
            .bind(enc)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes and returns the pending authorization for `state`, if any.
    pub async fn take_oauth_state(&self, state: &str) -> Result<Option<PendingAuthorization>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT connection_id, redirect_uri, pkce_verifier_enc, created_at FROM oauth_states WHERE state = $1")
            .bind(state)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let done = sqlx::query("DELETE FROM oauth_states WHERE state = $1")
            .bind(state)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let enc: String = get(&row, "pkce_verifier_enc")?;
        Ok(Some(PendingAuthorization {
            connection_id: get(&row, "connection_id")?,
            redirect_uri: get(&row, "redirect_uri")?,
            pkce_verifier: Secret::new(self.cipher.decrypt(&enc, &format!("oauth_state:{state}"))?),
            created_at: get(&row, "created_at")?,
        }))
    }
}
