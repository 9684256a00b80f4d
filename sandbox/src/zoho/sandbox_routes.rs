//! `/_sandbox/zoho/*`: test and benchmark controls that are not API calls (never counted).
//! On both servers: expire every access token, revoke every refresh token, mint a token pair
//! without the browser. On the CRM server: read and bulk-write raw records, reset to the seed.

use super::errors::{json_response, ZohoError};
use super::model::now;
use super::oauth::grant_json;
use super::schema::module_index;
use super::seed::{self, FULL_SCOPE};
use super::values::render;
use super::write::{write_batch, Extra, Mode, Outcome};
use super::{params, Shared};
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;

pub fn token_routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/zoho/expire-tokens", post(expire_tokens))
        .route("/_sandbox/zoho/revoke", post(revoke_all))
        .route("/_sandbox/zoho/tokens", post(mint))
}

pub fn data_routes() -> Router<Shared> {
    Router::new()
        .route(
            "/_sandbox/zoho/orgs/{org}/modules/{module}/records",
            axum::routing::get(read_raw).post(write_raw),
        )
        .route("/_sandbox/zoho/reset", post(reset))
}

async fn expire_tokens(State(st): State<Shared>) -> Response {
    let n = st.write(|s| s.tokens.expire_all(now()));
    json_response(StatusCode::OK, &json!({"expired": n}))
}

async fn revoke_all(State(st): State<Shared>) -> Response {
    let n = st.write(|s| s.tokens.revoke_all_refresh());
    json_response(StatusCode::OK, &json!({"revoked": n}))
}

/// Body (JSON, form or query): `client_id` or `org` ("A"/"B"), optional `scope`.
async fn mint(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut p = params::collect(q.as_deref(), &headers, &body);
    if let Ok(Value::Object(m)) = serde_json::from_slice::<Value>(&body) {
        for (k, v) in m {
            if let Some(s) = v.as_str() {
                p.insert(k, s.to_string());
            }
        }
    }
    let org = st.read(|s| {
        s.orgs.iter().position(|o| {
            p.get("client_id") == Some(&o.info.client.client_id)
                || p.get("org")
                    .is_some_and(|k| k.eq_ignore_ascii_case(&o.info.key))
        })
    });
    let Some(org) = org else {
        return json_response(StatusCode::BAD_REQUEST, &json!({"error": "invalid_client"}));
    };
    let scope: Vec<String> = match p.get("scope") {
        Some(s) => s
            .split([',', ' '])
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect(),
        None => FULL_SCOPE.iter().map(|s| s.to_string()).collect(),
    };
    let now = now();
    let (access, refresh, key) = st.write(|s| {
        let client = s.orgs[org].info.client.client_id.clone();
        let r = s.tokens.mint_refresh(org, &client, &scope, now);
        let a = s.tokens.mint_access(org, &client, &scope, Some(&r), now);
        (a, r, s.orgs[org].info.key.clone())
    });
    let mut v = grant_json(&st, &access, Some(&refresh), &scope);
    v["org"] = json!(key);
    json_response(StatusCode::OK, &v)
}

fn org_module(st: &Shared, org: &str, module: &str) -> Result<(usize, usize), ZohoError> {
    let o = st
        .read(|s| {
            s.orgs
                .iter()
                .position(|o| o.info.key.eq_ignore_ascii_case(org))
        })
        .ok_or_else(|| ZohoError::invalid_param("org", "org must be A or B"))?;
    let m = module_index(module).ok_or_else(|| ZohoError::invalid_module(module))?;
    Ok((o, m))
}

/// Every field of the records, oldest id first; `offset` and `limit` page it.
async fn read_raw(
    State(st): State<Shared>,
    Path((org, module)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (o, m) = match org_module(&st, &org, &module) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    let (offset, limit) = (num("offset", 0), num("limit", usize::MAX));
    st.read(|s| {
        let org = &s.orgs[o];
        let md = &org.modules[m];
        let data: Vec<Value> = md
            .records()
            .skip(offset)
            .take(limit)
            .map(|r| render(org, md, r, None))
            .collect();
        json_response(StatusCode::OK, &json!({"count": md.len(), "data": data}))
    })
}

/// Inserts any number of records, validated like the API; `Created_Time` / `Modified_Time`
/// in the input are kept, so tests can seed history.
async fn write_raw(
    State(st): State<Shared>,
    Path((org, module)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (o, m) = match org_module(&st, &org, &module) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let data = match super::write::parse_body(&body, usize::MAX) {
        Ok((d, _)) => d,
        Err(e) => return e.into_response(),
    };
    let results = st.write(|s| {
        write_batch(
            &mut s.orgs[o],
            m,
            &data,
            &Mode::Insert,
            &[],
            now(),
            Extra { keep_times: true },
        )
    });
    let failed = results
        .iter()
        .filter(|(o, _)| *o == Outcome::Failed)
        .count();
    let data: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
    json_response(StatusCode::OK, &json!({"failed": failed, "data": data}))
}

async fn reset(State(st): State<Shared>) -> Response {
    st.write(|s| seed::reseed(s, st.extra_records));
    StatusCode::NO_CONTENT.into_response()
}
