//! `GET /metrics`: Prometheus text format. No secrets, so no auth (like `/healthz`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::AppState;

pub async fn serve(State(s): State<AppState>) -> impl IntoResponse {
    let stats = match s.hub.store.run_stats().await {
        Ok(st) => st,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: database unreachable");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain")],
                "database unreachable\n".to_string(),
            );
        }
    };
    let m = &s.hub.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP renkei_runs Runs in the history by status.\n# TYPE renkei_runs gauge"
    );
    for (status, n) in &stats.by_status {
        let _ = writeln!(out, "renkei_runs{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP renkei_records_total Records processed by all runs, by action.\n# TYPE renkei_records_total counter");
    let r = stats.records;
    for (action, n) in [
        ("read", r.read),
        ("created", r.created),
        ("updated", r.updated),
        ("unchanged", r.unchanged),
        ("skipped", r.skipped),
        ("failed", r.failed),
    ] {
        let _ = writeln!(out, "renkei_records_total{{action=\"{action}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP renkei_queue_depth Runs waiting to start.\n# TYPE renkei_queue_depth gauge\nrenkei_queue_depth {}", stats.queued);
    let _ = writeln!(out, "# HELP renkei_api_calls_total Calls into connectors by this process.\n# TYPE renkei_api_calls_total counter");
    for (connector, n) in m.api_calls() {
        let _ = writeln!(
            out,
            "renkei_api_calls_total{{connector=\"{connector}\"}} {n}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP renkei_token_refreshes_total OAuth token refreshes by this process.\n# TYPE renkei_token_refreshes_total counter\nrenkei_token_refreshes_total{{result=\"ok\"}} {}\nrenkei_token_refreshes_total{{result=\"failed\"}} {}",
        m.token_refreshes.load(Ordering::Relaxed),
        m.token_refresh_failures.load(Ordering::Relaxed)
    );
    let (buckets, count, sum) = m.fire_lag_histogram();
    let _ = writeln!(out, "# HELP renkei_fire_lag_seconds Delay between a scheduled time and its run being queued.\n# TYPE renkei_fire_lag_seconds histogram");
    for (le, n) in buckets {
        let _ = writeln!(out, "renkei_fire_lag_seconds_bucket{{le=\"{le}\"}} {n}");
    }
    let _ = writeln!(out, "renkei_fire_lag_seconds_bucket{{le=\"+Inf\"}} {count}\nrenkei_fire_lag_seconds_sum {sum}\nrenkei_fire_lag_seconds_count {count}");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        out,
    )
}
