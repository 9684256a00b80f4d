//! Token bucket per tenant (reference/obc.md §4): refills `per_minute` tokens a minute up to
//! `burst`; an empty bucket answers 429 with the seconds until the next token.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LimitConfig {
    /// `None` lifts the limit (benchmarks).
    pub per_minute: Option<u32>,
    /// Bucket size; defaults to `per_minute`.
    pub burst: Option<u32>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter {
    config: Mutex<LimitConfig>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Limiter {
    pub fn new(per_minute: u32) -> Self {
        Limiter {
            config: Mutex::new(LimitConfig {
                per_minute: Some(per_minute),
                burst: None,
            }),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> LimitConfig {
        *lock(&self.config)
    }

    /// New settings start every tenant with a full bucket.
    pub fn set(&self, c: LimitConfig) {
        *lock(&self.config) = c;
        lock(&self.buckets).clear();
    }

    /// Takes one token for `key`, or says how many seconds to wait.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        let c = self.config();
        let Some(per_minute) = c.per_minute.filter(|n| *n > 0) else {
            return Ok(());
        };
        let cap = f64::from(c.burst.unwrap_or(per_minute).max(1));
        let rate = f64::from(per_minute) / 60.0;
        let now = Instant::now();
        let mut buckets = lock(&self.buckets);
        let b = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_after_burst_and_lifts_when_disabled() {
        let l = Limiter::new(60);
        l.set(LimitConfig {
            per_minute: Some(60),
            burst: Some(2),
        });
        assert!(l.take("t").is_ok() && l.take("t").is_ok());
        assert_eq!(l.take("t"), Err(1));
        assert!(l.take("other").is_ok(), "buckets are per tenant");
        l.set(LimitConfig {
            per_minute: None,
            burst: None,
        });
        assert!((0..500).all(|_| l.take("t").is_ok()));
    }
}
