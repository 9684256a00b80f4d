//! The browser side of Zoho's authorization-code flow (reference §2): `GET /oauth/v2/auth`
//! shows who asks for what (日本語 and English), with a sign-in form when the browser has no
//! session; 「承認する」 redirects back with `code`, `state`, `location` and `accounts-server`,
//! 「拒否する」 with `error=access_denied`.

use super::assumed;
use super::model::now;
use super::tokens::random_token;
use super::{lock, Shared};
use crate::cookies;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use cookie::{Cookie, SameSite};
use std::collections::HashMap;
use url::Url;

pub const AUTH_PATH: &str = "/oauth/v2/auth";
const SESSION_COOKIE: &str = "zoho_sandbox_session";
const PENDING_TTL_SECS: i64 = 600;
/// §2: "The code is valid for 2 minutes."
pub const CODE_TTL_SECS: i64 = 120;

/// An authorize request waiting for the user's decision.
pub struct Pending {
    org: usize,
    client_id: String,
    redirect_uri: String,
    scope: Vec<String>,
    state: Option<String>,
    offline: bool,
    prompt_consent: bool,
    created: i64,
}

/// An issued, not yet exchanged authorization code.
pub struct Code {
    pub org: usize,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: Vec<String>,
    pub offline: bool,
    pub prompt_consent: bool,
    pub expires: i64,
}

pub fn routes() -> Router<Shared> {
    Router::new().route(AUTH_PATH, get(authorize).post(decide))
}

/// The sandbox accepts any loopback http(s) callback, so any local app can try the flow.
pub fn redirect_allowed(uri: &str) -> bool {
    Url::parse(uri).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
    })
}

/// Text for the page, quoted for both element and `"…"` attribute content.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}

fn html(status: StatusCode, title: &str, body: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"ja\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} | Zoho Accounts</title></head><body>\
         <header><p>Zoho Accounts(サンドボックス / sandbox)</p></header><main>{body}</main></body></html>",
        esc(title)
    );
    let mut r = (status, page).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

fn error_page(ja: &str, en: &str) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        "エラー / Error",
        &format!(
            "<h1>エラー / Error</h1><p class=\"error\">{}</p><p class=\"error\" lang=\"en\">{}</p>",
            esc(ja),
            esc(en)
        ),
    )
}

fn scope_text(scope: &str) -> String {
    let lower = scope.to_ascii_lowercase();
    let what = if lower.starts_with("zohocrm.modules") {
        "CRM のデータ(取引先・連絡先・タスクなど)の参照と変更 / Read and change CRM records"
    } else if lower.starts_with("zohocrm.settings") {
        "モジュールと項目の設定の参照 / Read modules and fields"
    } else if lower.starts_with("zohocrm.users") {
        "ユーザー情報の参照 / Read users"
    } else if lower.starts_with("zohocrm.org") {
        "組織情報の参照 / Read organization details"
    } else {
        "その他の権限 / Other access"
    };
    format!("<li><code>{}</code>: {}</li>", esc(scope), what)
}

fn consent_page(
    st: &Shared,
    request_id: &str,
    p: &Pending,
    signed_in: bool,
    error: Option<&str>,
) -> Response {
    let (org_name, app, email) = st.read(|s| {
        let o = &s.orgs[p.org].info;
        (
            o.name.clone(),
            o.client.app_name.clone(),
            o.user.email.clone(),
        )
    });
    let scopes: String = p.scope.iter().map(|s| scope_text(s)).collect();
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let login = if signed_in {
        format!("<p>ログイン中 / Signed in as: {}</p>", esc(&email))
    } else {
        "<fieldset><legend>サインイン / Sign in</legend>\
         <p><label>メールアドレス / Email <input type=\"email\" name=\"email\" autocomplete=\"username\"></label></p>\
         <p><label>パスワード / Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\"></label></p>\
         </fieldset>"
            .to_string()
    };
    let body = format!(
        "<h1>アクセスの承認 / Authorize access</h1>{error}\
         <p>「{app}」が {org} の Zoho CRM へのアクセスを求めています。</p>\
         <p lang=\"en\">\"{app}\" would like to access Zoho CRM of {org}.</p>\
         <p>組織 / Organization: <strong>{org}</strong></p>\
         <h2>許可する操作 / Requested access</h2><ul>{scopes}</ul>\
         <form method=\"post\" action=\"{AUTH_PATH}\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{rid}\">{login}\
         <p><button type=\"submit\" name=\"decision\" value=\"allow\">承認する (Accept)</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">拒否する (Reject)</button></p></form>",
        app = esc(&app),
        org = esc(&org_name),
        rid = esc(request_id),
    );
    html(StatusCode::OK, "アクセスの承認 / Authorize access", &body)
}

