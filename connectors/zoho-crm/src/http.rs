//! One connection's view of the CRM API: the base URL from its settings, the
//! `Zoho-oauthtoken` header from its access token, and every HTTP failure turned into the SDK
//! error kind that tells the hub what to do (refresh, back off, give up). No retries here.

use connector_http::{header, json_or_null, transport_error, Remote};
use connector_sdk::{Connection, ConnectorError, ErrorKind, Secret};
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{AUTHORIZATION, DATE, RETRY_AFTER};
use reqwest::Method;
use serde_json::Value;

use crate::manifest::{ACCOUNTS_URL, API_DOMAIN, DATA_CENTRE, DATA_CENTRES};

const REMOTE: Remote = Remote {
    name: "Zoho CRM",
    url_name: "Zoho CRM URL",
    url_setting: API_DOMAIN,
    bad_url_ja: "Zoho CRM の URL が正しくありません。APIドメインを確認してください",
    unreachable_ja: "Zoho CRM に接続できません",
    unreadable_ja: "Zoho CRM の応答(HTTP {status})を読み取れませんでした",
};

pub fn build_client() -> Result<Client, ConnectorError> {
    connector_http::client(concat!("renkei-hub-zoho-crm/", env!("CARGO_PKG_VERSION")))
}

/// `{api_domain}` of a connection: the explicit setting, else the one of its accounts server's
/// data centre (a custom accounts server needs an explicit API domain).
pub fn api_domain(conn: &Connection) -> Result<String, ConnectorError> {
    if let Some(d) = conn.setting(API_DOMAIN) {
        return Ok(d.trim_end_matches('/').to_string());
    }
    let (key, accounts) = match conn.setting(ACCOUNTS_URL) {
        Some(a) => (ACCOUNTS_URL, a),
        None => match conn.setting(DATA_CENTRE) {
            Some(d) => (DATA_CENTRE, d),
            None => return Ok(DATA_CENTRES[0].api_domain.to_string()),
        },
    };
    let wanted = accounts.trim_end_matches('/');
    DATA_CENTRES
        .iter()
        .find(|d| d.accounts == wanted || d.code.eq_ignore_ascii_case(wanted))
        .map(|d| d.api_domain.to_string())
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::InvalidSettings,
                format!("{key} '{wanted}' is not a known Zoho data centre: set api_domain too"),
            )
            .with_ja(format!(
                "「{wanted}」は既知のデータセンターではありません。APIドメインも入力してください"
            ))
            .with_field(API_DOMAIN)
        })
}

/// An answer the caller reads: a success, 204/304, or a 400 that carries per-record results.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// `Null` for an empty body (204, 304).
    pub body: Value,
    /// The server's `Date` header (RFC 2822), to start watermarks from the server's clock.
    pub date: Option<String>,
}

pub struct Api<'a> {
    client: &'a Client,
    base: String,
    token: &'a Secret,
}

impl<'a> Api<'a> {
    pub fn new(client: &'a Client, conn: &'a Connection) -> Result<Self, ConnectorError> {
        let token = conn.credential("access_token").ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::AuthExpired,
                "no access token yet: the hub must sign in or refresh first",
            )
            .with_code("INVALID_TOKEN")
            .with_ja("アクセストークンがありません。連携トークンの更新を行ってください")
        })?;
        Ok(Api {
            client,
            base: format!("{}/crm/v8", api_domain(conn)?),
            token,
        })
    }

    /// Identifies the org for caches: the base URL and a digest of the token (never the token).
    pub fn identity(&self) -> (String, u64) {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.token.expose().hash(&mut h);
        (self.base.clone(), h.finish())
    }

    pub fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        if_modified_since: Option<&str>,
    ) -> Result<Answer, ConnectorError> {
        self.send(self.get_request(path, query, if_modified_since), false)
    }

    /// As [`Api::get`], but a 400 comes back as an answer for the caller to judge (a stale
    /// `page_token` is recoverable).
    pub fn get_or_400(
        &self,
        path: &str,
        query: &[(&str, String)],
        if_modified_since: Option<&str>,
    ) -> Result<Answer, ConnectorError> {
        self.send(self.get_request(path, query, if_modified_since), true)
    }

    fn get_request(
        &self,
        path: &str,
        query: &[(&str, String)],
        if_modified_since: Option<&str>,
    ) -> RequestBuilder {
        let mut rb = self.request(Method::GET, path).query(query);
        if let Some(ims) = if_modified_since {
            rb = rb.header("If-Modified-Since", ims);
        }
        rb
    }

    pub fn send_json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let mut rb = self.request(method, path).query(query);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        self.send(rb, false)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(
                method,
                format!("{}/{}", self.base, path.trim_start_matches('/')),
            )
            .header(
                AUTHORIZATION,
                format!("Zoho-oauthtoken {}", self.token.expose()),
            )
    }

    fn send(&self, rb: RequestBuilder, accept_400: bool) -> Result<Answer, ConnectorError> {
        let resp = rb.send().map_err(|e| transport_error(&e, &REMOTE))?;
        let status = resp.status().as_u16();
        let date = header(resp.headers(), DATE);
        let retry_after = header(resp.headers(), RETRY_AFTER);
        let bytes = resp.bytes().map_err(|e| transport_error(&e, &REMOTE))?;
        let body = json_or_null(&bytes, status, status >= 500 || status == 429, &REMOTE)?;
        let per_record =
            status == 400 && (accept_400 || body.get("data").is_some_and(Value::is_array));
        if (200..300).contains(&status) || status == 304 || per_record {
            return Ok(Answer { status, body, date });
        }
        Err(status_error(status, &body, retry_after.as_deref()))
    }
}

