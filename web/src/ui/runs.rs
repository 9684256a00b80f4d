//! 処理履歴: every run with filters (連携サービス, 結果, 実行種別, 日付), its counts, a chart of
//! runs per day by result, and a run's page with エラー詳細 and what to do about each error.

use axum::extract::{Path, Query, State};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Asia::Tokyo;
use hub_store::runs::RunFilter;
use hub_store::{Millis, Run, RunStatus, Trigger};
use minijinja::{context, Value};
use serde::Deserialize;
use std::collections::HashMap;

use super::auth::Viewer;
use super::chart;
use super::i18n::{t, Lang};
use super::labels;
use super::render::{page, OrPage, PageResult};
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
    let store = &s.hub.store;
    let flows = store.list_flows().await.or_page(lang)?;
    let names: HashMap<&str, &str> = flows
        .iter()
        .map(|f| (f.id.as_str(), f.spec.name.as_str()))
        .collect();
    let status = RunStatus::parse(&q.status);
    let trigger = Trigger::parse(&q.trigger);
    let date = NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").ok();
    let since = date.and_then(day_start);
    let flow = (!q.flow.is_empty()).then(|| q.flow.clone());
    let mut runs = store
        .list_runs(&RunFilter {
            flow: flow.clone(),
            status,
            trigger,
            since,
            limit: LIST_LIMIT,
        })
        .await
        .or_page(lang)?;
    if let Some(start) = since {
        runs.retain(|r| r.queued_at < start + DAY_MS);
    }
    let today = hub_store::now_ms();
    let chart_runs = store
        .list_runs(&RunFilter {
            flow,
            since: Some(today - CHART_DAYS * DAY_MS),
            limit: 1000,
            ..Default::default()
        })
        .await
        .or_page(lang)?;
    let mut totals = hub_store::RunCounts::default();
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
            chart => Value::from_safe_string(chart::runs_per_day(lang, &chart_runs, today, CHART_DAYS)),
            legend => chart::legend(lang),
            chart_caption => chart::caption(lang, CHART_DAYS),
        },
    )
    .await)
}

/// What to do about one record's error, from its code (connector codes vary, so by keyword).
pub fn hint_key(code: &str) -> &'static str {
    let c = code.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| c.contains(w));
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

fn side_label(lang: Lang, side: &str) -> String {
    match side {
        "source" => t(lang, "run.side_source"),
        "target" => t(lang, "run.side_target"),
        other => other.to_string(),
    }
}

pub async fn detail(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let lang = v.ctx.lang;
    let run: Run = s.hub.store.get_run(&id).await.or_page(lang)?;
    let flow_name = s
        .hub
        .store
        .get_flow(&run.flow_id)
        .await
        .map(|f| f.spec.name)
        .unwrap_or_else(|_| "—".into());
    let errors = s.hub.store.run_errors(&id, 1000).await.or_page(lang)?;
    let error_rows: Vec<Value> = errors
        .iter()
        .map(|e| {
            context! {
                record => e.record.clone(),
                side => side_label(lang, &e.side),
                code => e.code.clone(),
                message => e.message.clone(),
                hint => t(lang, hint_key(&e.code)),
            }
        })
        .collect();
    let run_hint = (run.status == RunStatus::Failed)
        .then(|| t(lang, hint_key(run.message.as_deref().unwrap_or(""))));
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "run_detail.html",
        context! {
            nav => "runs",
            run => labels::run_row(lang, &run, &flow_name),
            errors => error_rows,
            run_hint => run_hint,
        },
    )
    .await)
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
