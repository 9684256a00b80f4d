//! The browser side of the authorization-code flow (reference/obc.md §2): the OBCiD login page
//! (OBCiD + パスワード), then the consent page with 「許可する」, then the redirect back to the
//! application with `code` and `state`.

use super::assumed;
use super::model::random_token;
use super::{lock, Shared};
use crate::cookies;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use cookie::{Cookie, SameSite};
use std::collections::HashMap;
use url::Url;

/// An authorization request waiting for login and consent.
pub struct Pending {
    client_id: String,
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<(String, String)>,
    obcid: Option<String>,
    created: DateTime<Utc>,
}

/// An issued, not yet exchanged authorization code.
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub obcid: String,
    /// PKCE `(code_challenge, method)` when the request carried one.
    pub challenge: Option<(String, String)>,
    pub expires: DateTime<Utc>,
}

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(assumed::AUTHORIZE_PATH, get(authorize))
        .route(assumed::LOGIN_PATH, post(login))
        .route(assumed::CONSENT_PATH, post(consent))
}

/// Text for the page, quoted for both element and `"…"` attribute content.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><header><h1>奉行クラウド</h1></header><main>{body}</main></body></html>",
        esc(title)
    );
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn error_page(message: &str) -> Response {
    page(
        StatusCode::BAD_REQUEST,
        "エラー",
        &format!("<p class=\"error\">{}</p>", esc(message)),
    )
}

fn login_page(request_id: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "OBCiD ログイン",
        &format!(
            "<h2>OBCiD でログイン</h2>{error}\
             <form method=\"post\" action=\"{}\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
             <p><label>OBCiD <input type=\"text\" name=\"obcid\" autocomplete=\"username\"></label></p>\
             <p><label>パスワード <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label></p>\
             <p><button type=\"submit\">ログイン</button></p></form>",
            assumed::LOGIN_PATH,
            esc(request_id)
        ),
    )
}

fn consent_page(request_id: &str, client_name: &str, obcid: &str) -> Response {
    page(
        StatusCode::OK,
        "アクセスの許可",
        &format!(
            "<h2>アクセスの許可</h2>\
             <p>「{}」が、{} としてログインしている奉行クラウドへの次のアクセスを求めています。</p>\
             <ul><li>奉行クラウドのデータの参照</li><li>奉行クラウドへのデータの登録・更新</li></ul>\
             <form method=\"post\" action=\"{}\">\
             <input type=\"hidden\" name=\"request_id\" value=\"{}\">\
             <button type=\"submit\" name=\"decision\" value=\"allow\">許可する</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\">許可しない</button></form>",
            esc(client_name),
            esc(obcid),
            assumed::CONSENT_PATH,
            esc(request_id)
        ),
    )
}

/// Back to the application with `params` added to its redirect URI.
fn redirect_back(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page("リダイレクト先の URL が正しくありません。");
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn with_state<'a>(
    mut p: Vec<(&'a str, &'a str)>,
    state: &'a Option<String>,
) -> Vec<(&'a str, &'a str)> {
    if let Some(s) = state {
        p.push(("state", s));
    }
    p
}

fn browser_user(st: &Shared, h: &HeaderMap) -> Option<String> {
    let sid = cookies::get(h, assumed::OBCID_SESSION_COOKIE)?;
    lock(&st.sessions).get(&sid).cloned()
}

/// `GET /oauth2/authorize?response_type=code&client_id=&redirect_uri=&state=[&code_challenge=]`.
async fn authorize(
    State(st): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let client_id = q.get("client_id").cloned().unwrap_or_default();
    let Some(client_name) = st.read(|s| s.client(&client_id).map(|c| c.name.clone())) else {
        return error_page("クライアント ID が正しくありません。");
    };
    let redirect_uri = q.get("redirect_uri").cloned().unwrap_or_default();
    if !Url::parse(&redirect_uri).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
        return error_page("リダイレクト先の URL が正しくありません。");
    }
    let state = q.get("state").cloned();
    if q.get("response_type").map(String::as_str) != Some("code") {
        let p = with_state(vec![("error", "unsupported_response_type")], &state);
        return redirect_back(&redirect_uri, &p);
    }
    let challenge = match q.get("code_challenge") {
        Some(c) => {
            let m = q
                .get("code_challenge_method")
                .cloned()
                .unwrap_or_else(|| "plain".into());
            if m != "S256" && m != "plain" {
                let p = with_state(vec![("error", "invalid_request")], &state);
                return redirect_back(&redirect_uri, &p);
            }
            Some((c.clone(), m))
        }
        None => None,
    };
    let signed_in = browser_user(&st, &headers);
    let request_id = random_token(16);
    let mut pending = lock(&st.pending);
    let now = Utc::now();
    pending.retain(|_, p| now - p.created < Duration::seconds(assumed::CODE_TTL_SECS));
    pending.insert(
        request_id.clone(),
        Pending {
            client_id,
            redirect_uri,
            state,
            challenge,
            obcid: signed_in.clone(),
            created: now,
        },
    );
    drop(pending);
    match signed_in {
        Some(obcid) => consent_page(&request_id, &client_name, &obcid),
        None => login_page(&request_id, None),
    }
}

/// The login form: OBCiD and password.
async fn login(State(st): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let request_id = f.get("request_id").cloned().unwrap_or_default();
    let Some(client_id) = lock(&st.pending)
        .get(&request_id)
        .map(|p| p.client_id.clone())
    else {
        return error_page("ログインの有効期限が切れました。最初からやり直してください。");
    };
    let obcid = f.get("obcid").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let ok = st.read(|s| s.user(&obcid).is_some_and(|u| u.password == password));
    if !ok {
        return login_page(
            &request_id,
            Some("OBCiD またはパスワードが正しくありません。"),
        );
    }
    let obcid = st.read(|s| s.user(&obcid).map(|u| u.obcid.clone()).unwrap_or(obcid));
    if let Some(p) = lock(&st.pending).get_mut(&request_id) {
        p.obcid = Some(obcid.clone());
    }
    let sid = random_token(16);
    lock(&st.sessions).insert(sid.clone(), obcid.clone());
    let name = st
        .read(|s| s.client(&client_id).map(|c| c.name.clone()))
        .unwrap_or_default();
    let mut r = consent_page(&request_id, &name, &obcid);
    let c = Cookie::build((assumed::OBCID_SESSION_COOKIE, sid))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax);
    cookies::set(r.headers_mut(), c.build());
    r
}

/// 「許可する」 issues a code; 「許可しない」 sends `error=access_denied`.
async fn consent(State(st): State<Shared>, Form(f): Form<HashMap<String, String>>) -> Response {
    let request_id = f.get("request_id").cloned().unwrap_or_default();
    let Some(p) = lock(&st.pending).remove(&request_id) else {
        return error_page("ログインの有効期限が切れました。最初からやり直してください。");
    };
    let Some(obcid) = p.obcid.clone() else {
        return login_page(&request_id, None);
    };
    if f.get("decision").map(String::as_str) != Some("allow") {
        let params = with_state(vec![("error", "access_denied")], &p.state);
        return redirect_back(&p.redirect_uri, &params);
    }
    let code = random_token(24);
    let now = Utc::now();
    {
        let mut codes = lock(&st.codes);
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            Code {
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                obcid,
                challenge: p.challenge.clone(),
                expires: now + Duration::seconds(assumed::CODE_TTL_SECS),
            },
        );
    }
    let params = with_state(vec![("code", code.as_str())], &p.state);
    redirect_back(&p.redirect_uri, &params)
}
