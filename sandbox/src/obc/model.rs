//! What the 奉行クラウド emulator keeps: the partner's client and subscription key, OBCiD users,
//! tenants (法人) with their master records, and issued tokens.

use super::assumed;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    /// Shown on the consent page.
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub obcid: String,
    pub password: String,
    pub display_name: String,
    /// Tenant ids this OBCiD may use.
    pub tenants: Vec<String>,
}

/// One record: field name → JSON value, always holding `code`.
pub type Record = Map<String, Value>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub code: String,
    pub name: String,
    pub name_kana: String,
    pub memo: String,
    /// Entity name (`Customer`, …) → code → record, in code order.
    pub records: BTreeMap<String, BTreeMap<String, Record>>,
}

impl Tenant {
    /// The SearchTenant shape (reference §3).
    pub fn info(&self) -> Value {
        json!({"id": self.id, "code": self.code, "name": self.name, "nameKana": self.name_kana, "memo": self.memo})
    }

    pub fn table(&self, entity: &str) -> Option<&BTreeMap<String, Record>> {
        self.records.get(entity)
    }

    pub fn table_mut(&mut self, entity: &str) -> &mut BTreeMap<String, Record> {
        self.records.entry(entity.to_string()).or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub obcid: String,
    pub client_id: String,
    /// `None`: a fixed token issued in 管理ポータル, which never expires.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub obcid: String,
    pub client_id: String,
    pub expires_at: DateTime<Utc>,
    /// Single use: set when exchanged; a second use is refused.
    pub used: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub clients: Vec<Client>,
    pub subscription_keys: Vec<String>,
    pub users: Vec<User>,
    pub tenants: Vec<Tenant>,
    #[serde(default)]
    pub access: HashMap<String, AccessToken>,
    #[serde(default)]
    pub refresh: HashMap<String, RefreshToken>,
}

/// An opaque random token.
pub fn random_token(bytes: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.gen::<u8>()))
        .collect()
}

/// What `/oauth2/token` and `/_sandbox/obc/tokens` answer.
pub struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
}

impl Issued {
    pub fn body(&self) -> Value {
        let mut v = json!({"access_token": self.access_token, "token_type": "Bearer"});
        if let Some(e) = self.expires_in {
            v["expires_in"] = json!(e);
        }
        if let Some(r) = &self.refresh_token {
            v["refresh_token"] = json!(r);
            v["refresh_token_expires_in"] = json!(assumed::REFRESH_TOKEN_TTL_DAYS * 86_400);
        }
        v
    }
}

impl Store {
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.client_id == id)
    }

    pub fn user(&self, obcid: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.obcid.eq_ignore_ascii_case(obcid.trim()))
    }

    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn tenant_mut(&mut self, id: &str) -> Option<&mut Tenant> {
        self.tenants.iter_mut().find(|t| t.id == id)
    }

    /// A new access + refresh token pair (the OAuth flow), or a fixed access token.
    pub fn issue(
        &mut self,
        obcid: &str,
        client_id: &str,
        fixed: bool,
        now: DateTime<Utc>,
    ) -> Issued {
        let access = random_token(32);
        let expires = (!fixed).then(|| now + Duration::seconds(assumed::ACCESS_TOKEN_TTL_SECS));
        self.access.insert(
            access.clone(),
            AccessToken {
                obcid: obcid.to_string(),
                client_id: client_id.to_string(),
                expires_at: expires,
            },
        );
        let refresh = (!fixed).then(|| {
            let r = random_token(32);
            self.refresh.insert(
                r.clone(),
                RefreshToken {
                    obcid: obcid.to_string(),
                    client_id: client_id.to_string(),
                    expires_at: now + Duration::days(assumed::REFRESH_TOKEN_TTL_DAYS),
                    used: false,
                },
            );
            r
        });
        // Forget tokens long dead so a long-running sandbox does not grow without bound.
        self.access
            .retain(|_, t| t.expires_at.is_none_or(|e| e > now - Duration::days(1)));
        self.refresh
            .retain(|_, t| t.expires_at > now - Duration::days(1));
        Issued {
            access_token: access,
            refresh_token: refresh,
            expires_in: (!fixed).then_some(assumed::ACCESS_TOKEN_TTL_SECS),
        }
    }
}
