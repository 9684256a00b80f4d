//! Sign-in throttling, in two parts, so guessing gets nowhere while nobody can lock the real
//! user out for long:
//!
//! - **per client address** (governor's keyed limiter): `ADDRESS_BURST` attempts at once, then
//!   one every `ADDRESS_PERIOD`, whatever the user names: a thousand guesses a minute from one
//!   address get about ten through.
//! - **per account and address**, with growing delays: after `FREE_FAILURES` wrong passwords from
//!   one address for one name, that address waits 2 s, 4 s, 8 s … at most `MAX_DELAY` after each
//!   failure before trying that name again. Other addresses are not affected, so an attacker
//!   cannot lock the administrator out of their own desk.
//! - **per account, all addresses** (a guess spread over many addresses): past
//!   `ACCOUNT_FREE_FAILURES` failures the name waits the same growing delay, again never more
//!   than `MAX_DELAY` after the latest failure: the real user with the right password is kept out
//!   for at most a minute by someone else's failures.
//!
//! Kept in memory per hub process: a restart forgets it, and with several processes each counts
//! its own attempts (the limits per process still stop guessing at speed).

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const ADDRESS_BURST: u32 = 10;
pub const ADDRESS_PERIOD: Duration = Duration::from_secs(6);
pub const FREE_FAILURES: u32 = 3;
pub const ACCOUNT_FREE_FAILURES: u32 = 20;
pub const MAX_DELAY: Duration = Duration::from_secs(60);
/// A failure older than this is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// Why an attempt is refused, and how long until the next one may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub Duration);

impl Wait {
    /// Whole seconds, at least one, for the message.
    pub fn secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

pub struct LoginLimit {
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    by_account_address: Mutex<HashMap<(String, IpAddr), Failures>>,
    by_account: Mutex<HashMap<String, Failures>>,
}

impl Default for LoginLimit {
    fn default() -> Self {
        let per = ADDRESS_PERIOD;
        let quota = Quota::with_period(per)
            .unwrap_or_else(|| Quota::per_minute(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(ADDRESS_BURST).unwrap_or(NonZeroU32::MIN));
        LoginLimit {
            by_address: RateLimiter::keyed(quota),
            by_account_address: Mutex::default(),
            by_account: Mutex::default(),
        }
    }
}

fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// 2 s after the first failure past the free ones, doubling, at most `MAX_DELAY`.
fn delay_after(count: u32, free: u32) -> Duration {
    if count <= free {
        return Duration::ZERO;
    }
    let doublings = (count - free).min(16);
    Duration::from_secs(1u64 << doublings).min(MAX_DELAY)
}

fn remaining(f: Option<&Failures>, free: u32, now: Instant) -> Option<Duration> {
    let f = f?;
    let until = f.last + delay_after(f.count, free);
    (until > now).then(|| until - now)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LoginLimit {
    /// Whether `address` may try `username` now; an allowed attempt uses up one of the
    /// address's attempts.
    pub fn check(&self, username: &str, address: IpAddr, now: Instant) -> Result<(), Wait> {
        let name = key(username);
        let waits = [
            remaining(
                lock(&self.by_account_address).get(&(name.clone(), address)),
                FREE_FAILURES,
                now,
            ),
            remaining(
                lock(&self.by_account).get(&name),
                ACCOUNT_FREE_FAILURES,
                now,
            ),
        ];
        if let Some(w) = waits.into_iter().flatten().max() {
            return Err(Wait(w));
        }
        self.by_address
            .check_key(&address)
            .map_err(|not_until| Wait(not_until.wait_time_from(DefaultClock::default().now())))
    }

    pub fn failed(&self, username: &str, address: IpAddr, now: Instant) {
        let name = key(username);
        let bump = |f: &mut Failures| {
            f.count = f.count.saturating_add(1);
            f.last = now;
        };
        let fresh = Failures {
            count: 0,
            last: now,
        };
        {
            let mut map = lock(&self.by_account_address);
            // Forget old failures, so guessing many names cannot grow the maps forever.
            map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
            bump(map.entry((name.clone(), address)).or_insert(fresh));
        }
        let mut map = lock(&self.by_account);
        map.retain(|_, f| now.duration_since(f.last) < FORGET_AFTER);
        bump(map.entry(name).or_insert(fresh));
        self.by_address.retain_recent();
    }

    /// The right password from this address: its own failures for the name are forgotten.
    /// Failures from other addresses still count toward the account's delay.
    pub fn succeeded(&self, username: &str, address: IpAddr) {
        let name = key(username);
        lock(&self.by_account_address).remove(&(name.clone(), address));
        let mut map = lock(&self.by_account);
        if let Some(f) = map.get_mut(&name) {
            f.count = f.count.min(ACCOUNT_FREE_FAILURES);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));
    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    #[test]
    fn delays_grow_after_the_free_failures_and_stop_at_a_minute() {
        assert_eq!(delay_after(FREE_FAILURES, FREE_FAILURES), Duration::ZERO);
        assert_eq!(
            delay_after(FREE_FAILURES + 1, FREE_FAILURES),
            Duration::from_secs(2)
        );
        assert_eq!(
            delay_after(FREE_FAILURES + 2, FREE_FAILURES),
            Duration::from_secs(4)
        );
        assert_eq!(delay_after(1000, FREE_FAILURES), MAX_DELAY);
    }

    #[test]
    fn one_address_guessing_a_thousand_times_a_minute_gets_about_ten_tries() {
        let l = LoginLimit::default();
        let t0 = Instant::now();
        let mut tried = 0;
        for i in 0..1000 {
            // Many names, so the per-account delays do not apply: only the address limit does.
            let name = format!("user{i}");
            if l.check(&name, ATTACKER, t0).is_ok() {
                tried += 1;
                l.failed(&name, ATTACKER, t0);
            }
        }
        assert_eq!(tried, ADDRESS_BURST);
        // Another address is not affected.
        assert!(l.check("yamada", HOME, t0).is_ok());
    }

    #[test]
    fn someone_else_s_failures_keep_the_real_user_out_for_at_most_a_minute() {
        let l = LoginLimit::default();
        let t0 = Instant::now();
        // A guess from another address hardly matters to the real user.
        for _ in 0..FREE_FAILURES + 5 {
            l.failed("yamada", ATTACKER, t0);
        }
        assert!(l.check("Yamada ", ATTACKER, t0).is_err());
        assert!(l.check("yamada", HOME, t0).is_ok());
        // A guess spread over many addresses delays the name everywhere, but never for more than
        // a minute after the latest failure.
        for i in 0..500u32 {
            let from = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            l.failed("yamada", from, t0);
        }
        let wait = l.check("yamada", HOME, t0).unwrap_err();
        assert!(wait.0 <= MAX_DELAY, "{wait:?}");
        assert!(l.check("yamada", HOME, t0 + MAX_DELAY).is_ok());
    }

    #[test]
    fn the_right_password_forgets_this_address_s_failures() {
        let l = LoginLimit::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES + 1 {
            l.failed("yamada", HOME, t0);
        }
        assert_eq!(
            l.check("yamada", HOME, t0),
            Err(Wait(Duration::from_secs(2)))
        );
        l.succeeded("yamada", HOME);
        assert!(l.check("yamada", HOME, t0).is_ok());
    }
}
