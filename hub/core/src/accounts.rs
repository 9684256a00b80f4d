//! Web UI accounts: roles, the rules for names and passwords, the one-time first admin, and
//! signing in. The password hash itself is a [`PasswordHasher`] given by the caller (argon2 in
//! the web crate), so this crate carries no hashing dependency; hashing runs off the async
//! threads because a good password hash is deliberately slow.
//!
//! For `hub admin create NAME`: read the password (twice, without echo) and call
//! [`create_user`] with `Role::Admin` and `web::ui::password_hasher()`.

use hub_store::users::User;
use hub_store::{Store, StoreError};
use std::sync::Arc;

use crate::error::{HubError, HubResult};

/// What a user may do: an admin changes connections, flows and users; an operator runs flows
/// and reads everything (no secrets are ever shown to anyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }

    /// A stored role the code does not know is treated as the least privileged.
    pub fn of(user: &User) -> Role {
        Role::parse(&user.role).unwrap_or(Role::Operator)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 200;
pub const MAX_USERNAME_CHARS: usize = 64;

/// Turns a password into a storable hash and checks one.
pub trait PasswordHasher: Send + Sync + 'static {
    /// A PHC string; an error only if the system cannot produce randomness.
    fn hash(&self, password: &str) -> Result<String, String>;
    /// False for a wrong password and for a hash it cannot read.
    fn verify(&self, password: &str, hash: &str) -> bool;
}

pub fn check_username(field: &str, value: &str) -> HubResult<String> {
    let v = crate::validate::text(field, value, MAX_USERNAME_CHARS)?;
    let ok = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !ok {
        return Err(HubError::invalid(
            field,
            "may contain only letters, digits and . _ - @",
        ));
    }
    Ok(v)
}

/// Length only (counted in characters): long passphrases beat composition rules.
pub fn check_password(field: &str, value: &str) -> HubResult<()> {
    let n = value.chars().count();
    if n == 0 {
        return Err(HubError::invalid(field, "is required"));
    }
    if n < MIN_PASSWORD_CHARS {
        return Err(HubError::invalid(
            field,
            format!("must be at least {MIN_PASSWORD_CHARS} characters (got {n})"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(HubError::invalid(
            field,
            format!("must be at most {MAX_PASSWORD_CHARS} characters (got {n})"),
        ));
    }
    Ok(())
}

async fn hash(hasher: &Arc<dyn PasswordHasher>, password: &str) -> HubResult<String> {
    let h = hasher.clone();
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || h.hash(&pw))
        .await
        .map_err(|e| {
            HubError::Store(StoreError::Corrupt(format!(
                "password hashing stopped: {e}"
            )))
        })?
        .map_err(|e| HubError::Store(StoreError::Corrupt(format!("cannot hash a password: {e}"))))
}

async fn verify(hasher: &Arc<dyn PasswordHasher>, password: &str, stored: &str) -> bool {
    let h = hasher.clone();
    let (pw, stored) = (password.to_string(), stored.to_string());
    tokio::task::spawn_blocking(move || h.verify(&pw, &stored))
        .await
        .unwrap_or(false)
}

/// Creates a user; `Conflict` if the name is taken.
pub async fn create_user(
    store: &Store,
    hasher: &Arc<dyn PasswordHasher>,
    username: &str,
    password: &str,
    role: Role,
) -> HubResult<String> {
    let name = check_username("username", username)?;
    check_password("password", password)?;
    let h = hash(hasher, password).await?;
    Ok(store.insert_user(&name, &h, role.as_str()).await?)
}

/// The one-time setup: the first user, an admin. `Conflict setup_done` once any user exists.
pub async fn create_first_admin(
    store: &Store,
    hasher: &Arc<dyn PasswordHasher>,
    username: &str,
    password: &str,
) -> HubResult<String> {
    let name = check_username("username", username)?;
    check_password("password", password)?;
    let h = hash(hasher, password).await?;
    store
        .insert_first_user(&name, &h, Role::Admin.as_str())
        .await?
        .ok_or(HubError::Conflict {
            code: "setup_done",
            message: "the first administrator already exists; sign in instead".into(),
        })
}

/// The user if the name and password match. An unknown name costs as much time as a wrong
/// password, so the answer time does not tell which names exist.
pub async fn authenticate(
    store: &Store,
    hasher: &Arc<dyn PasswordHasher>,
    username: &str,
    password: &str,
) -> HubResult<Option<User>> {
    let found = store.user_credentials(username.trim()).await?;
    let Some((user, stored)) = found else {
        let _ = hash(hasher, password).await;
        return Ok(None);
    };
    if !verify(hasher, password, &stored).await {
        return Ok(None);
    }
    store.record_login(&user.id).await?;
    Ok(Some(user))
}

/// Sets a new password (ends the user's sessions).
pub async fn set_password(
    store: &Store,
    hasher: &Arc<dyn PasswordHasher>,
    user_id: &str,
    password: &str,
) -> HubResult<()> {
    check_password("password", password)?;
    let h = hash(hasher, password).await?;
    Ok(store.set_user_password(user_id, &h).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords() {
        assert_eq!(check_username("username", " taro.y ").unwrap(), "taro.y");
        assert!(check_username("username", "山田").is_err());
        assert!(check_username("username", "").is_err());
        assert!(check_password("password", "short").is_err());
        assert!(check_password("password", "長いパスフレーズですよね").is_ok());
        assert!(check_password("password", &"x".repeat(201)).is_err());
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }
}
