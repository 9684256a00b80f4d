//! Connector actions on a connection's page (パスワード変更, 取込履歴, …): each action the
//! manifest declares (and does not hide) is a small form; its answer is shown as a banner, a
//! table (`rows`, optional `columns`) or formatted JSON. Actions with inputs change the
//! connection, so only admins may run them; actions without inputs only look.

use axum::extract::{Path, State};
use connector_sdk::{ActionSpec, Manifest, SettingKind};
use minijinja::{context, Value};
use serde_json::Map;

use super::auth::Operator;
use super::connections::{render, View};
use super::fields::{self, CREDENTIAL_PREFIX};
use super::form::Form;
use super::i18n::{t, Lang};
use super::messages::{self, FieldErrors};
use super::render::{OrPage, PageError, PageResult};
use crate::error::PageFault;
use crate::AppState;
use hub_messages::Message;

/// The forms for the page; `for_action` gets `errors` shown on its inputs.
pub fn forms(
    lang: Lang,
    m: &Manifest,
    for_action: Option<&str>,
    errors: &FieldErrors,
) -> Vec<Value> {
    let none = FieldErrors::new();
    m.actions
        .iter()
        .filter(|a| !a.hidden)
        .map(|a| {
            let errs = if for_action == Some(a.id.as_str()) {
                errors
            } else {
                &none
            };
            context! {
                id => a.id.clone(),
                label => fields::text(lang, &a.label),
                help => a.help.as_ref().map(|h| fields::text(lang, h)),
                inputs => a.inputs.iter().map(|f| {
                    let secret = matches!(f.kind, SettingKind::Secret);
                    fields::input(lang, f, secret, "", false, errs)
                }).collect::<Vec<_>>(),
                needs_admin => !a.inputs.is_empty(),
            }
        })
        .collect()
}

pub async fn run(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    let lang = v.ctx.lang;
    let c = s.hub.get_connection(&id).await.or_page(lang)?;
    let Some(spec) = s.hub.plugins.plugin(&c.connector_id).and_then(|p| {
        p.manifest
            .actions
            .iter()
            .find(|a| a.id == action && !a.hidden)
            .cloned()
    }) else {
        return Err(PageError::new(
            lang,
            PageFault::NotFound,
            Message::new("conn.action_unknown"),
        ));
    };
    if !spec.inputs.is_empty() && !v.is_admin() {
        return Err(PageError::new(
            lang,
            PageFault::Forbidden,
            Message::new("err.admin_only"),
        ));
    }
    let mut errors = FieldErrors::new();
    let input = read_input(lang, &form, &spec, &mut errors);
    let result = if errors.is_empty() {
        Some(
            match s.hub.connection_action(&id, &action, input.into()).await {
                Ok(Ok(answer)) => {
                    tracing::info!(connection = %id, action = %action, user = %v.user.username, "connection action run");
                    shown(lang, &spec, &answer, true)
                }
                Ok(Err(e)) => failed(lang, &spec, &messages::connector_message(lang, &e)),
                Err(e) => failed(lang, &spec, &messages::hub_error(lang, &e)),
            },
        )
    } else {
        None
    };
    render(
        &s,
        &v,
        &id,
        View {
            errors: &FieldErrors::new(),
            check: None,
            typed: None,
            action: Some((action.as_str(), &errors)),
            action_result: result,
        },
    )
    .await
}

fn read_input(
    lang: Lang,
    form: &Form,
    spec: &ActionSpec,
    errors: &mut FieldErrors,
) -> Map<String, serde_json::Value> {
    let mut input = Map::new();
    let plain: Vec<_> = spec
        .inputs
        .iter()
        .filter(|f| !matches!(f.kind, SettingKind::Secret))
        .collect();
    fields::read_settings(lang, form, &plain, &mut input, errors);
    for f in spec
        .inputs
        .iter()
        .filter(|f| matches!(f.kind, SettingKind::Secret))
    {
        let name = format!("{CREDENTIAL_PREFIX}{}", f.key);
        // Taken as typed: a space may be part of a password.
        let value = form.get(&name);
        if value.is_empty() {
            if f.required {
                errors.insert(name, t(lang, "err.required"));
            }
            continue;
        }
        input.insert(f.key.clone(), serde_json::Value::String(value.to_string()));
    }
    input
}

fn failed(lang: Lang, spec: &ActionSpec, reason: &str) -> Value {
    context! { label => fields::text(lang, &spec.label), ok => false, message => reason.to_string() }
}

/// The answer as the page shows it: `message` as a banner, `rows` as a table, else JSON.
fn shown(lang: Lang, spec: &ActionSpec, answer: &serde_json::Value, ok: bool) -> Value {
    let message = match answer.get("message") {
        Some(serde_json::Value::String(m)) => Some(m.clone()),
        Some(m @ serde_json::Value::Object(_)) => {
            serde_json::from_value::<connector_sdk::Text>(m.clone())
                .ok()
                .map(|t| fields::text(lang, &t))
        }
        _ => None,
    };
    let rows = answer.get("rows").and_then(|r| r.as_array());
    let (columns, table) = match rows {
        Some(rows) => {
            let columns = columns(lang, answer, rows);
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| columns.iter().map(|(key, _)| cell(r.get(key))).collect())
                .collect();
            (
                columns
                    .into_iter()
                    .map(|(_, label)| label)
                    .collect::<Vec<_>>(),
                Some(table),
            )
        }
        None => (Vec::new(), None),
    };
    let json = (message.is_none() && table.is_none())
        .then(|| serde_json::to_string_pretty(answer).unwrap_or_default());
    context! {
        label => fields::text(lang, &spec.label),
        ok => ok,
        message => message.unwrap_or_else(|| t(lang, "conn.action_done")),
        columns => columns,
        rows => table,
        empty => rows.is_some_and(|r| r.is_empty()),
        json => json,
    }
}

/// `(key, label)` per column: the answer's `columns` if given, else the first row's keys.
fn columns(
    lang: Lang,
    answer: &serde_json::Value,
    rows: &[serde_json::Value],
) -> Vec<(String, String)> {
    if let Some(cols) = answer.get("columns").and_then(|c| c.as_array()) {
        return cols
            .iter()
            .filter_map(|c| {
                let key = c.get("key")?.as_str()?.to_string();
                let label = c
                    .get("label")
                    .and_then(|l| serde_json::from_value::<connector_sdk::Text>(l.clone()).ok())
                    .map(|l| fields::text(lang, &l))
                    .unwrap_or_else(|| key.clone());
                Some((key, label))
            })
            .collect();
    }
    rows.first()
        .and_then(|r| r.as_object())
        .map(|o| o.keys().map(|k| (k.clone(), k.clone())).collect())
        .unwrap_or_default()
}

fn cell(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
