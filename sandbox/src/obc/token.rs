//! `POST /oauth2/token` (RFC 6749 form fields, reference/obc.md §3): the `authorization_code`
//! and `refresh_token` grants. Refresh tokens are single-use: each refresh returns a new one and
//! the old one is refused with `invalid_grant` from then on.

use super::assumed::oauth_error;
use super::{lock, Shared};
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

fn json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn grant_error(description: &str) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &oauth_error("invalid_grant", description),
    )
}

/// Client credentials from the form or from HTTP Basic.
fn client_auth(h: &HeaderMap, f: &HashMap<String, String>) -> Option<(String, String)> {
    if let (Some(id), Some(secret)) = (f.get("client_id"), f.get("client_secret")) {
        return Some((id.clone(), secret.clone()));
    }
    let v = h.get(header::AUTHORIZATION)?.to_str().ok()?;
    let raw = v.strip_prefix("Basic ")?;
    let s = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .ok()?,
    )
    .ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn pkce_ok(challenge: &Option<(String, String)>, verifier: Option<&String>) -> bool {
    match (challenge, verifier) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some((c, m)), Some(v)) if m == "S256" => {
            let digest = Sha256::digest(v.as_bytes());
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) == *c
        }
        (Some((c, _)), Some(v)) => c == v,
    }
}

pub async fn token(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let Some((client_id, secret)) = client_auth(&headers, &f) else {
        return json(
            StatusCode::UNAUTHORIZED,
            &oauth_error("invalid_client", "Client authentication failed."),
        );
    };
    let client_ok = st.read(|s| {
        s.client(&client_id)
            .is_some_and(|c| c.client_secret == secret)
    });
    if !client_ok {
        return json(
            StatusCode::UNAUTHORIZED,
            &oauth_error("invalid_client", "Client authentication failed."),
        );
    }
    let now = Utc::now();
    let obcid = match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let code = f.get("code").cloned().unwrap_or_default();
            // Single use: the code is gone whether or not the exchange succeeds.
            let Some(c) = lock(&st.codes).remove(&code) else {
                return grant_error("The authorization code is invalid or was already used.");
            };
            if c.expires <= now {
                return grant_error("The authorization code has expired.");
            }
            if c.client_id != client_id {
                return grant_error("The authorization code was issued to another client.");
            }
            if f.get("redirect_uri").is_some_and(|r| *r != c.redirect_uri) {
                return grant_error("redirect_uri does not match the authorization request.");
            }
            if !pkce_ok(&c.challenge, f.get("code_verifier")) {
                return grant_error("code_verifier does not match the code challenge.");
            }
            c.obcid
        }
        Some("refresh_token") => {
            let presented = f.get("refresh_token").cloned().unwrap_or_default();
            let r = st.write(|s| {
                let t = s.refresh.get_mut(&presented)?;
                if t.used || t.expires_at <= now || t.client_id != client_id {
                    return None;
                }
                t.used = true;
                Some(t.obcid.clone())
            });
            match r {
                Some(o) => o,
                None => {
                    return grant_error("The refresh token is invalid, expired or already used.")
                }
            }
        }
        Some(other) => {
            return json(
                StatusCode::BAD_REQUEST,
                &oauth_error(
                    "unsupported_grant_type",
                    &format!("grant_type {other} is not supported."),
                ),
            )
        }
        None => {
            return json(
                StatusCode::BAD_REQUEST,
                &oauth_error("invalid_request", "grant_type is required."),
            )
        }
    };
    let issued = st.write(|s| s.issue(&obcid, &client_id, false, now));
    json(StatusCode::OK, &issued.body())
}
