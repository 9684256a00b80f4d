//! In-process counters for `/metrics` (the database supplies the rest: runs by status, records
//! by action, queue depth). Prometheus text format, rendered by `web`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Upper bounds (seconds) of the fire-lag histogram buckets.
pub const LAG_BUCKETS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0];

#[derive(Default)]
pub struct Metrics {
    api_calls: Mutex<BTreeMap<String, u64>>,
    pub token_refreshes: AtomicU64,
    pub token_refresh_failures: AtomicU64,
    lag_buckets: [AtomicU64; 8],
    lag_count: AtomicU64,
    lag_sum_ms: AtomicU64,
}

impl Metrics {
    pub fn api_call(&self, connector: &str) {
        let mut m = self.api_calls.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(connector.to_string()).or_insert(0) += 1;
    }

    pub fn api_calls(&self) -> BTreeMap<String, u64> {
        self.api_calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How late a scheduled occurrence was queued.
    pub fn fire_lag(&self, lag_ms: i64) {
        let lag_ms = lag_ms.max(0) as u64;
        for (i, bound) in LAG_BUCKETS.iter().enumerate() {
            if lag_ms as f64 <= bound * 1000.0 {
                self.lag_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.lag_count.fetch_add(1, Ordering::Relaxed);
        self.lag_sum_ms.fetch_add(lag_ms, Ordering::Relaxed);
    }

    /// Cumulative bucket counts, total count, and the sum in seconds.
    pub fn fire_lag_histogram(&self) -> (Vec<(f64, u64)>, u64, f64) {
        let buckets = LAG_BUCKETS
            .iter()
            .zip(&self.lag_buckets)
            .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
            .collect();
        (
            buckets,
            self.lag_count.load(Ordering::Relaxed),
            self.lag_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0,
        )
    }
}
