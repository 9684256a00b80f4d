//! Accounts as the web uses them, through the hub: users (with the rule that the hub always
//! keeps an admin), browser sessions (a new one at every sign-in, so no session fixation) and
//! the API tokens of `/api`.

use hub_domain::{ApiTokenInfo, Millis, NewApiToken, Session, User};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::{PasswordHasher, Role};
use crate::error::{HubError, HubResult};
use crate::Hub;
use hub_messages::Message;

/// The longest name an API token may have.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;

impl Hub {
    /// How many users exist (none: the one-time setup is still open).
    pub async fn count_users(&self) -> HubResult<i64> {
        Ok(self.store.count_users().await?)
    }

    pub async fn get_user(&self, id: &str) -> HubResult<User> {
        Ok(self.store.get_user(id).await?)
    }

    pub async fn list_users(&self) -> HubResult<Vec<User>> {
        Ok(self.store.list_users().await?)
    }

    /// Creates a user; `Conflict` if the name is taken.
    pub async fn create_user(
        &self,
        hasher: &Arc<dyn PasswordHasher>,
        username: &str,
        password: &str,
        role: Role,
    ) -> HubResult<String> {
        super::create_user(&self.store, hasher, username, password, role).await
    }

    /// The one-time setup: the first user, an admin. `Conflict setup_done` once any user exists.
    pub async fn create_first_admin(
        &self,
        hasher: &Arc<dyn PasswordHasher>,
        username: &str,
        password: &str,
    ) -> HubResult<String> {
        super::create_first_admin(&self.store, hasher, username, password).await
    }

    /// The user if the name and password match (see [`super::authenticate`]).
    pub async fn authenticate(
        &self,
        hasher: &Arc<dyn PasswordHasher>,
        username: &str,
        password: &str,
    ) -> HubResult<Option<User>> {
        super::authenticate(&self.store, hasher, username, password).await
    }

    /// Sets a new password (ends the user's sessions).
    pub async fn set_password(
        &self,
        hasher: &Arc<dyn PasswordHasher>,
        user_id: &str,
        password: &str,
    ) -> HubResult<()> {
        super::set_password(&self.store, hasher, user_id, password).await
    }

    /// Deletes a user on behalf of `by` (the signed-in admin). Nobody deletes themselves and the
    /// last admin stays, so the hub is never left without one: `Conflict cannot_delete_user`.
    pub async fn delete_user(&self, id: &str, by: &str) -> HubResult<()> {
        let users = self.store.list_users().await?;
        let admins = users.iter().filter(|u| Role::of(u) == Role::Admin).count();
        let target_is_admin = users
            .iter()
            .any(|u| u.id == id && Role::of(u) == Role::Admin);
        if id == by || (target_is_admin && admins <= 1) {
            return Err(HubError::conflict(
                "cannot_delete_user",
                Message::new("users.cannot_delete"),
            ));
        }
        Ok(self.store.delete_user(id).await?)
    }

    /// A new anonymous session (for the login and setup forms' CSRF token): its id and state.
    pub async fn open_session(&self, ttl_ms: Millis) -> HubResult<(String, Session)> {
        Ok(self.store.create_session(None, ttl_ms).await?)
    }

    /// Signs a user in: the visitor's session (`old`) ends and a new one begins, so an id
    /// known before signing in is worth nothing after; expired sessions are swept on the way.
    pub async fn sign_in_session(
        &self,
        old: Option<&str>,
        user_id: &str,
        ttl_ms: Millis,
    ) -> HubResult<String> {
        if let Some(old) = old {
            if let Err(e) = self.store.delete_session(old).await {
                tracing::warn!(error = %e, "cannot end the visitor's session");
            }
        }
        if let Err(e) = self.store.delete_expired_sessions().await {
            tracing::warn!(error = %e, "cannot delete expired sessions");
        }
        let (id, _) = self.store.create_session(Some(user_id), ttl_ms).await?;
        Ok(id)
    }

    /// The session with this id, unless it is unknown or expired.
    pub async fn get_session(&self, id: &str) -> HubResult<Option<Session>> {
        Ok(self.store.get_session(id).await?)
    }

    /// Keeps a session alive until `expires_at`.
    pub async fn touch_session(&self, id: &str, expires_at: Millis) -> HubResult<()> {
        Ok(self.store.touch_session(id, expires_at).await?)
    }

    /// Replaces a session's data (kept encrypted: the wizard keeps typed credentials in it).
    pub async fn save_session_data(&self, id: &str, data: &Map<String, Value>) -> HubResult<()> {
        Ok(self.store.save_session_data(id, data).await?)
    }

    /// Ends a session (signing out).
    pub async fn delete_session(&self, id: &str) -> HubResult<()> {
        Ok(self.store.delete_session(id).await?)
    }

    /// The token's record if it is known, active and not revoked (and marks it used).
    pub async fn authenticate_api_token(&self, token: &str) -> HubResult<Option<ApiTokenInfo>> {
        Ok(self.store.authenticate_api_token(token).await?)
    }

    pub async fn list_api_tokens(&self) -> HubResult<Vec<ApiTokenInfo>> {
        Ok(self.store.list_api_tokens().await?)
    }

    /// A new API token (its value is in the answer only); its name is required, at most 100
    /// characters (the same rule as `hub token create`).
    pub async fn create_api_token(
        &self,
        name: &str,
        role: Role,
        expires_at: Option<Millis>,
    ) -> HubResult<NewApiToken> {
        let name = crate::validate::text("name", name, MAX_TOKEN_NAME_CHARS)?;
        Ok(self
            .store
            .create_api_token_with(&name, role.as_str(), expires_at)
            .await?)
    }

    /// Revokes a token by name or id.
    pub async fn revoke_api_token(&self, name_or_id: &str) -> HubResult<ApiTokenInfo> {
        Ok(self.store.revoke_api_token(name_or_id).await?)
    }
}
