//! The web UI's users and browser sessions, as the store keeps them and core hands them out.

use serde_json::{Map, Value};

use crate::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    /// `admin`, `operator` or `read_only` (see `hub_core::accounts::Role`).
    pub role: String,
    pub created_at: Millis,
    pub last_login_at: Option<Millis>,
}

/// A browser session: anonymous (login and setup forms) or signed in.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: Option<User>,
    pub csrf_token: String,
    pub data: Map<String, Value>,
    pub created_at: Millis,
    pub last_seen_at: Millis,
    pub expires_at: Millis,
}
