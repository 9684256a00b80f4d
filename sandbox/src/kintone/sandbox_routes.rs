//! `/_sandbox/kintone/*`: test and benchmark helpers that are not API calls (the counters skip
//! them) and ignore the API limits.
//!
//! - `POST apps/{id}/records` `{"records":[{code:{value}}…], "generate": N}` adds records
//!   (checked like the API, any number) and, for 顧客管理, N generated customers.
//! - `GET apps/{id}`: record count and next id.
//! - `POST clock` `{"advance_seconds": N}` moves the emulator's clock (cursor expiry).
//! - `GET cursors`: live cursors. `POST reset`: back to the seed data.

use super::auth::Caller;
use super::error::{json_response, KError};
use super::seed;
use super::values::{self, WriteCtx};
use super::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/kintone/apps/{id}", get(app_summary))
        .route("/_sandbox/kintone/apps/{id}/records", post(seed_records))
        .route("/_sandbox/kintone/clock", post(clock))
        .route("/_sandbox/kintone/cursors", get(cursors))
        .route("/_sandbox/kintone/reset", post(reset))
}

async fn app_summary(State(k): State<Shared>, Path(id): Path<u64>) -> Response {
    k.read(|s| match s.apps.get(&id) {
        Some(a) => json_response(
            StatusCode::OK,
            &json!({"id": a.id.to_string(), "name": a.name, "records": a.records.len(), "next_id": a.next_id.to_string()}),
        ),
        None => KError::new(StatusCode::NOT_FOUND, "GAIA_AP01", "no such app").into_response(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SeedBody {
    records: Vec<Value>,
    generate: usize,
}

async fn seed_records(
    State(k): State<Shared>,
    Path(id): Path<u64>,
    Json(body): Json<SeedBody>,
) -> Response {
    let now = k.now();
    let r = k.transact(|tx| -> Result<Value, KError> {
        let caller = Caller::User(seed::LOGIN.into());
        let mut added = Vec::new();
        for (i, input) in body.records.iter().enumerate() {
            let rec = {
                let store = tx.store();
                let app = store
                    .apps
                    .get(&id)
                    .ok_or_else(|| KError::invalid("app", "no such app"))?;
                let ctx = WriteCtx {
                    store,
                    caller: &caller,
                    now,
                };
                values::build(&ctx, app, None, Some(input), &format!("records[{i}]"), app.next_id)?
            };
            added.push(rec.id);
            tx.put(id, rec);
        }
        Ok(json!({"added": added.len(), "first_id": added.first().map(|i| i.to_string()), "last_id": added.last().map(|i| i.to_string())}))
    });
    let mut out = match r {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    if body.generate > 0 {
        if id != seed::CUSTOMERS {
            return KError::invalid("generate", "generate is for app 1 (顧客管理) only")
                .into_response();
        }
        let anchor = k.now();
        let (first, last) = k.modify(|s| {
            s.apps
                .get_mut(&id)
                .map(|a| seed::add_generated_customers(a, body.generate, anchor))
                .unwrap_or((0, 0))
        });
        out["generated"] = json!(body.generate);
        out["generated_ids"] = json!([first.to_string(), last.to_string()]);
    }
    json_response(StatusCode::OK, &out)
}

#[derive(Deserialize)]
struct ClockBody {
    advance_seconds: i64,
}

async fn clock(State(k): State<Shared>, Json(b): Json<ClockBody>) -> Json<Value> {
    let offset = k.advance_clock(b.advance_seconds);
    Json(json!({"offset_seconds": offset, "now": super::time::fmt(k.now())}))
}

async fn cursors(State(k): State<Shared>) -> Json<Value> {
    let now = k.now();
    Json(json!({"live": k.with_cursors(|c| c.live_count(now))}))
}

async fn reset(State(k): State<Shared>) -> StatusCode {
    k.reset();
    StatusCode::NO_CONTENT
}
