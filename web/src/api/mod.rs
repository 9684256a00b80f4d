//! `/api`: every route needs `Authorization: Bearer TOKEN` (API.md).

mod actions;
mod connections;
mod connectors;
mod flows;
mod inquiries;
mod runs;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

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
        .route("/api/runs", get(runs::list))
        .route("/api/runs/{id}", get(runs::get_one))
        .route("/api/runs/{id}/undo", post(runs::undo))
        .route("/api/runs/{id}/retry-failed", post(runs::retry_failed))
        .route(
            "/api/inquiries",
            get(inquiries::list).post(inquiries::create),
        )
        .route("/api/openapi.json", get(crate::openapi::serve))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

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
    match state.hub.store.verify_api_token(token).await {
        Ok(Some(_)) => Ok(next.run(req).await),
        Ok(None) => Err(ApiError::unauthorized()),
        Err(e) => Err(hub_core::HubError::from(e).into()),
    }
}
