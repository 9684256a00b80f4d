//! Web UI accounts: roles, the rules for names and passwords, the one-time first admin, and
//! signing in. The password hash itself is a [`PasswordHasher`] given by the caller (argon2 in
//! the web crate), so this crate carries no hashing dependency; hashing runs off the async
//! threads because a good password hash is deliberately slow.
//!
//! The web and the CLI (`hub admin create`, `hub token`) call these rules through
//! [`Hub`](crate::Hub)'s methods (`service.rs`): users, sessions and API tokens; the functions
//! over the store below are core's own.

mod service;

pub use service::MAX_TOKEN_NAME_CHARS;

use hub_domain::User;
use hub_store::{Store, StoreError};
use std::sync::Arc;

use crate::error::{HubError, HubResult};
use hub_messages::Message;

/// What a user or an API token may do: an admin changes connections, flows and users; an
/// operator runs flows (今すぐ実行, 失敗分のみ再実行, 元に戻す, preview, 接続テスト, 連携トークンの更新)
/// and reads everything; read-only only reads (and may send the contact form). No secrets are
/// ever shown to anyone. Ordered by what they allow: `ReadOnly < Operator < Admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    ReadOnly,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            "read_only" => Some(Role::ReadOnly),
            _ => None,
        }
    }

    /// Whether this role may do what needs `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// A stored role the code does not know is treated as the least privileged.
    pub fn of(user: &User) -> Role {
        Role::from_stored(&user.role)
    }

    /// A stored role (a user's or an API token's); unknown: the least privileged.
    pub fn from_stored(s: &str) -> Role {
        Role::parse(s).unwrap_or(Role::ReadOnly)
    }
}

/// The longest an API token may live: ten years.
pub const MAX_TOKEN_DAYS: u64 = 3650;

/// An API token's lifetime as given to `hub token create --expires` or the web form: `Nd`
/// (days) or `Nh` (hours), N at least 1, at most ten years. Answers milliseconds.
pub fn parse_token_lifetime(field: &str, value: &str) -> HubResult<i64> {
    let v = value.trim();
    let bad = || {
        HubError::invalid(
            field,
            Message::new("err.token_lifetime")
                .with("value", v)
                .with("max", MAX_TOKEN_DAYS),
        )
    };
    let (digits, unit_ms) = if let Some(n) = v.strip_suffix('d') {
        (n, 86_400_000u64)
    } else if let Some(n) = v.strip_suffix('h') {
        (n, 3_600_000u64)
    } else {
        return Err(bad());
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let ms = n.checked_mul(unit_ms).ok_or_else(bad)?;
    if n == 0 || ms > MAX_TOKEN_DAYS * 86_400_000 {
        return Err(bad());
    }
    Ok(ms as i64)
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
        return Err(HubError::invalid(field, Message::new("err.username_chars")));
    }
    Ok(v)
}

/// Length only (counted in characters): long passphrases beat composition rules.
pub fn check_password(field: &str, value: &str) -> HubResult<()> {
    let n = value.chars().count();
    if n == 0 {
        return Err(HubError::invalid(field, Message::new("err.required")));
    }
    if n < MIN_PASSWORD_CHARS {
        return Err(HubError::invalid(
            field,
            Message::new("err.min_len")
                .with("min", MIN_PASSWORD_CHARS)
                .with("got", n),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(HubError::invalid(
            field,
            Message::new("err.max_len")
                .with("max", MAX_PASSWORD_CHARS)
                .with("got", n),
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
pub(crate) async fn create_user(
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
pub(crate) async fn create_first_admin(
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
        .ok_or(HubError::conflict(
            "setup_done",
            Message::new("err.setup_done"),
        ))
}

/// The user if the name and password match. An unknown name costs as much time as a wrong
/// password, so the answer time does not tell which names exist.
pub(crate) async fn authenticate(
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
pub(crate) async fn set_password(
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
    fn roles_and_token_lifetimes() {
        assert!(Role::Admin.allows(Role::Operator) && Role::Operator.allows(Role::ReadOnly));
        assert!(!Role::ReadOnly.allows(Role::Operator) && !Role::Operator.allows(Role::Admin));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::from_stored("superuser"), Role::ReadOnly);
        assert_eq!(
            parse_token_lifetime("expires", "90d").unwrap(),
            90 * 86_400_000
        );
        assert_eq!(
            parse_token_lifetime("expires", "12h").unwrap(),
            12 * 3_600_000
        );
        assert_eq!(
            parse_token_lifetime("expires", "3650d").unwrap(),
            3650 * 86_400_000
        );
        for bad in [
            "0d",
            "0h",
            "",
            "d",
            "90",
            "90m",
            "-1d",
            "+1d",
            "1.5d",
            "garbage",
            "3651d",
            "99999999999999999999d",
        ] {
            let e = parse_token_lifetime("expires", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("expires") && e.contains("90d"), "{bad}: {e}");
        }
    }

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
