//! Renkei Hub's HTTP layer: `/healthz`, the JSON API under `/api` (API.md), and the web UI.
//! The only crate of the hub that depends on axum.
// The OpenAPI schemas are one `json!` literal, deeper than the default limit allows.
#![recursion_limit = "512"]

mod api;
pub mod edge;
pub mod error;
pub mod json;
pub mod metrics;
pub mod openapi;
#[cfg(test)]
mod test_app;
pub mod ui;
pub mod views;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use hub_core::Hub;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Notify;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    /// Woken when a run is queued, so the runner starts it at once instead of at its next poll.
    pub runs_queued: Arc<Notify>,
    /// Sign-in throttling per client address and per account.
    pub login_limit: Arc<ui::login_limit::LoginLimit>,
    /// How browsers reach the hub (https, a trusted proxy).
    pub edge: edge::EdgeConfig,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::serve))
        .with_state(state.clone())
        .merge(api::routes(state.clone()))
        .merge(ui::routes(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state,
            edge::security_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

/// 200 while the database answers; 503 otherwise (for load balancers and the crash tests).
async fn healthz(State(s): State<AppState>) -> (StatusCode, Json<Value>) {
    match s.hub.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ok"}))),
        Err(e) => {
            tracing::warn!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "database unreachable"})),
            )
        }
    }
}
