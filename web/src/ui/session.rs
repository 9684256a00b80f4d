//! Browser sessions, CSRF and the language, for every UI route (one middleware).
//!
//! - The session cookie holds 256 random bits; the database keeps only their SHA-256. It is
//!   HttpOnly, SameSite=Lax, Path=/, and Secure when the page was reached over https.
//! - Every state-changing request (anything but GET/HEAD/OPTIONS) must carry the session's CSRF
//!   token, as the form field `_csrf` or the `X-CSRF-Token` header; otherwise 403. Login and
//!   setup forms get an anonymous session first, so they are covered the same way.
//! - The language is `?lang=ja|en` (remembered in the `lang` cookie), else the cookie, else ja.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::time::Duration;
use cookie::{Cookie, CookieBuilder, SameSite};
use hub_domain::Millis;
use hub_domain::Session;
use serde_json::{Map, Value};

use super::i18n::Lang;
use super::render;
use crate::error::PageFault;
use crate::AppState;

pub const SESSION_COOKIE: &str = "renkei_session";
pub const LANG_COOKIE: &str = "lang";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A signed-in session ends after this long without use.
pub const SESSION_IDLE_MS: Millis = 8 * 60 * 60 * 1000;
/// An anonymous session (login form) lasts this long.
pub const ANON_SESSION_MS: Millis = 2 * 60 * 60 * 1000;
/// Extending the expiry is a write: done at most this often per session.
const TOUCH_EVERY_MS: Millis = 5 * 60 * 1000;
/// Largest form body the CSRF check buffers.
const MAX_FORM_BYTES: usize = 1 << 20;

/// What every UI handler knows about the request.
#[derive(Clone, Debug)]
pub struct Ctx {
    pub lang: Lang,
    /// Cookie value and session, when the browser has a live one.
    pub session: Option<(String, Session)>,
    /// Whether the browser reached us over https (for the cookie's Secure flag).
    pub secure: bool,
    /// Path and query of this request, for the language switch and `next=` after login.
    pub path: String,
    /// The client's address (sign-in throttling).
    pub client: std::net::IpAddr,
}

impl Ctx {
    pub fn csrf(&self) -> &str {
        self.session
            .as_ref()
            .map(|(_, s)| s.csrf_token.as_str())
            .unwrap_or("")
    }

    pub fn data(&self) -> Map<String, Value> {
        self.session
            .as_ref()
            .map(|(_, s)| s.data.clone())
            .unwrap_or_default()
    }
}

/// The request's cookies, parsed by the `cookie` crate (RFC 6265 pairs; unparsable ones are
/// left out).
pub fn cookies(headers: &HeaderMap) -> impl Iterator<Item = Cookie<'_>> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    cookies(headers)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
}

