//! 処理履歴: every run with filters (連携サービス, 結果, 実行種別, 日付), its counts, a chart of
//! runs per day by result, and a run's page with エラー詳細 and what to do about each error,
//! 失敗分のみ再実行 and 元に戻す (operators may, as 今すぐ実行).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Asia::Tokyo;
use hub_core::HubError;
use hub_domain::RunFilter;
use hub_domain::{Millis, Run, RunStatus, RunWarning, Trigger};
use hub_messages::Message;
use minijinja::{context, Value};
use serde::Deserialize;
use std::collections::HashMap;

use super::auth::{Operator, Viewer};
use super::chart;
use super::error_list;
use super::i18n::{self, t, Lang};
use super::labels;
use super::record_names;
use super::render::{page, see_other, OrPage, PageResult};
use crate::AppState;

const DAY_MS: Millis = 86_400_000;
const LIST_LIMIT: i64 = 200;
const CHART_DAYS: i64 = 14;

#[derive(Debug, Default, Deserialize)]
pub struct RunsQuery {
    #[serde(default)]
    flow: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    trigger: String,
    /// YYYY-MM-DD, Japan time.
    #[serde(default)]
    date: String,
}

fn day_start(d: NaiveDate) -> Option<Millis> {
    Tokyo
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()
        .map(|t| t.timestamp_millis())
}

pub async fn list(State(s): State<AppState>, v: Viewer, Query(q): Query<RunsQuery>) -> PageResult {
    let lang = v.ctx.lang;
    let hub = &s.hub;
    let flows = hub.list_flows().await.or_page(lang)?;
    let names: HashMap<&str, &str> = flows
        .iter()
        .map(|f| (f.id.as_str(), f.spec.name.as_str()))
        .collect();
    let status = RunStatus::parse(&q.status);
    let trigger = Trigger::parse(&q.trigger);
    let date = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").ok();
    let since = date.and_then(day_start);
    let flow = (!q.flow.is_empty()).then(|| q.flow.clone());
    let runs = hub
        .list_runs(&RunFilter {
            flow: flow.clone(),
            status,
            trigger,
            since,
            until: since.map(|start| start + DAY_MS),
            limit: LIST_LIMIT,
        })
        .await
        .or_page(lang)?;
    let today = hub_domain::now_ms();
    let per_day = hub
        .runs_per_day(
            flow.as_deref(),
            chart::window_start(today, CHART_DAYS),
            chart::day_offset_ms(today),
        )
        .await
        .or_page(lang)?;
    let mut totals = hub_domain::RunCounts::default();
    for r in &runs {
        let c = &r.counts;
        totals.read += c.read;
        totals.created += c.created;
        totals.updated += c.updated;
        totals.unchanged += c.unchanged;
        totals.skipped += c.skipped;
        totals.failed += c.failed;
    }
    let rows: Vec<Value> = runs
        .iter()
        .map(|r| {
            labels::run_row(
                lang,
                r,
                names.get(r.flow_id.as_str()).copied().unwrap_or("—"),
            )
        })
        .collect();
    let flow_opts: Vec<Value> = flows
        .iter()
        .map(|f| context! { value => f.id.clone(), label => f.spec.name.clone(), selected => f.id == q.flow })
        .collect();
    let status_opts: Vec<Value> = labels::STATUSES
        .iter()
        .map(|st| context! { value => st.as_str(), label => t(lang, labels::status_key(*st)), selected => Some(*st) == status })
        .collect();
    let trigger_opts: Vec<Value> = labels::TRIGGERS
        .iter()
        .map(|tr| context! { value => tr.as_str(), label => t(lang, labels::trigger_key(*tr)), selected => Some(*tr) == trigger })
        .collect();
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "runs.html",
        context! {
            nav => "runs",
            runs => rows,
            count => runs.len(),
            limited => runs.len() as i64 >= LIST_LIMIT,
            totals => totals,
            flows => flow_opts,
            statuses => status_opts,
            triggers => trigger_opts,
            date => date.map(|d| d.to_string()).unwrap_or_default(),
            chart => Value::from_safe_string(chart::runs_per_day(lang, &per_day, today, CHART_DAYS)),
            legend => chart::legend(lang),
            chart_caption => chart::caption(lang, CHART_DAYS),
        },
    )
    .await)
}

