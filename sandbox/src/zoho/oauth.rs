//! `POST /oauth/v2/token` and `/oauth/v2/token/revoke` (reference §2): the authorization-code
//! and refresh-token grants, with errors as `{"error": …}` under the assumed status.

use super::assumed;
use super::errors::json_response;
use super::model::now;
use super::{lock, params, Shared};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;

pub const TOKEN_PATH: &str = "/oauth/v2/token";
pub const REVOKE_PATH: &str = "/oauth/v2/token/revoke";

/// The API routes of the accounts server (counted and subject to injected faults).
pub fn api_routes() -> Router<Shared> {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
}

/// `GET /oauth/serverinfo` (§1): which accounts server serves which location.
pub fn info_routes() -> Router<Shared> {
    Router::new().route("/oauth/serverinfo", get(server_info))
}

async fn server_info(State(st): State<Shared>) -> Response {
    json_response(
        StatusCode::OK,
        &json!({"result": "success", "locations": {assumed::LOCATION: st.accounts_url}}),
    )
}

fn oauth_error(error: &str) -> Response {
    json_response(assumed::TOKEN_ERROR_STATUS, &json!({"error": error}))
}

/// The token reply; `refresh_token` only on a code exchange that grants one.
pub fn grant_json(st: &Shared, access: &str, refresh: Option<&str>, scope: &[String]) -> Value {
    let mut v = json!({
        "access_token": access,
        "scope": scope.join(" "),
        "api_domain": st.crm_url,
        "token_type": "Bearer",
        "expires_in": super::tokens::ACCESS_TTL_SECS,
    });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

/// The org whose client this is, when the secret matches.
fn client_org(st: &Shared, p: &HashMap<String, String>) -> Option<usize> {
    let id = p.get("client_id")?;
    let secret = p.get("client_secret")?;
    st.read(|s| {
        s.orgs
            .iter()
            .position(|o| &o.info.client.client_id == id && &o.info.client.client_secret == secret)
    })
}

async fn token(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params::collect(q.as_deref(), &headers, &body);
    let grant = p.get("grant_type").map(String::as_str).unwrap_or_default();
    if !matches!(grant, "authorization_code" | "refresh_token") {
        return oauth_error("unsupported_grant_type");
    }
    let Some(org) = client_org(&st, &p) else {
        return oauth_error("invalid_client");
    };
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let now = now();
    if grant == "refresh_token" {
        let rt = p.get("refresh_token").cloned().unwrap_or_default();
        let res = st.write(|s| s.tokens.refresh(&rt, &client_id, now));
        return match res {
            Ok((access, info)) => {
                json_response(StatusCode::OK, &grant_json(&st, &access, None, &info.scope))
            }
            Err(super::tokens::RefreshError::Invalid) => {
                oauth_error(assumed::ERR_BAD_REFRESH_TOKEN)
            }
            Err(super::tokens::RefreshError::TooMany) => json_response(
                assumed::TOKEN_LIMIT_STATUS,
                &json!({
                    "error_description": assumed::TOKEN_LIMIT_DESCRIPTION,
                    "error": assumed::TOKEN_LIMIT_ERROR,
                    "status": "failure",
                }),
            ),
        };
    }

    // Single use: the code is gone whatever happens next.
    let code = p.get("code").and_then(|c| lock(&st.codes).remove(c));
    let Some(code) = code.filter(|c| c.expires > now && c.client_id == client_id && c.org == org)
    else {
        return oauth_error("invalid_code");
    };
    if p.get("redirect_uri") != Some(&code.redirect_uri) {
        return oauth_error(assumed::ERR_INVALID_REDIRECT_URI);
    }
    let (access, refresh) = st.write(|s| {
        let first = !s.tokens.has_refresh(org, &client_id);
        let wants = code.offline
            && (code.prompt_consent
                || first
                || !assumed::REFRESH_TOKEN_ONLY_WITH_CONSENT_AFTER_FIRST);
        let refresh = wants.then(|| s.tokens.mint_refresh(org, &client_id, &code.scope, now));
        let access = s
            .tokens
            .mint_access(org, &client_id, &code.scope, refresh.as_deref(), now);
        (access, refresh)
    });
    json_response(
        StatusCode::OK,
        &grant_json(&st, &access, refresh.as_deref(), &code.scope),
    )
}

async fn revoke(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params::collect(q.as_deref(), &headers, &body);
    let Some(t) = p.get("token").filter(|t| !t.is_empty()) else {
        return oauth_error("invalid_request");
    };
    // Like RFC 7009: an unknown token is not an error.
    st.write(|s| s.tokens.revoke(t));
    json_response(StatusCode::OK, &json!({"status": "success"}))
}
