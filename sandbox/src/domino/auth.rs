//! Authentication (reference §8): Basic with the Internet password, or a `DomAuthSessId` session
//! from `POST /names.nsf?Login`. Missing or wrong credentials get the HTML login form, not JSON.

use super::model::User;
use super::{assumed, lock, Shared};
use crate::cookies;
use axum::extract::{Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use cookie::Cookie;
use html_escape::encode_double_quoted_attribute;
use std::collections::HashMap;

pub struct Session {
    user: String,
    last_seen: DateTime<Utc>,
}

/// The signed-in user, for handlers.
#[derive(Clone)]
pub struct AuthUser(pub User);

fn basic_credentials(h: &HeaderMap) -> Option<(String, String)> {
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn session_user(st: &Shared, h: &HeaderMap) -> Option<User> {
    let sid = cookies::get(h, assumed::SESSION_COOKIE)?;
    let now = Utc::now();
    let short = {
        let mut sessions = lock(&st.sessions);
        let s = sessions.get_mut(&sid)?;
        if now - s.last_seen > Duration::minutes(assumed::SESSION_IDLE_MINUTES) {
            sessions.remove(&sid);
            return None;
        }
        s.last_seen = now;
        s.user.clone()
    };
    st.read(|s| s.user(&short).cloned())
}

/// The server's login form.
fn login_page(status: StatusCode, redirect: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"error\">{}</p>",
                encode_double_quoted_attribute(e)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"UTF-8\"><title>Server Login</title></head>\
         <body><form method=\"post\" action=\"/names.nsf?Login\" name=\"_DominoForm\">\
         <h1>サーバーへのログイン</h1>{error}\
         <p><label>ユーザー名 <input type=\"text\" name=\"Username\"></label></p>\
         <p><label>パスワード <input type=\"password\" name=\"Password\"></label></p>\
         <input type=\"hidden\" name=\"RedirectTo\" value=\"{}\">\
         <p><input type=\"submit\" value=\"ログイン\"></p></form></body></html>",
        encode_double_quoted_attribute(redirect)
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=UTF-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"/\""),
        );
    }
    r
}

fn failure_status(st: &Shared) -> StatusCode {
    let code = st.read(|s| s.settings.auth_failure_status);
    StatusCode::from_u16(code).unwrap_or(StatusCode::UNAUTHORIZED)
}

/// Middleware of the API routes: resolves the user or answers with the login form.
pub async fn require(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    let user = match basic_credentials(req.headers()) {
        Some((name, password)) => st.read(|s| s.login(&name, &password).cloned()),
        None => session_user(&st, req.headers()),
    };
    match user {
        Some(u) => {
            req.extensions_mut().insert(AuthUser(u));
            next.run(req).await
        }
        None => {
            let target = req.uri().to_string();
            login_page(failure_status(&st), &target, None)
        }
    }
}

/// `/names.nsf?Login`, `/?Login`, `…?Logout`.
pub fn login_routes() -> Router<Shared> {
    Router::new()
        .route("/names.nsf", get(login_get).post(login_post))
        .route("/", get(login_get).post(login_post))
}

fn query_has(uri: &Uri, word: &str) -> bool {
    uri.query()
        .unwrap_or("")
        .split('&')
        .any(|p| p.split('=').next().unwrap_or("").eq_ignore_ascii_case(word))
}

fn redirect(to: &str) -> Response {
    let to = if to.is_empty() { "/" } else { to };
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn login_get(State(st): State<Shared>, uri: Uri, headers: HeaderMap) -> Response {
    if query_has(&uri, "Logout") {
        if let Some(sid) = cookies::get(&headers, assumed::SESSION_COOKIE) {
            lock(&st.sessions).remove(&sid);
        }
        let mut r = redirect("/");
        let expired = Cookie::build((assumed::SESSION_COOKIE, ""))
            .path("/")
            .expires(cookie::time::OffsetDateTime::UNIX_EPOCH);
        cookies::set(r.headers_mut(), expired.build());
        return r;
    }
    login_page(StatusCode::OK, "/", None)
}

async fn login_post(
    State(st): State<Shared>,
    uri: Uri,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !query_has(&uri, "Login") {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let field = |n: &str| {
        form.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let target = field("RedirectTo");
    let user = st.read(|s| s.login(&field("Username"), &field("Password")).cloned());
    let Some(user) = user else {
        return login_page(
            failure_status(&st),
            &target,
            Some("ユーザー名またはパスワードが正しくありません。"),
        );
    };
    let sid = super::http::new_unid();
    lock(&st.sessions).insert(
        sid.clone(),
        Session {
            user: user.short_name,
            last_seen: Utc::now(),
        },
    );
    let mut r = redirect(&target);
    let c = Cookie::build((assumed::SESSION_COOKIE, sid))
        .path("/")
        .http_only(true);
    cookies::set(r.headers_mut(), c.build());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_login_form_shows_what_it_was_given_as_text() {
        let r = login_page(
            StatusCode::UNAUTHORIZED,
            "/db.nsf\"><script>x()</script>",
            Some("<b>A & B</b>"),
        );
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("<script>"), "{body}");
        assert!(!body.contains("<b>"), "{body}");
        assert!(body.contains("value=\"/db.nsf&quot;&gt;&lt;script&gt;x()&lt;/script&gt;\""));
        assert!(body.contains("<p class=\"error\">&lt;b&gt;A &amp; B&lt;/b&gt;</p>"));
    }
}
