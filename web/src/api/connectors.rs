use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

/// Loaded connectors with what the wizard needs (names, auth, settings), plus refused plugins.
pub async fn list(State(s): State<AppState>) -> Json<Value> {
    let loaded: Vec<Value> = s
        .hub
        .plugins
        .loaded()
        .iter()
        .map(|p| {
            let m = &p.manifest;
            json!({
                "id": p.id,
                "version": p.version,
                "sdk_version": p.sdk_version,
                "name": m.name,
                "description": m.description,
                "auth": m.auth.kind_name(),
                "settings": m.settings,
                "credentials": m.credentials,
                "registration_number_pattern": m.registration_number_pattern,
                "limits": m.limits,
                "actions": m.actions,
            })
        })
        .collect();
    Json(Value::Array(loaded))
}
