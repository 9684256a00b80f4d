use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use hub_store::NewInquiry;
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
    let all = s
        .hub
        .store
        .list_inquiries(200)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(Value::Array(
        all.iter()
            .map(|i| {
                let mut v = json!(i);
                v["created_at"] = views::ts(Some(i.created_at));
                v
            })
            .collect(),
    )))
}
