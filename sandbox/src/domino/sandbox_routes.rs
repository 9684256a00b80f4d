//! `/_sandbox/domino/*`: what an administrator or another user would do on a real server, so
//! tests can produce the failures of reference §10 (409 delete race, 403 not enabled) and the
//! connector's change-password action can be exercised.

use super::data::summary;
use super::http::{json_response, DasError};
use super::Shared;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/_sandbox/domino/users/{name}/password",
            put(change_password),
        )
        .route("/_sandbox/domino/delete-conflict", post(delete_conflict))
        .route("/_sandbox/domino/access", put(access))
        .route("/_sandbox/domino/settings", put(settings))
        .route("/_sandbox/domino/touch", post(touch))
}

#[derive(Deserialize)]
struct Password {
    password: String,
}

/// The user changed their Internet password: old credentials stop working at once.
async fn change_password(
    State(st): State<Shared>,
    Path(name): Path<String>,
    Json(b): Json<Password>,
) -> Response {
    if b.password.is_empty() {
        return DasError::bad_request("The password must not be empty.").into_response();
    }
    let found = st.write(|s| {
        s.users
            .iter_mut()
            .find(|u| u.answers_to(&name))
            .map(|u| u.password = b.password)
            .is_some()
    });
    if found {
        StatusCode::NO_CONTENT.into_response()
    } else {
        DasError::not_found(format!("No user {name}.")).into_response()
    }
}

#[derive(Deserialize)]
struct Count {
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

/// The next `count` deletes fail with 409, as when another user edits the document meanwhile.
async fn delete_conflict(State(st): State<Shared>, Json(b): Json<Count>) -> Response {
    st.delete_conflicts.store(b.count, Ordering::SeqCst);
    json_response(StatusCode::OK, &json!({"pending": b.count}))
}

#[derive(Deserialize)]
struct Access {
    database: Option<String>,
    /// 0 never, 1 views only, 2 views and documents.
    allow: Option<u8>,
    /// View name → *Allow Domino Data Service operations*.
    #[serde(default)]
    views: BTreeMap<String, bool>,
    /// The server's enabled services, e.g. `["Data"]` to switch the Calendar service off.
    services: Option<Vec<String>>,
}

/// Enables or disables DAS for the server, a database or its views (§4).
async fn access(State(st): State<Shared>, Json(b): Json<Access>) -> Response {
    let r = st.write(|s| {
        if let Some(sv) = b.services {
            s.settings.services = sv;
        }
        if let Some(path) = &b.database {
            let db = s
                .db_mut(path)
                .ok_or_else(|| DasError::not_found(format!("Cannot open database {path}.")))?;
            if let Some(a) = b.allow {
                db.allow_rest = a.min(2);
            }
            for (name, on) in &b.views {
                let v = db
                    .views
                    .iter_mut()
                    .find(|v| v.name.eq_ignore_ascii_case(name))
                    .ok_or_else(|| DasError::not_found(format!("No view {name}.")))?;
                v.das_enabled = *on;
            }
        }
        let dbs: Vec<_> = s
            .databases
            .iter()
            .map(|d| {
                json!({
                    "database": d.path,
                    "allow": d.allow_rest,
                    "views": d.views.iter().map(|v| (v.name.clone(), v.das_enabled)).collect::<BTreeMap<_, _>>(),
                })
            })
            .collect();
        Ok::<_, DasError>(json!({"services": s.settings.services, "databases": dbs}))
    });
    match r {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct SettingsBody {
    max_view_entries: Option<usize>,
    auth_failure_status: Option<u16>,
}

async fn settings(State(st): State<Shared>, Json(b): Json<SettingsBody>) -> Response {
    let v = st.write(|s| {
        if let Some(m) = b.max_view_entries {
            // notes.ini DataServiceMaxViewEntries: only values above 10 are honoured.
            if m > 10 {
                s.settings.max_view_entries = m;
            }
        }
        if let Some(code) = b.auth_failure_status.filter(|c| *c == 200 || *c == 401) {
            s.settings.auth_failure_status = code;
        }
        json!(s.settings)
    });
    json_response(StatusCode::OK, &v)
}

#[derive(Deserialize)]
struct Touch {
    database: String,
    unid: String,
}

/// Another user edits the document now: its `@modified` moves, so stale
/// `If-Unmodified-Since` headers get 412.
async fn touch(State(st): State<Shared>, Json(b): Json<Touch>) -> Response {
    let r = st.write(|s| {
        let doc = s
            .db_mut(&b.database)
            .and_then(|db| db.doc_mut(&b.unid))
            .ok_or_else(|| DasError::not_found("Invalid universal id"))?;
        doc.modified = Utc::now();
        Ok::<_, DasError>(summary(doc))
    });
    match r {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}
