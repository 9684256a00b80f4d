use axum::extract::{Path, Query, State};
use axum::Json;
use hub_store::runs::RunFilter;
use hub_store::{RunStatus, Trigger};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::{views, AppState};

#[derive(Debug, Deserialize)]
pub struct RunQuery {
    flow: Option<String>,
    limit: Option<String>,
    status: Option<String>,
    trigger: Option<String>,
}

/// Newest first; `limit` 1–1000 (default 50).
pub async fn list(State(s): State<AppState>, Query(q): Query<RunQuery>) -> ApiResult<Json<Value>> {
    let limit = match q.limit.as_deref() {
        None | Some("") => 50,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request("limit", "must be a whole number from 1 to 1000")
            })?,
    };
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(v) => Some(RunStatus::parse(v).ok_or_else(|| {
            ApiError::bad_request(
                "status",
                "must be queued, running, success, partial, failed, interrupted or skipped",
            )
        })?),
    };
    let trigger = match q.trigger.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(v) => Some(Trigger::parse(v).ok_or_else(|| {
            ApiError::bad_request("trigger", "must be manual, schedule, retry or api")
        })?),
    };
    let filter = RunFilter {
        flow: q.flow.filter(|f| !f.is_empty()),
        status,
        trigger,
        since: None,
        limit,
    };
    let runs = s
        .hub
        .store
        .list_runs(&filter)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(Value::Array(
        runs.iter().map(|r| views::run(r, None)).collect(),
    )))
}

pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let run = s
        .hub
        .store
        .get_run(&id)
        .await
        .map_err(hub_core::HubError::from)?;
    let errors = s
        .hub
        .store
        .run_errors(&id, 1000)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(views::run(&run, Some(&errors))))
}
