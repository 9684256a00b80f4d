//! 連携サービス (home): connections, flows with 連携タイミング and 今すぐ実行, and
//! 処理履歴（最近5件）. 今すぐ実行 queues a run; the page then polls the run's status as JSON.

use axum::extract::{Path, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hub_domain::RunFilter;
use hub_domain::{Connection, ConnectionStatus, Flow, Trigger};
use minijinja::{context, Value};
use serde_json::json;
use std::collections::HashMap;

use super::auth::{json_unauthorized, Operator, Viewer};
use super::i18n::{t, tf, Lang};
use super::labels;
use super::messages;
use super::progress;
use super::render::{page, see_other, OrPage, PageResult};
use super::schedule_words;
use super::session::Ctx;
use crate::AppState;

/// The connector's name in the page's language, or its id when the plugin is not loaded.
pub fn connector_name(s: &AppState, lang: Lang, id: &str) -> String {
    match s.hub.plugins.plugin(id) {
        Some(p) => match lang {
            Lang::Ja => p.manifest.name.ja.clone(),
            Lang::En => p.manifest.name.en.clone(),
        },
        None => format!("{id} {}", t(lang, "conn.not_loaded")),
    }
}

/// The one status of a connection, as every page shows it: from its last check (接続テスト) or
/// the last run that used it; 未確認 until then.
pub fn connection_status(lang: Lang, c: &Connection) -> (String, &'static str) {
    match c.status {
        ConnectionStatus::Reauthorize => (t(lang, "conn.status_reauthorize"), "warn"),
        ConnectionStatus::Error => (t(lang, "conn.status_error"), "bad"),
        ConnectionStatus::Ok => (t(lang, "conn.status_ok"), "ok"),
        ConnectionStatus::Unchecked => (t(lang, "conn.status_unchecked"), "unchecked"),
    }
}

/// 「最終確認 12/07 11:20」: when the status was found (nothing while unchecked).
pub fn connection_checked(lang: Lang, c: &Connection) -> Option<String> {
    let at = super::labels::month_day_time(c.checked_at?)?;
    Some(tf(lang, "conn.checked_at", &[("at", &at)]))
}

pub fn connection_row(s: &AppState, lang: Lang, c: &Connection) -> Value {
    let (label, class) = connection_status(lang, c);
    context! {
        id => c.id.clone(),
        name => c.name.clone(),
        connector => connector_name(s, lang, &c.connector_id),
        registration_number => c.registration_number.clone(),
        status_label => label,
        status_class => class,
        status_message => c.status_message.as_deref().map(|m| hub_messages::Message::stored_in(m, lang)),
        status_checked => connection_checked(lang, c),
        needs_reauth => c.status == ConnectionStatus::Reauthorize,
    }
}

/// `pending`: records the flow's runs failed on and no run has written since; a flow with
/// any needs attention.
/// `active`: the flow's queued or running run, whose progress the row's bar follows.
pub fn flow_row(
    lang: Lang,
    f: &Flow,
    names: &HashMap<String, String>,
    pending: i64,
    active: Option<&str>,
) -> Value {
    let side = |e: &hub_domain::Endpoint| {
        format!(
            "{} / {}",
            names
                .get(&e.connection)
                .cloned()
                .unwrap_or_else(|| e.connection.clone()),
            e.object
        )
    };
    context! {
        id => f.id.clone(),
        name => f.spec.name.clone(),
        source => side(&f.spec.source),
        target => side(&f.spec.target),
        two_way => f.spec.direction == hub_domain::Direction::TwoWay,
        timing => schedule_words::describe(lang, f.spec.schedule.as_ref(), f.spec.enabled),
        next_run => labels::datetime(f.next_fire_at),
        pending => pending,
        active_run => active,
    }
}

pub async fn home(State(s): State<AppState>, v: Viewer) -> PageResult {
    let lang = v.ctx.lang;
    let hub = &s.hub;
    let connections = hub.list_connections().await.or_page(lang)?;
    let flows = hub.list_flows().await.or_page(lang)?;
    let pending = hub.pending_counts().await.or_page(lang)?;
    let active: HashMap<String, String> = hub
        .active_runs()
        .await
        .or_page(lang)?
        .into_iter()
        .map(|r| (r.flow_id, r.id))
        .collect();
    let runs = hub
        .list_runs(&RunFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .or_page(lang)?;
    let conn_names: HashMap<String, String> = connections
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let flow_names: HashMap<&str, &str> = flows
        .iter()
        .map(|f| (f.id.as_str(), f.spec.name.as_str()))
        .collect();
    let recent: Vec<Value> = runs
        .iter()
        .map(|r| {
            labels::run_row(
                lang,
                r,
                flow_names.get(r.flow_id.as_str()).copied().unwrap_or("—"),
            )
        })
        .collect();
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "home.html",
        context! {
            nav => "home",
            connections => connections.iter().map(|c| connection_row(&s, lang, c)).collect::<Vec<_>>(),
            flows => flows.iter().map(|f| flow_row(lang, f, &conn_names, pending.get(&f.id).copied().unwrap_or(0), active.get(&f.id).map(String::as_str))).collect::<Vec<_>>(),
            recent => recent,
            can_edit => v.is_admin(),
        },
    )
    .await)
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// 今すぐ実行 (operators may). With `Accept: application/json` (the page's script) answers the
/// run and where to poll; otherwise goes to the run's page.
pub async fn run_now(
    State(s): State<AppState>,
    Operator(v): Operator,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let json = wants_json(&headers);
    match s.hub.run_flow_now(&id, Trigger::Manual).await {
        Ok(run_id) => {
            s.runs_queued.notify_one();
            tracing::info!(flow = %id, run = %run_id, user = %v.user.username, "run queued from the UI");
            if json {
                (
                    StatusCode::ACCEPTED,
                    Json(json!({"run_id": run_id, "status_url": format!("/ui/runs/{run_id}/status")})),
                )
                    .into_response()
            } else {
                see_other(&format!("/runs/{run_id}"))
            }
        }
        Err(e) => {
            let message = messages::hub_error(lang, &e);
            let status = crate::error::ApiError::from(e).status;
            if json {
                (status, Json(json!({"error": {"message": message}}))).into_response()
            } else {
                super::session::flash(&s, &v.ctx, &message).await;
                see_other("/")
            }
        }
    }
}

/// A run's progress for the progress bar (`progress.rs`): session-authenticated, never redirects.
pub async fn run_status(State(s): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> Response {
    if ctx.session.as_ref().is_none_or(|(_, s)| s.user.is_none()) {
        return json_unauthorized(ctx.lang);
    }
    let lang = ctx.lang;
    match s.hub.get_run(&id).await {
        Ok(r) => Json(progress::status_json(lang, &r, hub_domain::now_ms())).into_response(),
        Err(e) => {
            let message = messages::hub_error(lang, &e);
            let status = crate::error::ApiError::from(e).status;
            (status, Json(json!({"error": {"message": message}}))).into_response()
        }
    }
}
