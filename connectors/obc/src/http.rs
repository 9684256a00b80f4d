//! One connection's view of the 奉行クラウド API: the base URL from its settings, the
//! subscription key and bearer token on every call, the tenant header on every call but
//! SearchTenant, and every HTTP failure turned into the SDK error kind that tells the hub what to
//! do. No retries here: the hub owns them.

use chrono::{DateTime, Utc};
use connector_http::{header, json_or_null, transport_error, Remote};
use connector_sdk::{Connection, ConnectorError, ErrorKind, Secret};
use reqwest::blocking::Client;
use reqwest::header::{AUTHORIZATION, DATE, RETRY_AFTER};
use serde_json::Value;

use crate::assumed;
use crate::errors;
use crate::manifest::{ACCESS_TOKEN, BASE_URL, FIXED_ACCESS_TOKEN, SUBSCRIPTION_KEY};

const REMOTE: Remote = Remote {
    name: "奉行クラウド",
    url_name: "奉行クラウド API URL",
    url_setting: BASE_URL,
    bad_url_ja: "奉行クラウド API の URL が正しくありません",
    unreachable_ja: "奉行クラウドに接続できません",
    unreadable_ja: "奉行クラウドの応答（HTTP {status}）を読み取れませんでした",
};

pub fn build_client() -> Result<Client, ConnectorError> {
    connector_http::client(concat!("renkei-hub-obc/", env!("CARGO_PKG_VERSION")))
}

/// Which token a call carries: the hub's OAuth token, else the fixed one of 管理ポータル.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    OAuth,
    Fixed,
}

/// Whether the connection is set up for the cloud API at all (a base URL and some token).
pub fn cloud_configured(conn: &Connection) -> bool {
    conn.setting(BASE_URL).is_some()
        && (conn.credential(ACCESS_TOKEN).is_some()
            || conn.credential(FIXED_ACCESS_TOKEN).is_some())
}

/// A successful answer: the JSON body and the server's clock (`Date`), to start watermarks from.
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub date: Option<DateTime<Utc>>,
}

pub struct Api<'a> {
    client: &'a Client,
    base: String,
    key: &'a Secret,
    token: &'a Secret,
    pub token_source: TokenSource,
}

impl<'a> Api<'a> {
    pub fn new(client: &'a Client, conn: &'a Connection) -> Result<Self, ConnectorError> {
        let base = conn.setting(BASE_URL).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::InvalidSettings,
                "setting 'base_url' (奉行クラウド API URL) is required for the 奉行クラウド objects; set it, or use the CSV folder (csv_root) only",
            )
            .with_ja("奉行クラウド API を使うには「奉行クラウド API の URL」を入力してください（CSV だけなら CSV 監視フォルダを設定します）")
            .with_field(BASE_URL)
        })?;
        let key = conn.credential(SUBSCRIPTION_KEY).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::AuthFailed,
                "credential 'subscription_key' is missing: enter the subscription key of your 奉行クラウド API contract",
            )
            .with_code("missing_subscription_key")
            .with_ja("サブスクリプションキーが入力されていません。奉行クラウド API の契約で発行されたキーを入力してください")
            .with_field(SUBSCRIPTION_KEY)
        })?;
        let (token, token_source) = match conn.credential(ACCESS_TOKEN) {
            Some(t) => (t, TokenSource::OAuth),
            None => match conn.credential(FIXED_ACCESS_TOKEN) {
                Some(t) => (t, TokenSource::Fixed),
                None => {
                    return Err(ConnectorError::new(
                        ErrorKind::AuthFailed,
                        "not signed in to 奉行クラウド: sign in with OBCiD (連携トークンの更新) or enter a fixed access token",
                    )
                    .with_code("not_signed_in")
                    .with_ja("奉行クラウドにサインインしていません。OBCiD でサインインして「許可する」を選ぶか、固定アクセストークンを入力してください"))
                }
            },
        };
        Ok(Api {
            client,
            base: base.trim_end_matches('/').to_string(),
            key,
            token,
            token_source,
        })
    }

    /// Identifies the OBCiD and API for caches: the base URL and a digest of the token.
    pub fn identity(&self) -> (String, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.token.expose().hash(&mut h);
        (self.base.clone(), h.finish())
    }

    /// `POST {base}{path}` with a JSON body; `tenant` is sent as `X-OBC-TenantID`.
    pub fn post(
        &self,
        path: &str,
        tenant: Option<&str>,
        body: &Value,
    ) -> Result<Answer, ConnectorError> {
        let mut rb = self
            .client
            .post(format!("{}{path}", self.base))
            .header(assumed::SUBSCRIPTION_KEY_HEADER, self.key.expose())
            .header(AUTHORIZATION, format!("Bearer {}", self.token.expose()))
            .json(body);
        if let Some(t) = tenant {
            rb = rb.header(assumed::TENANT_HEADER, t);
        }
        let resp = rb.send().map_err(|e| transport_error(&e, &REMOTE))?;
        let status = resp.status().as_u16();
        let date = header(resp.headers(), DATE)
            .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
            .map(|d| d.with_timezone(&Utc));
        let retry_after = header(resp.headers(), RETRY_AFTER);
        let bytes = resp.bytes().map_err(|e| transport_error(&e, &REMOTE))?;
        let body = json_or_null(&bytes, status, !(200..300).contains(&status), &REMOTE)?;
        if (200..300).contains(&status) {
            return Ok(Answer { body, date });
        }
        Err(errors::status_error(
            status,
            &body,
            retry_after.as_deref(),
            self.token_source,
        ))
    }
}