/// What to do about one record's error, from its code (connector codes vary, so by keyword).
/// What happened to a record, in the catalogue's words, by its error's code: the same
/// classes as [`hint_key`]; the system's own message is shown apart as 詳細.
pub fn what_key(code: &str) -> &'static str {
    match hint_key(code) {
        "run_actions.hint_changed_since" => "run_error.changed_since",
        "run_actions.hint_before_unknown" => "run_error.before_unknown",
        "run_actions.hint_not_read_again" => "run_error.not_read_again",
        "hint.ambiguous" => "run_error.ambiguous",
        "hint.auth" => "run_error.auth",
        "hint.rate" => "run_error.rate",
        "hint.not_found" => "run_error.not_found",
        "hint.conflict" => "run_error.conflict",
        "hint.invalid" => "run_error.invalid",
        "hint.transient" => "run_error.transient",
        _ => "run_error.other",
    }
}

pub fn hint_key(code: &str) -> &'static str {
    let c = code.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
    match c.as_str() {
        "changed_since" => return "run_actions.hint_changed_since",
        "before_unknown" | "before_unreadable" => return "run_actions.hint_before_unknown",
        "not_read_again" => return "run_actions.hint_not_read_again",
        _ => {}
    }
    if has(&["ambiguous"]) {
        "hint.ambiguous"
    } else if has(&[
        "auth",
        "token",
        "grant",
        "unauthorized",
        "401",
        "permission",
        "forbidden",
        "403",
    ]) {
        "hint.auth"
    } else if has(&["rate", "quota", "limit", "429"]) {
        "hint.rate"
    } else if has(&["not_found", "notfound", "404", "gone"]) {
        "hint.not_found"
    } else if has(&["conflict", "409", "revision", "version"]) {
        "hint.conflict"
    } else if has(&[
        "invalid",
        "validation",
        "required",
        "format",
        "400",
        "422",
        "duplicate",
        "unique",
    ]) {
        "hint.invalid"
    } else if has(&[
        "transient",
        "timeout",
        "timed_out",
        "unavailable",
        "500",
        "502",
        "503",
    ]) {
        "hint.transient"
    } else {
        "hint.other"
    }
}

/// A warning in the page's language: the catalogue's words for its code (`warning.gaiji`),
/// filled from its params; the connector's own text for a code the catalogue does not know or
/// params it lacks.
fn warning_text(lang: Lang, w: &RunWarning) -> String {
    let key = format!("warning.{}", w.code);
    if !i18n::has(lang, &key) {
        return w.message.clone();
    }
    let args: Vec<(&str, &str)> = w
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let text = i18n::tf(lang, &key, &args);
    if text.contains('{') {
        w.message.clone()
    } else {
        text
    }
}

/// The most refused records a run's page sorts and pages through.
const MAX_LISTED_ERRORS: i64 = 100_000;

