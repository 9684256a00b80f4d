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
    let all = s.hub.list_connections().await?;
    Ok(Json(Value::Array(
        all.iter().map(views::connection).collect(),
    )))
}

pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = s.hub.get_connection(&id).await?;
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
    s.hub.delete_connection(&id).await?;
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
    let c = s.hub.get_connection(&id).await?;
    Ok(Json(views::connection(&c)["token"].clone()))
}

pub async fn objects(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let objects = s.hub.connection_objects(&id).await?;
    Ok(Json(json!(objects)))
}

#[derive(Debug, serde::Deserialize, Default)]
pub struct AuthorizeInput {
    /// Where the provider sends the browser back; default: this hub's `/oauth/callback`.
    pub redirect_uri: Option<String>,
}

/// Starts OAuth sign-in for a connection: answers the provider's consent URL.
pub async fn authorize(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let input: AuthorizeInput = if body.iter().all(u8::is_ascii_whitespace) {
        AuthorizeInput::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| crate::error::ApiError::bad_request("redirect_uri", e.to_string()))?
    };
    let redirect = input
        .redirect_uri
        .unwrap_or_else(|| format!("{}/oauth/callback", s.hub.notify.public_url));
    let url = s.hub.begin_authorization(&id, &redirect).await?;
    Ok(Json(
        json!({ "authorize_url": url, "redirect_uri": redirect }),
    ))
}

#[derive(Debug, serde::Deserialize)]
pub struct CompleteInput {
    pub state: String,
    pub code: String,
}

/// Finishes OAuth sign-in with the `state` and `code` the provider redirected with.
pub async fn complete_authorization(
    State(s): State<AppState>,
    ValidJson(input): ValidJson<CompleteInput>,
) -> ApiResult<Json<Value>> {
    let id = s
        .hub
        .complete_authorization(&input.state, &input.code)
        .await?;
    let c = s.hub.get_connection(&id).await?;
    Ok(Json(
        json!({ "connection": id, "token": views::connection(&c)["token"].clone() }),
    ))
}

#[derive(serde::Deserialize)]
pub struct UserMapBody {
    pub pairs: Vec<hub_domain::UserPair>,
}

/// The connection's user mapping (ユーザー連携): `{"pairs": [{"from", "to"}]}`.
pub async fn user_map(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let pairs = s.hub.user_map(&id).await?;
    Ok(Json(json!({ "pairs": pairs })))
}

/// Replaces the user mapping; answers it as saved.
pub async fn set_user_map(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ValidJson(body): ValidJson<UserMapBody>,
) -> ApiResult<Json<Value>> {
    let pairs = s.hub.set_user_map(&id, body.pairs).await?;
    Ok(Json(json!({ "pairs": pairs })))
}
