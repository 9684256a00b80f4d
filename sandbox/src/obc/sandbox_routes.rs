//! `/_sandbox/obc/*`: mint tokens without a browser, expire them to exercise refresh and
//! re-consent (連携トークンの更新), and change or lift the rate limit.

use super::ratelimit::LimitConfig;
use super::Shared;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/obc/tokens", post(mint))
        .route("/_sandbox/obc/expire-tokens", post(expire))
        .route("/_sandbox/obc/rate-limit", put(set_limit).get(get_limit))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Mint {
    /// Defaults to the seeded OBCiD.
    obcid: Option<String>,
    /// A fixed token as issued in 管理ポータル: no expiry, no refresh token.
    fixed: bool,
}

/// The token answer of `/oauth2/token`, as if the user had logged in and consented.
async fn mint(State(st): State<Shared>, body: Option<Json<Mint>>) -> Response {
    let m = body.map(|Json(m)| m).unwrap_or_default();
    let r = st.write(|s| {
        let obcid = match &m.obcid {
            Some(o) => s.user(o).map(|u| u.obcid.clone()),
            None => s.users.first().map(|u| u.obcid.clone()),
        }?;
        let client = s.clients.first()?.client_id.clone();
        Some(s.issue(&obcid, &client, m.fixed, Utc::now()).body())
    });
    match r {
        Some(v) => Json(v).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "unknown OBCiD"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Expire {
    /// Also expire refresh tokens, so only a new login and consent helps.
    refresh: bool,
}

/// Every issued (non-fixed) access token expires now.
async fn expire(State(st): State<Shared>, body: Option<Json<Expire>>) -> Json<serde_json::Value> {
    let e = body.map(|Json(e)| e).unwrap_or_default();
    let past = Utc::now() - Duration::seconds(1);
    let (access, refresh) = st.write(|s| {
        let mut a = 0;
        for t in s.access.values_mut() {
            if let Some(exp) = t.expires_at.as_mut() {
                *exp = past;
                a += 1;
            }
        }
        let mut r = 0;
        if e.refresh {
            for t in s.refresh.values_mut() {
                t.expires_at = past;
                r += 1;
            }
        }
        (a, r)
    });
    Json(json!({"expired_access_tokens": access, "expired_refresh_tokens": refresh}))
}

async fn set_limit(State(st): State<Shared>, Json(c): Json<LimitConfig>) -> Json<LimitConfig> {
    st.limiter.set(c);
    Json(st.limiter.config())
}

async fn get_limit(State(st): State<Shared>) -> Json<LimitConfig> {
    Json(st.limiter.config())
}