/// What every cookie of ours says: the whole site, never sent cross-site on a POST, and
/// Secure when the page was reached over https.
fn ours(name: &'static str, value: &str, secure: bool) -> CookieBuilder<'static> {
    Cookie::build((name, value.to_string()))
        .path("/")
        .same_site(SameSite::Lax)
        .secure(secure)
}

/// The session cookie as sent to the browser.
pub fn session_cookie(id: &str, secure: bool) -> String {
    ours(SESSION_COOKIE, id, secure)
        .http_only(true)
        .build()
        .to_string()
}

pub fn clear_session_cookie(secure: bool) -> String {
    ours(SESSION_COOKIE, "", secure)
        .http_only(true)
        .max_age(Duration::ZERO)
        .build()
        .to_string()
}

/// The `lang` cookie that remembers `?lang=` for a year: no secret, so neither HttpOnly nor
/// Secure (as it always was).
fn lang_cookie(lang: Lang) -> String {
    ours(LANG_COOKIE, lang.as_str(), false)
        .max_age(Duration::days(365))
        .build()
        .to_string()
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

/// Same length and same bytes, without stopping at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn csrf_from_form(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned())
}

pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let asked = query_lang(parts.uri.query());
    let lang = asked
        .or_else(|| cookie(&parts.headers, LANG_COOKIE).and_then(Lang::parse))
        .unwrap_or_default();
    let secure = s.edge.is_https(&parts.headers);
    let client = s.edge.client(&parts);
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());

    let mut session = None;
    if let Some(id) = cookie(&parts.headers, SESSION_COOKIE).filter(|v| v.len() == 64) {
        match s.hub.get_session(id).await {
            Ok(Some(sess)) => session = Some((id.to_string(), sess)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot read the session");
                return render::plain_error(lang, PageFault::Unavailable, "err.database")
                    .into_response();
            }
        }
    }
    if let Some((id, sess)) = &session {
        let now = hub_domain::now_ms();
        if now - sess.last_seen_at > TOUCH_EVERY_MS {
            let ttl = if sess.user.is_some() {
                SESSION_IDLE_MS
            } else {
                ANON_SESSION_MS
            };
            if let Err(e) = s.hub.touch_session(id, now + ttl).await {
                tracing::warn!(error = %e, "cannot extend the session");
            }
        }
    }

    let body = if matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        body
    } else {
        let bytes = match to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return render::plain_error(lang, PageFault::TooLarge, "err.too_large")
                    .into_response()
            }
        };
        let is_form = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                if is_form {
                    csrf_from_form(&bytes)
                } else {
                    None
                }
            });
        let ok = match (&session, sent) {
            (Some((_, sess)), Some(token)) => constant_time_eq(&sess.csrf_token, &token),
            _ => false,
        };
        if !ok {
            tracing::info!(path = %parts.uri.path(), "form refused: missing or wrong CSRF token");
            return render::plain_error(lang, PageFault::Forbidden, "err.csrf").into_response();
        }
        Body::from(bytes)
    };

    parts.extensions.insert(Ctx {
        lang,
        session,
        secure,
        path,
        client,
    });
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    if let Some(l) = asked {
        if let Ok(v) = HeaderValue::from_str(&lang_cookie(l)) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    // Pages carry a CSRF token and personal data: never cached by the browser or a proxy.
    resp.headers_mut()
        .entry(axum::http::header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Changes the session's data (wizard answers, flash message) as stored now, not as it was
/// when the request began, so two changes in one request never undo each other.
pub async fn update(s: &AppState, ctx: &Ctx, change: impl FnOnce(&mut Map<String, Value>)) {
    let Some((id, snapshot)) = &ctx.session else {
        return;
    };
    let mut data = match s.hub.get_session(id).await {
        Ok(Some(fresh)) => fresh.data,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot re-read the session; using the request's copy");
            snapshot.data.clone()
        }
    };
    change(&mut data);
    if let Err(e) = s.hub.save_session_data(id, &data).await {
        tracing::error!(error = %e, "cannot save the session data");
    }
}

/// Sets a one-time message shown on the next page.
pub async fn flash(s: &AppState, ctx: &Ctx, text: &str) {
    update(s, ctx, |d| {
        d.insert("flash".into(), Value::String(text.to_string()));
    })
    .await;
}

#[cfg(test)]
mod cookie_tests {
    use super::*;

    fn attrs(set_cookie: &str) -> Vec<String> {
        let mut a: Vec<String> = set_cookie.split("; ").skip(1).map(str::to_string).collect();
        a.sort();
        a
    }

    #[test]
    fn our_cookies_carry_exactly_their_flags() {
        let id = "a".repeat(64);
        assert!(session_cookie(&id, false).starts_with(&format!("renkei_session={id}; ")));
        assert_eq!(
            attrs(&session_cookie(&id, false)),
            ["HttpOnly", "Path=/", "SameSite=Lax"]
        );
        assert_eq!(
            attrs(&session_cookie(&id, true)),
            ["HttpOnly", "Path=/", "SameSite=Lax", "Secure"]
        );
        assert!(clear_session_cookie(true).starts_with("renkei_session=; "));
        assert_eq!(
            attrs(&clear_session_cookie(true)),
            ["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax", "Secure"]
        );
        assert!(lang_cookie(Lang::En).starts_with("lang=en; "));
        assert_eq!(
            attrs(&lang_cookie(Lang::En)),
            ["Max-Age=31536000", "Path=/", "SameSite=Lax"]
        );
    }

    #[test]
    fn cookies_are_read_by_name_past_odd_pairs() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("theme=dark;  lang=en ;junk"),
        );
        h.append(COOKIE, HeaderValue::from_static("renkei_session=abc=="));
        assert_eq!(cookie(&h, "lang"), Some("en"));
        assert_eq!(cookie(&h, "renkei_session"), Some("abc=="));
        assert_eq!(cookie(&h, "junk"), None);
        assert_eq!(cookie(&h, "missing"), None);
    }
}
