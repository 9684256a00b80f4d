//! The HTTP plumbing every connector repeated: the client (time limit, user agent), a header as
//! text, an answer's JSON body (blank = `null`), and a transport failure as the SDK's error kind.
//! What a status or an error body means stays each connector's own (`errors.rs`).
//!
//! An ordinary library each plugin links into its own cdylib: nothing here crosses the SDK's
//! C ABI, so it may change without touching the ABI version.

use connector_sdk::{ConnectorError, ErrorKind};
use reqwest::blocking::{Client, ClientBuilder};
use reqwest::header::{HeaderMap, HeaderName};
use serde_json::Value;
use std::time::Duration;

/// One call's time limit; the hub's worker has its own, longer one.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// How one connector's messages name its system, for the errors made here. `{status}` in
/// `unreadable_ja` is replaced by the HTTP status.
#[derive(Debug, Clone, Copy)]
pub struct Remote {
    /// "Zoho CRM", "Domino", "奉行クラウド".
    pub name: &'static str,
    /// The URL a bad-URL error names: "Domino server URL".
    pub url_name: &'static str,
    /// The setting that holds that URL, named as the error's field.
    pub url_setting: &'static str,
    pub bad_url_ja: &'static str,
    /// The start of the transient error in Japanese: "Domino サーバーに接続できません".
    pub unreachable_ja: &'static str,
    pub unreadable_ja: &'static str,
}

/// A client with the shared time limit and `user_agent`.
pub fn client(user_agent: &'static str) -> Result<Client, ConnectorError> {
    client_from(Client::builder(), user_agent)
}

/// As [`client`], from a builder with the connector's own settings (a redirect policy…).
pub fn client_from(
    builder: ClientBuilder,
    user_agent: &'static str,
) -> Result<Client, ConnectorError> {
    builder
        .timeout(TIMEOUT)
        .user_agent(user_agent)
        .build()
        .map_err(|e| {
            ConnectorError::new(
                ErrorKind::Internal,
                format!("cannot start HTTP client: {e}"),
            )
        })
}

/// A header's value as text; `None` when absent or not visible ASCII.
pub fn header(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// An answer's JSON body: `null` when blank (204, 304) and, when `unreadable_is_null`, when it
/// is not JSON (error pages of proxies and 5xx answers need not be; their status says enough).
/// Otherwise unreadable JSON is a transient error.
pub fn json_or_null(
    bytes: &[u8],
    status: u16,
    unreadable_is_null: bool,
    remote: &Remote,
) -> Result<Value, ConnectorError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(_) if unreadable_is_null => Ok(Value::Null),
        Err(e) => Err(ConnectorError::new(
            ErrorKind::Transient,
            format!(
                "{} answered HTTP {status} with unreadable JSON: {e}",
                remote.name
            ),
        )
        .with_ja(
            remote
                .unreadable_ja
                .replace("{status}", &status.to_string()),
        )),
    }
}

/// A call that got no answer: a URL that cannot be built is the URL setting's fault, anything
/// else (refused, reset, timed out) may pass.
pub fn transport_error(e: &reqwest::Error, remote: &Remote) -> ConnectorError {
    if e.is_builder() {
        return ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("bad {}: {e}", remote.url_name),
        )
        .with_ja(remote.bad_url_ja)
        .with_field(remote.url_setting);
    }
    ConnectorError::new(
        ErrorKind::Transient,
        format!("cannot reach {}: {e}", remote.name),
    )
    .with_ja(format!(
        "{}。しばらくしてから再実行してください",
        remote.unreachable_ja
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REMOTE: Remote = Remote {
        name: "Example",
        url_name: "Example URL",
        url_setting: "base_url",
        bad_url_ja: "Example の URL が正しくありません",
        unreachable_ja: "Example に接続できません",
        unreadable_ja: "Example の応答(HTTP {status})を読み取れませんでした",
    };

    #[test]
    fn blank_bodies_are_null_and_unreadable_ones_follow_the_caller() {
        assert_eq!(
            json_or_null(b" \n", 204, false, &REMOTE).unwrap(),
            Value::Null
        );
        assert_eq!(
            json_or_null(br#"{"a":1}"#, 200, false, &REMOTE).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            json_or_null(b"<html>", 502, true, &REMOTE).unwrap(),
            Value::Null
        );
        let e = json_or_null(b"<html>", 200, false, &REMOTE).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transient);
        assert_eq!(
            e.message_ja.as_deref(),
            Some("Example の応答(HTTP 200)を読み取れませんでした")
        );
    }

    #[test]
    fn a_bad_url_names_the_setting_and_a_refused_call_may_pass() {
        let client = client("test").unwrap();
        let bad = client.get("http://[::1").send().unwrap_err();
        let e = transport_error(&bad, &REMOTE);
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidSettings, Some("base_url"))
        );
        // Port 9 (discard) on localhost: nothing listens in the test environment.
        let refused = client.get("http://127.0.0.1:9/").send().unwrap_err();
        let e = transport_error(&refused, &REMOTE);
        assert_eq!(e.kind, ErrorKind::Transient);
        assert!(
            e.message.starts_with("cannot reach Example:"),
            "{}",
            e.message
        );
    }
}
