//! Connector actions and file uploads: `POST /api/connections/{id}/actions/{action}` and
//! `PUT /api/connections/{id}/objects/{object}/files/{name}` (the `receive_file` action).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use hub_core::HubError;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// The largest file `PUT …/files/{name}` accepts (a 奉行 CSV of 100,000 rows is ~20 MB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

/// The action connectors implement to accept an uploaded file.
const RECEIVE_FILE: &str = "receive_file";

pub async fn run(
    State(s): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let input: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request("body", format!("not JSON: {e}")))?
    };
    let result = s
        .hub
        .connection_action(&id, &action, input)
        .await?
        .map_err(HubError::Connector)?;
    Ok(Json(json!({ "result": result })))
}

pub async fn upload(
    State(s): State<AppState>,
    Path((id, object, name)): Path<(String, String, String)>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    check_file_name(&name)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("body", "the file is empty"));
    }
    let input = json!({
        "object": object,
        "name": name,
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&body),
    });
    let result = s
        .hub
        .connection_action(&id, RECEIVE_FILE, input)
        .await?
        .map_err(HubError::Connector)?;
    Ok((StatusCode::CREATED, Json(json!({ "result": result }))))
}

/// A plain file name: no path separators, no parent references, no control characters.
fn check_file_name(name: &str) -> ApiResult<()> {
    let bad = name.is_empty()
        || name.len() > 255
        || name == "."
        || name == ".."
        || name.starts_with('.')
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(ApiError::bad_request(
            "name",
            "use a plain file name such as 取引先.csv (no folders, not starting with '.')",
        ));
    }
    Ok(())
}
