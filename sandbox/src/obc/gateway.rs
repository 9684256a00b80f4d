//! The API gateway in front of every API route (reference/obc.md §3–4): subscription key,
//! bearer token, tenant header and the per-tenant rate limit, in that order.

use super::assumed::{self, error_body};
use super::Shared;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

/// Who is calling, for handlers.
#[derive(Debug, Clone)]
pub struct Caller {
    pub obcid: String,
    /// Set on every route but SearchTenant.
    pub tenant: Option<String>,
}

pub fn error(status: StatusCode, message: &str) -> Response {
    let mut r = (status, error_body(status, message).to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// Renders an injected fault (crate::control) as the gateway would.
pub fn render_fault(status: StatusCode, code: &str) -> Response {
    error(status, &format!("Injected sandbox fault: {code}"))
}

pub async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Resource not found")
}

fn unauthorized(message: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    r
}

fn header_value<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn bearer(h: &HeaderMap) -> Option<&str> {
    let v = header_value(h, header::AUTHORIZATION.as_str())?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub async fn gateway(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    let is_token = route == assumed::TOKEN_PATH;
    match header_value(req.headers(), assumed::SUBSCRIPTION_KEY_HEADER) {
        None if is_token && !assumed::TOKEN_NEEDS_SUBSCRIPTION_KEY => {}
        None => return error(StatusCode::UNAUTHORIZED, assumed::MSG_MISSING_KEY),
        Some(k) if !st.read(|s| s.subscription_keys.iter().any(|x| x == k)) => {
            return error(StatusCode::UNAUTHORIZED, assumed::MSG_INVALID_KEY)
        }
        Some(_) => {}
    }
    if is_token {
        return next.run(req).await;
    }

    let token = bearer(req.headers()).map(str::to_string);
    let found = token.and_then(|t| st.read(|s| s.access.get(&t).cloned()));
    let Some(access) = found else {
        return unauthorized(assumed::MSG_NO_TOKEN);
    };
    if access.expires_at.is_some_and(|e| e <= Utc::now()) {
        return unauthorized(assumed::MSG_EXPIRED_TOKEN);
    }

    let mut caller = Caller {
        obcid: access.obcid,
        tenant: None,
    };
    if route != assumed::SEARCH_TENANT_PATH {
        let Some(tenant) = header_value(req.headers(), assumed::TENANT_HEADER).map(str::to_string)
        else {
            return error(StatusCode::FORBIDDEN, assumed::MSG_NO_TENANT);
        };
        let allowed = st.read(|s| {
            s.tenant(&tenant).is_some()
                && s.user(&caller.obcid)
                    .is_some_and(|u| u.tenants.contains(&tenant))
        });
        if !allowed {
            return error(StatusCode::FORBIDDEN, assumed::MSG_BAD_TENANT);
        }
        if let Err(wait) = st.limiter.take(&tenant) {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                &assumed::msg_rate_limited(wait),
            );
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
        caller.tenant = Some(tenant);
    }
    req.extensions_mut().insert(caller);
    next.run(req).await
}