/// A whole-call failure from the status and Zoho's `{code, message, details}` body.
pub fn status_error(status: u16, body: &Value, retry_after: Option<&str>) -> ConnectorError {
    let code = body
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let said = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (kind, ja) = match (status, code.as_str()) {
        (_, "OAUTH_SCOPE_MISMATCH") => (
            ErrorKind::AuthFailed,
            "アクセス権限(スコープ)が不足しています。連携トークンの更新から再認証してください",
        ),
        (401, _) | (_, "INVALID_TOKEN") => (
            ErrorKind::AuthExpired,
            "アクセストークンの有効期限が切れました",
        ),
        (_, "LIMIT_REACHED") => (
            ErrorKind::QuotaExceeded,
            "Zoho CRM の API 利用上限に達しました",
        ),
        (429, _) => (
            ErrorKind::RateLimited,
            "Zoho CRM へのリクエストが多すぎます。少し待ってから再実行します",
        ),
        (_, "INVALID_MODULE") => (
            ErrorKind::NotFound,
            "指定したモジュールは Zoho CRM にありません",
        ),
        (_, "FEATURE_NOT_SUPPORTED") => (
            ErrorKind::Unsupported,
            "この Zoho CRM のエディションでは使えない機能です",
        ),
        (403, _) | (_, "NO_PERMISSION") => (
            ErrorKind::PermissionDenied,
            "Zoho CRM のこのユーザーには権限がありません",
        ),
        (404, _) => (ErrorKind::NotFound, "Zoho CRM に見つかりません"),
        (_, "RECORD_LOCKED") => (
            ErrorKind::Transient,
            "レコードがロックされています。しばらくしてから再実行してください",
        ),
        (s, _) if s >= 500 => (
            ErrorKind::Transient,
            "Zoho CRM でエラーが発生しました。しばらくしてから再実行します",
        ),
        (
            400,
            "INVALID_DATA" | "MANDATORY_NOT_FOUND" | "DUPLICATE_DATA" | "PATTERN_NOT_MATCHED",
        ) => (
            ErrorKind::InvalidData,
            "Zoho CRM がデータを受け付けませんでした",
        ),
        _ => (ErrorKind::Internal, "Zoho CRM が要求を受け付けませんでした"),
    };
    let code_shown = if code.is_empty() {
        format!("HTTP_{status}")
    } else {
        code.clone()
    };
    let mut err = ConnectorError::new(
        kind,
        format!("Zoho CRM answered HTTP {status} {code_shown}: {said}")
            .trim_end_matches(": ")
            .to_string(),
    )
    .with_code(code_shown)
    .with_ja(format!("{ja}(HTTP {status})"));
    if let Some(f) = body.pointer("/details/api_name").and_then(Value::as_str) {
        err = err.with_field(f);
    }
    if kind == ErrorKind::RateLimited {
        if let Some(secs) = retry_after.and_then(|s| s.trim().parse::<u64>().ok()) {
            err = err.with_retry_after_ms(secs.saturating_mul(1000));
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conn(settings: Value) -> Connection {
        Connection {
            settings: settings.as_object().cloned().unwrap_or_default(),
            credentials: Default::default(),
        }
    }

    #[test]
    fn api_domain_follows_data_centre_unless_given() {
        assert_eq!(
            api_domain(&conn(json!({}))).unwrap(),
            "https://www.zohoapis.jp"
        );
        assert_eq!(
            api_domain(&conn(json!({"data_centre": "https://accounts.zoho.eu/"}))).unwrap(),
            "https://www.zohoapis.eu"
        );
        assert_eq!(
            api_domain(&conn(json!({"data_centre": "https://accounts.zoho.com", "api_domain": "http://localhost:9/"})))
                .unwrap(),
            "http://localhost:9"
        );
        let e = api_domain(&conn(json!({"accounts_url": "http://localhost:8"}))).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidSettings);
        assert_eq!(e.field.as_deref(), Some("api_domain"));
    }

    #[test]
    fn statuses_become_what_the_hub_acts_on() {
        let e = status_error(
            401,
            &json!({"code": "INVALID_TOKEN", "message": "invalid oauth token"}),
            None,
        );
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::AuthExpired, "INVALID_TOKEN")
        );
        let e = status_error(429, &json!({"code": "TOO_MANY_REQUESTS"}), Some("7"));
        assert_eq!(
            (e.kind, e.retry_after_ms),
            (ErrorKind::RateLimited, Some(7000))
        );
        assert_eq!(
            status_error(503, &Value::Null, None).kind,
            ErrorKind::Transient
        );
        let e = status_error(400, &json!({"code": "INVALID_MODULE"}), None);
        assert_eq!(e.kind, ErrorKind::NotFound);
    }
}
