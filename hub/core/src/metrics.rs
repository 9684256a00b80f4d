//! In-process counters for `/metrics` (the database supplies the rest: runs by status, records
//! by action, queue depth). Kept in `prometheus-client` types, so `web` registers them beside
//! its own and the crate writes the text format.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Upper bounds (seconds) of the fire-lag histogram buckets.
pub const LAG_BUCKETS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

/// One label, as `name="value"`.
pub type Label = Vec<(&'static str, String)>;

fn label(name: &'static str, value: &str) -> Label {
    vec![(name, value.to_string())]
}

#[derive(Debug)]
pub struct Metrics {
    api_calls: Family<Label, Counter>,
    token_refreshes: Family<Label, Counter>,
    fire_lag: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        let token_refreshes = Family::<Label, Counter>::default();
        // Both results are shown from the start, at zero.
        for result in ["ok", "failed"] {
            let _ = token_refreshes.get_or_create(&label("result", result));
        }
        Metrics {
            api_calls: Family::default(),
            token_refreshes,
            fire_lag: Histogram::new(LAG_BUCKETS.into_iter()),
        }
    }
}

impl Metrics {
    pub fn api_call(&self, connector: &str) {
        self.api_calls
            .get_or_create(&label("connector", connector))
            .inc();
    }

    /// An OAuth token refresh, and whether it worked.
    pub fn token_refresh(&self, ok: bool) {
        let result = if ok { "ok" } else { "failed" };
        self.token_refreshes
            .get_or_create(&label("result", result))
            .inc();
    }

    /// How late a scheduled occurrence was queued.
    pub fn fire_lag(&self, lag_ms: i64) {
        self.fire_lag.observe(lag_ms.max(0) as f64 / 1000.0);
    }

    /// Adds this process's metrics to a scrape's registry (they share the counts).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "renkei_api_calls",
            "Calls into connectors by this process",
            self.api_calls.clone(),
        );
        registry.register(
            "renkei_token_refreshes",
            "OAuth token refreshes by this process",
            self.token_refreshes.clone(),
        );
        registry.register(
            "renkei_fire_lag_seconds",
            "Delay between a scheduled time and its run being queued",
            self.fire_lag.clone(),
        );
    }
}
