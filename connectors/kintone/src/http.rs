//! One connection's view of the kintone REST API: the base URL and guest-space path from its
//! settings, the auth headers from its credentials, and raw answers or [`ApiError`]s. No retries
//! here: the hub retries with backoff.

use base64::Engine;
use connector_http::header;
use connector_sdk::{Connection, ConnectorError, ErrorKind};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{DATE, RETRY_AFTER};
use reqwest::Method;
use serde_json::{json, Value};

use crate::errors::ApiError;
use crate::manifest::{
    API_TOKEN, APPS, BASE_URL, BASIC_AUTH_PASSWORD, BASIC_AUTH_USER, GUEST_SPACE_ID, PASSWORD,
    USERNAME,
};

/// Above this URL length a GET is sent as a POST with `X-HTTP-Method-Override` (as the official
/// client does, reference §1).
const MAX_URL_LEN: usize = 4_000;

pub fn build_client() -> Result<Client, ConnectorError> {
    connector_http::client(concat!("renkei-hub-kintone/", env!("CARGO_PKG_VERSION")))
}

/// How the connection signs in.
#[derive(Clone)]
enum Auth {
    Token(String),
    Password { user: String, header: String },
}

/// A successful answer: the JSON body and the server's `Date` header.
#[derive(Debug)]
pub struct Answer {
    pub body: Value,
    pub date: Option<String>,
}

pub struct Api<'a> {
    client: &'a Client,
    /// `https://x.cybozu.com`, no trailing slash.
    root: String,
    /// `/k/v1` or `/k/guest/{id}/v1`.
    prefix: String,
    auth: Auth,
    basic: Option<String>,
}

