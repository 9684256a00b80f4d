//! Web UI users and browser sessions. Password hashes come in already hashed (argon2, see
//! `hub_core::accounts`); session ids are 256 random bits handed to the browser once and kept
//! here only as a SHA-256 hash, like API tokens. Session data is encrypted: the wizard keeps
//! the credentials typed so far in it.

use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

use crate::{get, is_unique_violation, to_json, Result, Store, StoreError};
use hub_domain::*;

const USER_COLUMNS: &str = "id, username, role, created_at, last_login_at";

fn random_hex() -> String {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    hex::encode(raw)
}

fn session_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

fn data_context(hash: &str) -> String {
    format!("session:{hash}:data")
}

fn user_from_row(r: &AnyRow) -> Result<User> {
    Ok(User {
        id: get(r, "id")?,
        username: get(r, "username")?,
        role: get(r, "role")?,
        created_at: get(r, "created_at")?,
        last_login_at: get(r, "last_login_at")?,
    })
}

impl Store {
    pub async fn count_users(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        get(&row, "n")
    }

    /// `Conflict` if the name is taken.
    pub async fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<String> {
        let id = new_id();
        let r = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(username)
        .bind(password_hash)
        .bind(role)
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match r {
            Ok(_) => Ok(id),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a user named '{username}' already exists"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the user only while there is no user at all (the one-time setup page), in one
    /// statement so two browsers racing through setup cannot both become the first admin.
    /// `None` when a user already exists.
    pub async fn insert_first_user(
        &self,
        username: &str,
        password_hash: &str,
        role: &str,
    ) -> Result<Option<String>> {
        let id = new_id();
        let done = sqlx::query(
            "INSERT INTO users (id, username, password_hash, role, created_at) \
             SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(&id)
        .bind(username)
        .bind(password_hash)
        .bind(role)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(id))
    }

    /// The user and their password hash, for signing in.
    pub async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from_row(&r)?, get(&r, "password_hash")?)))
            .transpose()
    }

    pub async fn get_user(&self, id: &str) -> Result<User> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "user",
                id: id.to_string(),
            })?;
        user_from_row(&row)
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn record_login(&self, user_id: &str) -> Result<()> {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets a new password hash and ends the user's sessions (a changed password must lock out
    /// whoever knew the old one).
    pub async fn set_user_password(&self, user_id: &str, password_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: user_id.to_string(),
            });
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_user(&self, user_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                what: "user",
                id: user_id.to_string(),
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts a session lasting `ttl_ms`; answers the id for the cookie (the only time it is
    /// visible) and the session.
    pub async fn create_session(
        &self,
        user_id: Option<&str>,
        ttl_ms: Millis,
    ) -> Result<(String, Session)> {
        let id = random_hex();
        let now = now_ms();
        let session = Session {
            user: match user_id {
                Some(u) => Some(self.get_user(u).await?),
                None => None,
            },
            csrf_token: random_hex(),
            data: Map::new(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + ttl_ms,
        };
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(session_hash(&id))
        .bind(user_id)
        .bind(&session.csrf_token)
        .bind(now)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok((id, session))
    }

    /// The live session for a cookie value; `None` if unknown or expired.
    pub async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let hash = session_hash(id);
        let row = sqlx::query(
            "SELECT user_id, csrf_token, data_enc, created_at, last_seen_at, expires_at \
             FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(&hash)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id: Option<String> = get(&row, "user_id")?;
        let user = match user_id {
            Some(u) => match self.get_user(&u).await {
                Ok(u) => Some(u),
                Err(StoreError::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(e),
            },
            None => None,
        };
        let data_enc: Option<String> = get(&row, "data_enc")?;
        let data = match data_enc {
            None => Map::new(),
            Some(enc) => {
                let plain = self.cipher.decrypt(&enc, &data_context(&hash))?;
                serde_json::from_str(&plain)
                    .map_err(|e| StoreError::Corrupt(format!("session data: {e}")))?
            }
        };
        Ok(Some(Session {
            user,
            csrf_token: get(&row, "csrf_token")?,
            data,
            created_at: get(&row, "created_at")?,
            last_seen_at: get(&row, "last_seen_at")?,
            expires_at: get(&row, "expires_at")?,
        }))
    }

    pub async fn save_session_data(&self, id: &str, data: &Map<String, Value>) -> Result<()> {
        let hash = session_hash(id);
        let enc = if data.is_empty() {
            None
        } else {
            Some(self.cipher.encrypt(&to_json(data)?, &data_context(&hash)))
        };
        sqlx::query("UPDATE sessions SET data_enc = $1 WHERE id_hash = $2")
            .bind(enc)
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks the session used now and extends it to `expires_at` (idle timeout).
    pub async fn touch_session(&self, id: &str, expires_at: Millis) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3")
            .bind(now_ms())
            .bind(expires_at)
            .bind(session_hash(id))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(session_hash(id))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cipher;
    use serde_json::json;

    async fn stores() -> Vec<(Store, Option<tempfile::TempDir>)> {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/hub.db", dir.path().display());
        let mut out = vec![(
            Store::open(&url, Cipher::from_key(&[7u8; 32]))
                .await
                .unwrap(),
            Some(dir),
        )];
        match std::env::var("HUB_TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("hub_test_users_{}", std::process::id());
                let admin_store = Store::connect(&admin, Cipher::from_key(&[7u8; 32]))
                    .await
                    .unwrap();
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(admin_store.pool())
                    .await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin_store.pool())
                    .await
                    .unwrap();
                let (base, _) = admin.rsplit_once('/').unwrap();
                let url = format!("{base}/{name}");
                out.push((
                    Store::open(&url, Cipher::from_key(&[7u8; 32]))
                        .await
                        .unwrap(),
                    None,
                ));
            }
            _ => eprintln!("PostgreSQL variant skipped: HUB_TEST_POSTGRES_URL is not set"),
        }
        out
    }

    #[tokio::test]
    async fn users_sessions_and_data_round_trip() {
        for (store, _dir) in stores().await {
            assert_eq!(store.count_users().await.unwrap(), 0);
            let first = store
                .insert_first_user("admin", "$argon2id$x", "admin")
                .await
                .unwrap();
            assert!(first.is_some());
            // The one-time setup cannot run twice.
            assert_eq!(
                store
                    .insert_first_user("other", "$argon2id$y", "admin")
                    .await
                    .unwrap(),
                None
            );
            let op = store
                .insert_user("operator1", "$argon2id$z", "operator")
                .await
                .unwrap();
            assert!(matches!(
                store.insert_user("operator1", "h", "operator").await,
                Err(StoreError::Conflict(_))
            ));
            let (u, hash) = store.user_credentials("admin").await.unwrap().unwrap();
            assert_eq!((u.role.as_str(), hash.as_str()), ("admin", "$argon2id$x"));
            assert!(store.user_credentials("nobody").await.unwrap().is_none());

            let (sid, s) = store.create_session(Some(&op), 60_000).await.unwrap();
            assert_eq!(s.user.as_ref().unwrap().username, "operator1");
            // Only the hash is stored.
            let stored: Vec<String> = sqlx::query("SELECT id_hash FROM sessions")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| get(r, "id_hash").unwrap())
                .collect();
            assert!(!stored.contains(&sid));

            let mut data = Map::new();
            data.insert(
                "wizard".into(),
                json!({"credentials": {"api_token": "t0ps3cret"}}),
            );
            store.save_session_data(&sid, &data).await.unwrap();
            let raw: Option<String> = sqlx::query("SELECT data_enc FROM sessions")
                .fetch_one(store.pool())
                .await
                .map(|r| get(&r, "data_enc").unwrap())
                .unwrap();
            assert!(!raw.unwrap().contains("t0ps3cret"));
            let back = store.get_session(&sid).await.unwrap().unwrap();
            assert_eq!(back.data, data);
            assert_eq!(back.csrf_token, s.csrf_token);

            // A new password ends the user's sessions.
            store.set_user_password(&op, "$argon2id$new").await.unwrap();
            assert!(store.get_session(&sid).await.unwrap().is_none());

            // Expired sessions are not returned and are cleaned up.
            let (anon, s) = store.create_session(None, -1).await.unwrap();
            assert!(s.user.is_none());
            assert!(store.get_session(&anon).await.unwrap().is_none());
            assert!(store.delete_expired_sessions().await.unwrap() >= 1);

            store.delete_user(&op).await.unwrap();
            assert_eq!(store.list_users().await.unwrap().len(), 1);
            store.close().await;
        }
        if let Ok(admin) = std::env::var("HUB_TEST_POSTGRES_URL") {
            if let Ok(s) = Store::connect(&admin, Cipher::from_key(&[7u8; 32])).await {
                let name = format!("hub_test_users_{}", std::process::id());
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(s.pool())
                    .await;
            }
        }
    }
}
