//! `/api`: every route needs `Authorization: Bearer TOKEN` (API.md) of a role that may use it
//! (the route table in `openapi.rs`).

mod actions;
mod connections;
mod connectors;
mod flows;
mod inquiries;
mod runs;

#[cfg(test)]
mod delete_tests;
#[cfg(test)]
mod error_shape_tests;
#[cfg(test)]
mod role_tests;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use hub_core::accounts::Role;

use crate::error::ApiError;
use crate::AppState;

pub fn routes(state: AppState) -> Router {
    Router::new()
        .route("/api/connectors", get(connectors::list))
        .route(
            "/api/connections",
            get(connections::list).post(connections::create),
        )
        .route(
            "/api/connections/{id}",
            get(connections::get_one)
                .put(connections::update)
                .delete(connections::delete),
        )
        .route("/api/connections/{id}/check", post(connections::check))
        .route(
            "/api/connections/{id}/token/refresh",
            post(connections::refresh_token),
        )
        .route("/api/connections/{id}/objects", get(connections::objects))
        .route(
            "/api/connections/{id}/user-map",
            get(connections::user_map).put(connections::set_user_map),
        )
        .route(
            "/api/connections/{id}/authorize",
            post(connections::authorize),
        )
        .route("/api/connections/{id}/actions/{action}", post(actions::run))
        .route(
            "/api/connections/{id}/objects/{object}/files/{name}",
            axum::routing::put(actions::upload).layer(axum::extract::DefaultBodyLimit::max(
                actions::MAX_UPLOAD_BYTES,
            )),
        )
        .route(
            "/api/oauth/complete",
            post(connections::complete_authorization),
        )
        .route("/api/flows", get(flows::list).post(flows::create))
        .route(
            "/api/flows/{id}",
            get(flows::get_one).put(flows::update).delete(flows::delete),
        )
        .route("/api/flows/{id}/run", post(flows::run))
        .route("/api/flows/{id}/preview", post(flows::preview))
        .route(
            "/api/flows/{id}/full-import",
            get(flows::full_import_estimate).post(flows::full_import),
        )
        .route("/api/flows/{id}/pending", get(flows::pending))
        .route(
            "/api/flows/{id}/pending/dismiss",
            post(flows::dismiss_pending),
        )
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::get_one))
        .route("/api/runs/{id}/undo", post(runs::undo))
        .route("/api/runs/{id}/retry-failed", post(runs::retry_failed))
        .route(
            "/api/inquiries",
            get(inquiries::list).post(inquiries::create),
        )
        .route("/api/inquiries/{id}/retry", post(inquiries::retry))
        .route("/api/openapi.json", get(crate::openapi::serve))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::map_response(json_errors))
        .with_state(state)
}

/// Checks the bearer token (known, not expired, not revoked: else 401) and its role against the
/// route table (`openapi::ROUTES`: else 403). A route missing from the table needs admin.
async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let info = match state.hub.authenticate_api_token(token).await {
        Ok(Some(info)) => info,
        Ok(None) => return Err(ApiError::unauthorized()),
        Err(e) => return Err(e.into()),
    };
    let role = Role::from_stored(&info.role);
    let method = req.method().as_str().to_ascii_lowercase();
    let needs = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| crate::openapi::route(&method, p.as_str()))
        .map(|r| r.role)
        .unwrap_or(Role::Admin);
    if !role.allows(needs) {
        tracing::info!(token = %info.name, role = role.as_str(), method = %method,
            path = %req.uri().path(), "API call refused: role");
        return Err(ApiError::forbidden(role.as_str(), needs.as_str()));
    }
    Ok(next.run(req).await)
}

/// Errors axum answers itself (a query string or path it cannot read, a method the route does
/// not have) come as plain text; the API answers every error in its one JSON shape, as the
/// OpenAPI document's `Error` schema says.
async fn json_errors(resp: Response) -> Response {
    use axum::http::header::CONTENT_TYPE;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::BAD_REQUEST => "invalid_input",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        _ => "error",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut out = ApiError::new(status, code, message).into_response();
    // Keep what else axum said, e.g. `Allow` with a 405.
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