/// `https://example.cybozu.com` from what a user types: a subdomain (`example`), a host
/// (`example.cybozu.com`) or a full URL (a sandbox or an on-premise proxy).
pub fn normalize_base_url(raw: &str) -> Result<String, ConnectorError> {
    let bad = |why: &str| {
        ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("base URL '{raw}' is not usable: {why}"),
        )
        .with_ja(format!(
            "kintoneのURL「{raw}」が正しくありません。https://{{サブドメイン}}.cybozu.com の形式で入力してください"
        ))
        .with_field(BASE_URL)
    };
    let s = raw.trim().trim_end_matches('/');
    if s.is_empty() || s.contains(char::is_whitespace) {
        return Err(bad("empty or contains spaces"));
    }
    let mut url = if s.contains("://") {
        s.to_string()
    } else if s.contains('.') || s.contains(':') {
        format!("https://{s}")
    } else {
        format!("https://{s}.cybozu.com")
    };
    for tail in ["/k/v1", "/k"] {
        if let Some(stripped) = url.strip_suffix(tail) {
            url = stripped.to_string();
        }
    }
    let parsed = reqwest::Url::parse(&url).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad("only http(s) URLs with a host"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// The configured app ids, in order.
pub fn app_ids(conn: &Connection) -> Result<Vec<String>, ConnectorError> {
    let raw = conn.require_setting(APPS)?;
    let ids: Vec<String> = raw
        .split([',', '、', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() || ids.iter().any(|s| !s.chars().all(|c| c.is_ascii_digit())) {
        return Err(ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("apps '{raw}' must be app ids (numbers) separated by commas"),
        )
        .with_ja(format!(
            "アプリID「{raw}」が正しくありません。数字をカンマ区切りで入力してください(例: 1,2)"
        ))
        .with_field(APPS));
    }
    Ok(ids)
}

/// The configured app an object id names, or `not_found`.
pub fn require_app(conn: &Connection, object: &str) -> Result<String, ConnectorError> {
    let apps = app_ids(conn)?;
    if apps.iter().any(|a| a == object) {
        return Ok(object.to_string());
    }
    Err(ConnectorError::new(
        ErrorKind::NotFound,
        format!(
            "object '{object}' is not one of the configured apps ({})",
            apps.join(", ")
        ),
    )
    .with_ja(format!(
        "オブジェクト「{object}」は設定されたアプリ({})にありません",
        apps.join(", ")
    )))
}

impl<'a> Api<'a> {
    pub fn new(client: &'a Client, conn: &Connection) -> Result<Self, ConnectorError> {
        let root = normalize_base_url(&conn.require_setting(BASE_URL)?)?;
        let prefix = match conn.setting(GUEST_SPACE_ID) {
            Some(g) if g.chars().all(|c| c.is_ascii_digit()) => format!("/k/guest/{g}/v1"),
            Some(g) => {
                return Err(ConnectorError::new(
                    ErrorKind::InvalidSettings,
                    format!("guest space id '{g}' must be a number"),
                )
                .with_ja(format!("ゲストスペースID「{g}」は数字で入力してください"))
                .with_field(GUEST_SPACE_ID))
            }
            None => "/k/v1".to_string(),
        };
        let auth = if let Some(tokens) = conn.credential(API_TOKEN) {
            let joined: Vec<&str> = tokens
                .expose()
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            Auth::Token(joined.join(","))
        } else if let (Some(user), Some(pass)) = (
            conn.setting(USERNAME).or_else(|| cred(conn, USERNAME)),
            conn.credential(PASSWORD),
        ) {
            let header = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", pass.expose()));
            Auth::Password { user, header }
        } else {
            return Err(ConnectorError::new(
                ErrorKind::AuthFailed,
                "no API token (or login name and password) is set",
            )
            .with_code("missing_credentials")
            .with_ja("APIトークン(またはログイン名とパスワード)を入力してください")
            .with_field(API_TOKEN));
        };
        let basic = match (
            conn.setting(BASIC_AUTH_USER),
            conn.credential(BASIC_AUTH_PASSWORD),
        ) {
            (Some(u), Some(p)) => Some(
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{}", p.expose())),
            ),
            _ => None,
        };
        Ok(Api {
            client,
            root,
            prefix,
            auth,
            basic,
        })
    }

    /// Where a person opens one record of `app` in kintone's own UI (`{id}` for its id).
    pub fn record_url(&self, app: &str) -> String {
        let space = self.prefix.trim_end_matches("/v1");
        format!("{}{space}/{app}/{}", self.root, crate::assumed::RECORD_PAGE)
    }

    /// "API token" or "user taro", for 接続テスト.
    pub fn signed_in_as(&self) -> String {
        match &self.auth {
            Auth::Token(_) => "API token".to_string(),
            Auth::Password { user, .. } => format!("user {user}"),
        }
    }

    /// Identifies the account for caches: the URL and a digest of the credentials (never them).
    pub fn identity(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        match &self.auth {
            Auth::Token(t) => t.hash(&mut h),
            Auth::Password { header, .. } => header.hash(&mut h),
        }
        format!("{}{}#{:x}", self.root, self.prefix, h.finish())
    }

    /// The API path of `name` as bulkRequest wants it: `/k/v1/records.json`.
    pub fn api_path(&self, name: &str) -> String {
        format!("{}/{name}.json", self.prefix)
    }

    fn url(&self, name: &str) -> String {
        format!("{}{}", self.root, self.api_path(name))
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let mut rb = self.client.request(method, url);
        rb = match &self.auth {
            Auth::Token(t) => rb.header("X-Cybozu-API-Token", t),
            Auth::Password { header, .. } => rb.header("X-Cybozu-Authorization", header),
        };
        if let Some(b) = &self.basic {
            rb = rb.header("Authorization", format!("Basic {b}"));
        }
        rb
    }

    /// GET with query-string parameters (`fields[0]=…` style for arrays, as the official client
    /// sends them); a long one goes as a POST with a method override and a JSON body.
    pub fn get(&self, name: &str, params: &Value) -> Result<Answer, ApiError> {
        let pairs = query_pairs(params);
        let url = self.url(name);
        let built = self
            .client
            .get(&url)
            .query(&pairs)
            .build()
            .map(|r| r.url().as_str().len())
            .unwrap_or(usize::MAX);
        if built > MAX_URL_LEN {
            let rb = self
                .request(Method::POST, &url)
                .header("X-HTTP-Method-Override", "GET")
                .json(params);
            return self.send(rb);
        }
        self.send(self.request(Method::GET, &url).query(&pairs))
    }

    /// DELETE with query-string parameters (reference §11).
    pub fn delete(&self, name: &str, params: &Value) -> Result<Answer, ApiError> {
        let pairs = query_pairs(params);
        self.send(self.request(Method::DELETE, &self.url(name)).query(&pairs))
    }

    pub fn post(&self, name: &str, body: &Value) -> Result<Answer, ApiError> {
        self.send(self.request(Method::POST, &self.url(name)).json(body))
    }

    pub fn put(&self, name: &str, body: &Value) -> Result<Answer, ApiError> {
        self.send(self.request(Method::PUT, &self.url(name)).json(body))
    }

    fn send(&self, rb: RequestBuilder) -> Result<Answer, ApiError> {
        let resp = rb.send().map_err(|e| ApiError::network(&e, &self.root))?;
        read_answer(resp, &self.root)
    }
}

/// A username may be stored as a setting or, by some wizards, next to the password.
fn cred(conn: &Connection, key: &str) -> Option<String> {
    conn.credential(key).map(|s| s.expose().to_string())
}

fn read_answer(resp: Response, root: &str) -> Result<Answer, ApiError> {
    let status = resp.status().as_u16();
    let date = header(resp.headers(), DATE);
    let retry_after = header(resp.headers(), RETRY_AFTER);
    let text = resp.text().map_err(|e| ApiError::network(&e, root))?;
    let body: Option<Value> = if text.trim().is_empty() {
        Some(Value::Null)
    } else {
        serde_json::from_str(&text).ok()
    };
    if (200..300).contains(&status) {
        return match body {
            Some(body) => Ok(Answer { body, date }),
            None => Err(ApiError::http(status, retry_after.as_deref(), &text, root)),
        };
    }
    match body {
        Some(b) if b.get("code").and_then(Value::as_str).is_some() => {
            Err(ApiError::kintone(status, retry_after.as_deref(), b))
        }
        // A bulkRequest failure carries the error inside `results`.
        Some(b) if b.get("results").is_some() => {
            Err(ApiError::kintone(status, retry_after.as_deref(), b))
        }
        _ => Err(ApiError::http(status, retry_after.as_deref(), &text, root)),
    }
}

/// `{"app":1,"fields":["a","b"]}` → `app=1&fields[0]=a&fields[1]=b`.
pub fn query_pairs(params: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = params {
        for (k, v) in map {
            match v {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        out.push((format!("{k}[{i}]"), scalar(item)));
                    }
                }
                Value::Null => {}
                other => out.push((k.clone(), scalar(other))),
            }
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `{"app": "1"}` with the app id as kintone writes it.
pub fn app_param(app: &str) -> Value {
    json!({ "app": app })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_forms() {
        assert_eq!(
            normalize_base_url("example").unwrap(),
            "https://example.cybozu.com"
        );
        assert_eq!(
            normalize_base_url("example.cybozu.com/").unwrap(),
            "https://example.cybozu.com"
        );
        assert_eq!(
            normalize_base_url("http://localhost:8080/k/v1").unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(
            normalize_base_url("https://proxy.example.jp/kintone/").unwrap(),
            "https://proxy.example.jp/kintone"
        );
        let e = normalize_base_url("ftp://x").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidSettings);
        assert_eq!(e.field.as_deref(), Some(BASE_URL));
    }

    #[test]
    fn arrays_become_indexed_pairs() {
        let p = query_pairs(&json!({"app": "3", "ids": ["5", "6"], "x": null}));
        assert_eq!(
            p,
            vec![
                ("app".to_string(), "3".to_string()),
                ("ids[0]".to_string(), "5".to_string()),
                ("ids[1]".to_string(), "6".to_string()),
            ]
        );
    }
}
