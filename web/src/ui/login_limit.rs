//! Sign-in throttling: after `MAX_FAILURES` wrong passwords for one user name within `WINDOW`,
//! that name is refused (even with the right password) until `WINDOW` has passed since the last
//! failure. Kept in memory per hub process: a restart forgets it, and with several processes
//! each counts its own attempts (the limit per process still stops guessing at speed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: u32 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct LoginLimit {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimit {
    fn key(username: &str) -> String {
        username.trim().to_lowercase()
    }

    /// Whether this name may try now.
    pub fn allowed(&self, username: &str, now: Instant) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&Self::key(username)) {
            Some((n, last)) if now.duration_since(*last) < WINDOW => *n < MAX_FAILURES,
            Some(_) => {
                map.remove(&Self::key(username));
                true
            }
            None => true,
        }
    }

    pub fn failed(&self, username: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Forget names whose window passed, so guessing many names cannot grow the map forever.
        map.retain(|_, (_, last)| now.duration_since(*last) < WINDOW);
        let e = map.entry(Self::key(username)).or_insert((0, now));
        e.0 += 1;
        e.1 = now;
    }

    pub fn succeeded(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Self::key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_name_until_the_window_passes() {
        let l = LoginLimit::default();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(l.allowed("Admin", t0), "attempt {i}");
            l.failed("admin", t0);
        }
        assert!(!l.allowed("ADMIN ", t0 + Duration::from_secs(60)));
        assert!(l.allowed("other", t0), "other names are not affected");
        assert!(l.allowed("admin", t0 + WINDOW + Duration::from_secs(1)));
        l.failed("admin", t0);
        l.succeeded("admin");
        assert!(l.allowed("admin", t0));
    }
}