fn session_org(st: &Shared, h: &HeaderMap) -> Option<usize> {
    let sid = cookies::get(h, SESSION_COOKIE)?;
    lock(&st.sessions).get(&sid).copied()
}

async fn authorize(
    State(st): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let get = |k: &str| q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
    let Some(client_id) = get("client_id") else {
        return error_page("client_id がありません。", "client_id is missing.");
    };
    let Some(org) = st.read(|s| {
        s.orgs
            .iter()
            .position(|o| o.info.client.client_id == client_id)
    }) else {
        return error_page(
            "このクライアントIDは登録されていません。",
            "invalid_client: this client id is not registered.",
        );
    };
    if get("response_type") != Some("code") {
        return error_page(
            "response_type は code にしてください。",
            "unsupported response_type; use code.",
        );
    }
    let redirect_uri = get("redirect_uri").unwrap_or_default();
    if !redirect_allowed(redirect_uri) {
        return error_page(
            "リダイレクトURIが許可されていません(http://localhost または http://127.0.0.1 のみ)。",
            "invalid_redirect_uri: only http://localhost or http://127.0.0.1 callbacks are allowed.",
        );
    }
    let scope: Vec<String> = get("scope")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scope.is_empty() {
        return error_page(
            "scope を指定してください。",
            "invalid_scope: scope is missing.",
        );
    }
    let pending = Pending {
        org,
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: get("state").map(str::to_string),
        offline: get("access_type").is_some_and(|a| a.eq_ignore_ascii_case("offline")),
        prompt_consent: get("prompt").is_some_and(|p| p.eq_ignore_ascii_case("consent")),
        created: now(),
    };
    let request_id = random_token();
    let signed_in = session_org(&st, &headers) == Some(org);
    let page = consent_page(&st, &request_id, &pending, signed_in, None);
    let mut all = lock(&st.pending);
    let cutoff = now() - PENDING_TTL_SECS;
    all.retain(|_, p| p.created > cutoff);
    all.insert(request_id, pending);
    page
}

/// Back to the application with `params` added to its redirect URI.
fn redirect_back(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page(
            "リダイレクトURIが正しくありません。",
            "invalid redirect_uri.",
        );
    };
    url.query_pairs_mut().extend_pairs(params);
    let mut r = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn decide(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let rid = f.get("request_id").cloned().unwrap_or_default();
    let Some(p) = lock(&st.pending).remove(&rid) else {
        return error_page(
            "この承認リクエストは期限切れか、すでに使われています。もう一度アプリから始めてください。",
            "This authorization request has expired or was already used. Start again from the app.",
        );
    };
    let state = p.state.clone().unwrap_or_default();
    let with_state = |mut v: Vec<(&'static str, String)>| {
        if p.state.is_some() {
            v.push(("state", state.clone()));
        }
        v
    };
    if f.get("decision").map(String::as_str) != Some("allow") {
        let v = with_state(vec![("error", "access_denied".to_string())]);
        let pairs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
        return redirect_back(&p.redirect_uri, &pairs);
    }

    let mut new_session = None;
    if session_org(&st, &headers) != Some(p.org) {
        let email = f.get("email").map(|s| s.trim()).unwrap_or_default();
        let password = f.get("password").map(String::as_str).unwrap_or_default();
        let ok = st.read(|s| {
            let u = &s.orgs[p.org].info.user;
            u.email.eq_ignore_ascii_case(email) && u.password == password
        });
        if !ok {
            let page = consent_page(
                &st,
                &rid,
                &p,
                false,
                Some("メールアドレスまたはパスワードが正しくありません。 / The email or password is incorrect."),
            );
            lock(&st.pending).insert(rid, p);
            return page;
        }
        let sid = random_token();
        lock(&st.sessions).insert(sid.clone(), p.org);
        new_session = Some(sid);
    }

    let code = random_token();
    lock(&st.codes).insert(
        code.clone(),
        Code {
            org: p.org,
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            scope: p.scope.clone(),
            offline: p.offline,
            prompt_consent: p.prompt_consent,
            expires: now() + CODE_TTL_SECS,
        },
    );
    let v = with_state(vec![
        ("code", code),
        ("location", assumed::LOCATION.to_string()),
        ("accounts-server", st.accounts_url.clone()),
    ]);
    let pairs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut r = redirect_back(&p.redirect_uri, &pairs);
    if let Some(sid) = new_session {
        let c = Cookie::build((SESSION_COOKIE, sid))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax);
        cookies::set(r.headers_mut(), c.build());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_callbacks_are_allowed() {
        assert!(redirect_allowed("http://localhost:8080/oauth/callback"));
        assert!(redirect_allowed("http://127.0.0.1:9/cb?x=1"));
        assert!(!redirect_allowed("https://evil.example.com/cb"));
        assert!(!redirect_allowed("not a url"));
    }
}
