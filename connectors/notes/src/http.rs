//! One connection's view of Domino Access Services: URLs under the mail database, Basic
//! authentication with the Internet password (a `DomAuthSessId` session when the server refuses
//! Basic, reference §8), and every answer's status turned into what the caller acts on. No
//! retries here: the hub owns them.

use connector_http::{header, json_or_null, transport_error, Remote};
use connector_sdk::{Connection, ConnectorError, ErrorKind, Secret};
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{
    HeaderMap, CONTENT_RANGE, CONTENT_TYPE, COOKIE, DATE, LAST_MODIFIED, LOCATION, RETRY_AFTER,
    SET_COOKIE,
};
use reqwest::{Method, Url};
use serde_json::Value;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use crate::assumed;
use crate::errors;
use crate::manifest::{DATABASE, PASSWORD, SERVER_URL, USERNAME};

const REMOTE: Remote = Remote {
    name: "Domino",
    url_name: "Domino server URL",
    url_setting: SERVER_URL,
    bad_url_ja: "Domino のサーバー URL が正しくありません",
    unreachable_ja: "Domino サーバーに接続できません",
    unreadable_ja: "Domino の応答(HTTP {status})を読み取れませんでした",
};

pub fn build_client() -> Result<Client, ConnectorError> {
    connector_http::client_from(
        // The login answers 302; a redirect to the login form must be seen, not followed.
        Client::builder().redirect(reqwest::redirect::Policy::none()),
        concat!("renkei-hub-notes/", env!("CARGO_PKG_VERSION")),
    )
}

/// A call that got no answer.
fn no_answer(e: reqwest::Error) -> ConnectorError {
    transport_error(&e, &REMOTE)
}

/// Session cookies of servers that refuse Basic, by (server, user, password digest). A cache
/// only: a new worker signs in again.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<u64, String>>);

impl Sessions {
    fn get(&self, key: u64) -> Option<String> {
        self.0.lock().ok()?.get(&key).cloned()
    }

    fn put(&self, key: u64, cookie: Option<String>) {
        if let Ok(mut m) = self.0.lock() {
            match cookie {
                Some(c) => m.insert(key, c),
                None => m.remove(&key),
            };
        }
    }
}

/// An answer of any status except an authentication failure (those are errors already).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// `Null` for an empty body.
    pub body: Value,
    pub last_modified: Option<String>,
    pub location: Option<String>,
    /// The server's clock (RFC 1123), to start watermarks from.
    pub date: Option<String>,
    pub content_range: Option<String>,
    retry_after: Option<String>,
}

impl Answer {
    pub fn is_ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The answer when it is a success, else the error its status and body mean; `doing` says
    /// what was asked ("reading view ($Contacts)").
    pub fn ok(self, doing: &str) -> Result<Answer, ConnectorError> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(errors::status_error(
                self.status,
                &self.body,
                self.retry_after.as_deref(),
                doing,
            ))
        }
    }
}

pub struct Api<'a> {
    client: &'a Client,
    sessions: &'a Sessions,
    server: Url,
    database: String,
    user: String,
    password: Secret,
}

/// `mail\tyamada.nsf`, `/mail/tyamada.nsf` → `mail/tyamada.nsf`.
pub fn normalize_database(db: &str) -> String {
    db.trim().replace('\\', "/").trim_matches('/').to_string()
}

impl<'a> Api<'a> {
    pub fn new(
        client: &'a Client,
        sessions: &'a Sessions,
        conn: &Connection,
    ) -> Result<Self, ConnectorError> {
        let password = conn.require_credential(PASSWORD)?.clone();
        Self::with_password(client, sessions, conn, password)
    }

