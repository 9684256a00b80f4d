//! `GET /metrics`: the OpenMetrics text format, written by `prometheus-client`. No secrets, so
//! no auth (like `/healthz`). The database's figures are read at each scrape into a fresh
//! registry; the process's own counters (`hub_core::metrics`) are registered beside them.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use hub_core::metrics::Label;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::AppState;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub async fn serve(State(s): State<AppState>) -> impl IntoResponse {
    let unavailable = |what: &str| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain")],
            format!("{what}\n"),
        )
    };
    let stats = match s.hub.run_stats().await {
        Ok(st) => st,
        Err(e) => {
            tracing::warn!(error = %e, "metrics: database unreachable");
            return unavailable("database unreachable");
        }
    };
    let mut registry = Registry::default();
    let runs = Family::<Label, Gauge>::default();
    for (status, n) in &stats.by_status {
        runs.get_or_create(&vec![("status", status.clone())])
            .set(*n);
    }
    registry.register("renkei_runs", "Runs in the history by status", runs);

    let records = Family::<Label, Counter>::default();
    let r = stats.records;
    for (action, n) in [
        ("read", r.read),
        ("created", r.created),
        ("updated", r.updated),
        ("unchanged", r.unchanged),
        ("skipped", r.skipped),
        ("failed", r.failed),
    ] {
        records
            .get_or_create(&vec![("action", action.to_string())])
            .inc_by(u64::try_from(n).unwrap_or(0));
    }
    registry.register(
        "renkei_records",
        "Records processed by all runs, by action",
        records,
    );

    let queue = Gauge::<i64>::default();
    queue.set(stats.queued);
    registry.register("renkei_queue_depth", "Runs waiting to start", queue);

    s.hub.metrics.register(&mut registry);
    let mut out = String::new();
    if let Err(e) = encode(&mut out, &registry) {
        tracing::warn!(error = %e, "metrics: cannot encode");
        return unavailable("cannot encode the metrics");
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, CONTENT_TYPE)], out)
}