fn side_label(lang: Lang, side: &str) -> String {
    match side {
        "source" => t(lang, "run.side_source"),
        "target" => t(lang, "run.side_target"),
        other => other.to_string(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    /// The page of refused records (50 each), from 1.
    pub page: Option<String>,
}

pub async fn detail(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> PageResult {
    let lang = v.ctx.lang;
    let run: Run = s.hub.get_run(&id).await.or_page(lang)?;
    let flow_name = s
        .hub
        .get_flow(&run.flow_id)
        .await
        .map(|f| f.spec.name)
        .unwrap_or_else(|_| "—".into());
    let mut errors = s
        .hub
        .run_errors(&id, MAX_LISTED_ERRORS)
        .await
        .or_page(lang)?;
    error_list::sort(&mut errors);
    let window = error_list::Window::of(errors.len(), q.page.as_deref());
    let error_rows: Vec<Value> = errors[window.range()]
        .iter()
        .map(|e| {
            context! {
                record => record_names::record_cell(e),
                side => side_label(lang, &e.side),
                code => e.code.clone(),
                what => t(lang, what_key(&e.code)),
                refused => record_names::refused(lang, e),
                detail => Message::stored_in(&e.message, lang),
                hint => t(lang, hint_key(&e.code)),
            }
        })
        .collect();
    let warnings = s.hub.run_warnings(&id, 1000).await.or_page(lang)?;
    let warning_rows: Vec<Value> = warnings
        .iter()
        .map(|w| {
            context! {
                record => w.record.clone(),
                title => w.title.clone(),
                side => side_label(lang, &w.side),
                code => w.code.clone(),
                message => warning_text(lang, w),
            }
        })
        .collect();
    let run_hint = (run.status == RunStatus::Failed)
        .then(|| t(lang, hint_key(run.message.as_deref().unwrap_or(""))));
    let actions = actions(&s, &run, errors.len()).await.or_page(lang)?;
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "run_detail.html",
        context! {
            nav => "runs",
            run => labels::run_row(lang, &run, &flow_name),
            errors => error_rows,
            errors_window => window,
            errors_range => i18n::tf(lang, "run.errors_range", &[
                ("total", &window.total.to_string()),
                ("from", &window.from.to_string()),
                ("to", &window.to.to_string()),
            ]),
            warnings => warning_rows,
            run_hint => run_hint,
            actions => actions,
        },
    )
    .await)
}

/// What the run's page offers and tells about 元に戻す and 失敗分のみ再実行 (the rules are core's).
async fn actions(s: &AppState, run: &Run, errors: usize) -> Result<Value, HubError> {
    let a = s.hub.run_actions(run, errors).await?;
    Ok(context! {
        can_retry => a.can_retry,
        failed => errors,
        can_undo => a.can_undo,
        changes => a.open_changes,
        undo_of => a.undo_of,
        retry_of => a.retry_of,
        undone_by => a.undone_by,
        retried_by => a.retried_by,
    })
}

/// The sentence for a refused undo or retry, in the page's language.
fn refusal(lang: Lang, e: &HubError) -> String {
    match e {
        HubError::Refused { message, .. } => super::messages::field_message(lang, message),
        _ => super::messages::hub_error(lang, e),
    }
}

/// 元に戻す: restores what the run wrote and shows the undo run, with what was left alone.
pub async fn undo(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    match s.hub.undo_run(&id, Trigger::Manual).await {
        Ok(out) => {
            tracing::info!(run = %id, undo = %out.run.id, user = %v.user.username, restored = out.restored, "run undone from the UI");
            let restored = out.restored.to_string();
            let mut text = super::i18n::tf(lang, "run_actions.undone", &[("restored", &restored)]);
            if !out.left_alone.is_empty() {
                let names: Vec<&str> = out
                    .left_alone
                    .iter()
                    .take(10)
                    .map(|e| e.record.as_str())
                    .collect();
                let n = out.left_alone.len().to_string();
                text += &super::i18n::tf(
                    lang,
                    "run_actions.left_alone",
                    &[("n", &n), ("records", &names.join(", "))],
                );
            }
            super::session::flash(&s, &v.ctx, &text).await;
            see_other(&format!("/runs/{}", out.run.id))
        }
        Err(e) => {
            super::session::flash(&s, &v.ctx, &refusal(lang, &e)).await;
            see_other(&format!("/runs/{id}"))
        }
    }
}

/// 失敗分のみ再実行: queues the retry and shows its page (which follows it until it ends).
pub async fn retry_failed(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    match s.hub.retry_failed(&id).await {
        Ok(run_id) => {
            s.runs_queued.notify_one();
            tracing::info!(run = %id, retry = %run_id, user = %v.user.username, "retry of failed records queued from the UI");
            super::session::flash(&s, &v.ctx, &t(lang, "run_actions.retry_queued")).await;
            see_other(&format!("/runs/{run_id}"))
        }
        Err(e) => {
            super::session::flash(&s, &v.ctx, &refusal(lang, &e)).await;
            see_other(&format!("/runs/{id}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_follow_the_error_code() {
        assert_eq!(hint_key("auth_expired"), "hint.auth");
        assert_eq!(hint_key("ambiguous_match"), "hint.ambiguous");
        assert_eq!(hint_key("GB_INPUT_REQUIRED"), "hint.invalid");
        assert_eq!(hint_key("rate_limited"), "hint.rate");
        assert_eq!(hint_key("x"), "hint.other");
    }
}
