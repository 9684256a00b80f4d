use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hub_domain::NewInquiry;
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::json::ValidJson;
use crate::{views, AppState};

/// お問い合わせ: five fields, each 1–100 characters, a valid email.
pub async fn create(
    State(s): State<AppState>,
    ValidJson(input): ValidJson<NewInquiry>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = s.hub.submit_inquiry(&input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let all = s.hub.list_inquiries(200).await?;
    Ok(Json(Value::Array(all.iter().map(inquiry_json).collect())))
}

/// An inquiry with its delivery: `delivery_status` (pending | sent | failed),
/// `delivery_attempts`, `delivery_error`, `delivered_at`, `next_attempt_at`.
fn inquiry_json(i: &hub_domain::Inquiry) -> Value {
    let mut v = json!(i);
    v["created_at"] = views::ts(Some(i.created_at));
    v["delivered_at"] = views::ts(i.delivered_at);
    v["next_attempt_at"] = views::ts(i.next_attempt_at);
    v
}

/// 再送 (admin): one delivery attempt now of a pending or failed inquiry; answers the inquiry as
/// recorded after it. 409 `already_sent`, 422 when no support address is configured.
pub async fn retry(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    match s.hub.deliver_inquiry(&id, true).await? {
        Some(i) => Ok(Json(inquiry_json(&i))),
        None => Err(hub_core::HubError::NotFound {
            what: "inquiry",
            id,
        }
        .into()),
    }
}
