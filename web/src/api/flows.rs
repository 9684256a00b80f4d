use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hub_core::Hub;
use hub_domain::{FlowSpec, Trigger};
use hub_messages::Message;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::json::ValidJson;
use crate::{views, AppState};

pub async fn create(
    State(s): State<AppState>,
    ValidJson(spec): ValidJson<FlowSpec>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = s.hub.create_flow(&spec).await?;
    let upcoming = Hub::upcoming_fires(&spec, 5)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "next_runs": upcoming })),
    ))
}

pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let all = s.hub.list_flows().await?;
    let pending = s.hub.pending_counts().await?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|f| {
                let mut v = views::flow(f);
                v["pending_failures"] = json!(pending.get(&f.id).copied().unwrap_or(0));
                v
            })
            .collect(),
    )))
}

pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let f = s.hub.get_flow(&id).await?;
    let mut v = views::flow(&f);
    v["next_runs"] = json!(Hub::upcoming_fires(&f.spec, 5).unwrap_or_default());
    let pending = s.hub.pending_records(&id).await?;
    v["pending_failures"] = json!(pending.len());
    Ok(Json(v))
}

/// The records the flow's runs failed on and no run has written since.
pub async fn pending(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let records = s.hub.pending_records(&id).await?;
    Ok(Json(json!({
        "flow": id,
        "records": records.iter().map(views::pending_record).collect::<Vec<_>>(),
    })))
}

#[derive(serde::Deserialize)]
pub struct Dismiss {
    /// The records to dismiss; all of the flow's when absent.
    #[serde(default)]
    records: Option<Vec<String>>,
}

/// 対応不要にする: the records (or all) need nothing more.
pub async fn dismiss_pending(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<Dismiss>,
) -> ApiResult<Json<Value>> {
    let n = s.hub.dismiss_pending(&id, body.records.as_deref()).await?;
    Ok(Json(json!({ "dismissed": n })))
}

pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ValidJson(spec): ValidJson<FlowSpec>,
) -> ApiResult<Json<Value>> {
    let f = s.hub.update_flow(&id, &spec).await?;
    let mut v = views::flow(&f);
    v["next_runs"] = json!(Hub::upcoming_fires(&f.spec, 5)?);
    Ok(Json(v))
}

pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.hub.delete_flow(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// 今すぐ実行 through the API: 202 with the queued run, 409 `already_running`.
pub async fn run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let run_id = s.hub.run_flow_now(&id, Trigger::Api).await?;
    s.runs_queued.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id }))))
}

/// 全件を取り込む: 202 with the queued run that reads the whole source; 409 `already_running`.
pub async fn full_import(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let run_id = s.hub.full_import(&id, Trigger::Api).await?;
    s.runs_queued.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "run_id": run_id }))))
}

/// What a full import would read and about how many API requests it takes.
pub async fn full_import_estimate(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let e = s.hub.full_import_estimate(&id).await?;
    Ok(Json(json!(e)))
}

/// Preview (dry run): what a run would create and update, its conflicts and ambiguous matches.
pub async fn preview(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (report, plan) = s.hub.preview_flow(&id).await?;
    let (ambiguous, other): (Vec<_>, Vec<_>) = report
        .errors
        .iter()
        .partition(|e| e.code == "ambiguous_match");
    Ok(Json(json!({
        "ok": report.message.is_none(),
        "message": report.message.as_deref().map(Message::stored_both),
        "counts": report.counts,
        "changes": plan.changes,
        "conflicts": plan.conflicts,
        "ambiguous": ambiguous,
        "errors": other,
    })))
}
