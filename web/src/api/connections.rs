use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use hub_core::connections::{ConnectionInput, ConnectionUpdate};
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::json::ValidJson;
use crate::{views, AppState};

pub async fn create(
    State(s): State<AppState>,
    ValidJson(input): ValidJson<ConnectionInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = s.hub.create_connection(input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

pub async fn list(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let all = s
        .hub
        .store
        .list_connections()
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(Value::Array(
        all.iter().map(views::connection).collect(),
    )))
}

pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = s
        .hub
        .store
        .get_connection(&id)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(views::connection(&c)))
}

pub async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ValidJson(patch): ValidJson<ConnectionUpdate>,
) -> ApiResult<Json<Value>> {
    let c = s.hub.update_connection(&id, patch).await?;
    Ok(Json(views::connection(&c)))
}

pub async fn delete(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.hub
        .store
        .delete_connection(&id)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(StatusCode::NO_CONTENT)
}

/// 接続テスト: 200 either way; `ok` says whether the connector reached its system.
pub async fn check(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(match s.hub.check_connection(&id).await? {
        Ok(c) => json!({"ok": true, "account": c.account}),
        Err(e) => {
            json!({"ok": false, "error": {"code": e.code, "kind": e.kind, "message": e.message, "message_ja": e.message_ja}})
        }
    }))
}

/// 連携トークンの更新.
pub async fn refresh_token(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    s.hub.refresh_token_now(&id).await?;
    let c = s
        .hub
        .store
        .get_connection(&id)
        .await
        .map_err(hub_core::HubError::from)?;
    Ok(Json(views::connection(&c)["token"].clone()))
}

pub async fn objects(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let objects = s.hub.connection_objects(&id).await?;
    Ok(Json(json!(objects)))
}
