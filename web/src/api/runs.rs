use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use hub_domain::RunFilter;
use hub_domain::RunKind;
use hub_domain::{RunStatus, Trigger};
use hub_messages::Message;
use serde::Deserialize;
use serde_json::{json, Value};

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
        limit,
        ..Default::default()
    };
    let runs = s.hub.list_runs(&filter).await?;
    Ok(Json(Value::Array(
        runs.iter().map(|r| views::run(r, None)).collect(),
    )))
}

pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let run = s.hub.get_run(&id).await?;
    let errors = s.hub.run_errors(&id, 1000).await?;
    let warnings = s.hub.run_warnings(&id, 1000).await?;
    let mut v = views::run(&run, Some(&errors));
    // Each with `params` (a 外字: file, line, column, header, char_code) and the connector's text.
    v["warnings"] = json!(warnings);
    // Runs acting on another run say which (`undo_of`, `retry_of`); an undone run says by which.
    let hub = &s.hub;
    if let Some(req) = hub.run_request(&id).await? {
        let key = match req.kind {
            RunKind::Undo => "undo_of",
            RunKind::RetryFailed => "retry_of",
        };
        v[key] = json!(req.of_run);
    }
    let later = hub.requests_of(&id).await?;
    v["undone_by"] = json!(later
        .iter()
        .filter(|r| r.kind == RunKind::Undo)
        .map(|r| r.run_id.clone())
        .collect::<Vec<_>>());
    v["retried_by"] = json!(later
        .iter()
        .filter(|r| r.kind == RunKind::RetryFailed)
        .map(|r| r.run_id.clone())
        .collect::<Vec<_>>());
    Ok(Json(v))
}

/// 元に戻す: restores what the run wrote, as a run of its own, and answers when it is done:
/// `{"run_id", "status", "restored", "left_alone": [{"record", "side", "reason", "message"}]}`.
/// 409 while the flow has a run queued or running; 422 when there is nothing (left) to undo.
pub async fn undo(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let out = s.hub.undo_run(&id, Trigger::Api).await?;
    let left: Vec<Value> = out
        .left_alone
        .iter()
        .map(
            |e| json!({"record": e.record, "side": e.side, "reason": e.code, "message": Message::stored_both(&e.message)}),
        )
        .collect();
    Ok(Json(json!({
        "run_id": out.run.id,
        "status": out.run.status,
        "restored": out.restored,
        "left_alone": left,
    })))
}

/// 失敗分のみ再実行: queues a run (trigger `retry`) of only the run's failed records → 202
/// `{"run_id"}`; 409 while the flow has a run queued or running; 422 when nothing failed.
pub async fn retry_failed(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let run_id = s.hub.retry_failed(&id).await?;
    s.runs_queued.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id }))))
}