    /// As [`Api::new`] with another password (to check a new one before it is stored).
    pub fn with_password(
        client: &'a Client,
        sessions: &'a Sessions,
        conn: &Connection,
        password: Secret,
    ) -> Result<Self, ConnectorError> {
        let raw = conn.require_setting(SERVER_URL)?;
        let server = Url::parse(raw.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidSettings,
                    format!("server URL '{raw}' is not an http(s) URL"),
                )
                .with_ja(format!(
                    "サーバー URL「{raw}」が正しくありません(例: https://domino.example.co.jp)"
                ))
                .with_field(SERVER_URL)
            })?;
        let database = normalize_database(&conn.require_setting(DATABASE)?);
        if !database.to_ascii_lowercase().ends_with(".nsf") {
            return Err(ConnectorError::new(
                ErrorKind::InvalidSettings,
                format!("mail database '{database}' is not an .nsf path (e.g. mail/tyamada.nsf)"),
            )
            .with_ja(format!(
                "メールデータベース「{database}」は .nsf のパスで入力してください(例: mail/tyamada.nsf)"
            ))
            .with_field(DATABASE));
        }
        Ok(Api {
            client,
            sessions,
            server,
            database,
            user: conn.require_setting(USERNAME)?,
            password,
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn server(&self) -> String {
        self.server.as_str().trim_end_matches('/').to_string()
    }

    /// `{server}/{database}/{segments…}`; each segment is percent-encoded as a path segment.
    fn db_url(&self, segments: &[&str]) -> Url {
        let mut url = self.server.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            p.extend(self.database.split('/'));
            p.extend(segments);
        }
        url
    }

    /// `{server}/{segments…}` (server-wide resources such as `/api/data`).
    fn server_url(&self, segments: &[&str]) -> Url {
        let mut url = self.server.clone();
        if let Ok(mut p) = url.path_segments_mut() {
            p.pop_if_empty();
            p.extend(segments);
        }
        url
    }

    fn session_key(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.server.as_str(), &self.user, self.password.expose()).hash(&mut h);
        h.finish()
    }

    /// GET under the database.
    pub fn get(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Answer, ConnectorError> {
        self.call(Method::GET, self.db_url(segments), query, &[], None)
    }

    /// GET of a server-wide resource.
    pub fn get_server(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Answer, ConnectorError> {
        self.call(Method::GET, self.server_url(segments), query, &[], None)
    }

    /// Any method under the database, with extra headers and an optional JSON body.
    pub fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        self.call(method, self.db_url(segments), query, headers, body)
    }

    fn call(
        &self,
        method: Method,
        url: Url,
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        let key = self.session_key();
        let build = |cookie: Option<&str>| -> RequestBuilder {
            let mut rb = self
                .client
                .request(method.clone(), url.clone())
                .query(query);
            rb = match cookie {
                Some(c) => rb.header(COOKIE, c),
                None => rb.basic_auth(&self.user, Some(self.password.expose())),
            };
            for (k, v) in headers {
                rb = rb.header(*k, v);
            }
            if let Some(b) = body {
                rb = rb.json(b);
            }
            rb
        };
        let cached = self.sessions.get(key);
        let resp = build(cached.as_deref()).send().map_err(no_answer)?;
        if !is_login_answer(&resp) {
            return read_answer(resp);
        }
        // Basic refused (or the session expired): sign in with the form once and try again.
        self.sessions.put(key, None);
        let Some(cookie) = self.login()? else {
            return Err(refused(&self.user));
        };
        self.sessions.put(key, Some(cookie.clone()));
        let resp = build(Some(&cookie)).send().map_err(no_answer)?;
        if is_login_answer(&resp) {
            self.sessions.put(key, None);
            return Err(refused(&self.user));
        }
        read_answer(resp)
    }

    /// `POST /names.nsf?Login`: the session cookie, or `None` when the server refused the
    /// name and password.
    fn login(&self) -> Result<Option<String>, ConnectorError> {
        let url = self
            .server
            .join(assumed::LOGIN_PATH)
            .map_err(|e| ConnectorError::new(ErrorKind::InvalidSettings, e.to_string()))?;
        let resp = self
            .client
            .post(url)
            .form(&[
                ("Username", self.user.as_str()),
                ("Password", self.password.expose()),
                ("RedirectTo", "/"),
            ])
            .send()
            .map_err(no_answer)?;
        Ok(session_cookie(resp.headers()))
    }
}

/// The cookie a successful login set (`DomAuthSessId…` or `LtpaToken…`), as `name=value`.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| {
            !v.is_empty()
                && (k.trim().starts_with(assumed::SESSION_COOKIE)
                    || k.trim().starts_with(assumed::LTPA_COOKIE))
        })
        .map(|(k, v)| format!("{}={}", k.trim(), v.trim()))
}

/// A refusal of the credentials: 401, or the HTML login form (any status) or a redirect to it
/// where JSON was asked for (reference §8: the form may come with 200).
fn is_login_answer(resp: &Response) -> bool {
    let status = resp.status().as_u16();
    if status == 401 {
        return true;
    }
    let html = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("text/html"));
    let to_login = (300..400).contains(&status)
        && resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.to_ascii_lowercase().contains("login"));
    (html && status < 300) || to_login
}

fn read_answer(resp: Response) -> Result<Answer, ConnectorError> {
    let status = resp.status().as_u16();
    let h = resp.headers().clone();
    let bytes = resp.bytes().map_err(no_answer)?;
    // Error pages of proxies and 5xx answers need not be JSON; their status says enough.
    let body = json_or_null(&bytes, status, !(200..300).contains(&status), &REMOTE)?;
    Ok(Answer {
        status,
        body,
        last_modified: header(&h, LAST_MODIFIED),
        location: header(&h, LOCATION),
        date: header(&h, DATE),
        content_range: header(&h, CONTENT_RANGE),
        retry_after: header(&h, RETRY_AFTER),
    })
}

fn refused(user: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::AuthFailed,
        format!(
            "Domino refused user '{user}' with this password; if the Internet password was changed, run the change_password action with the new one"
        ),
    )
    .with_code("login_refused")
    .with_ja(format!(
        "Domino がユーザー「{user}」のサインインを拒否しました。インターネットパスワードを変更した場合は「パスワード変更」で新しいパスワードを入力してください"
    ))
    .with_field(PASSWORD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn database_paths_are_normalized() {
        assert_eq!(
            normalize_database("\\mail\\tyamada.nsf"),
            "mail/tyamada.nsf"
        );
        assert_eq!(normalize_database(" /mail/t.nsf/ "), "mail/t.nsf");
    }

    #[test]
    fn session_cookies_are_found_by_prefix() {
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("Other=1; Path=/"));
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("DomAuthSessId_srv1=ABC; Path=/; HttpOnly"),
        );
        assert_eq!(
            session_cookie(&h).as_deref(),
            Some("DomAuthSessId_srv1=ABC")
        );
        let mut none = HeaderMap::new();
        none.append(
            SET_COOKIE,
            HeaderValue::from_static("DomAuthSessId=; Path=/"),
        );
        assert_eq!(session_cookie(&none), None);
    }
}
