//! HTTP load on one URL: wrk (Debian's `wrk` package) when it is installed, else a small load
//! generator of our own (blocking clients on threads), so the scenario runs on any machine.

use anyhow::{bail, Result};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::percentile;

#[derive(Debug, Clone)]
pub struct Load {
    pub tool: &'static str,
    pub requests: u64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

pub fn wrk_available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| !o.stdout.is_empty() || !o.stderr.is_empty())
}

/// `connections` clients for `seconds` on `url` with the `Cookie` header.
pub fn run(url: &str, cookie: &str, connections: usize, seconds: u64) -> Result<Load> {
    if wrk_available() {
        wrk(url, cookie, connections, seconds)
    } else {
        own(url, cookie, connections, seconds)
    }
}

/// wrk's latency figure ("1.23ms", "456.00us", "1.02s") in milliseconds.
fn wrk_ms(s: &str) -> Option<f64> {
    let (num, mult) = if let Some(v) = s.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = s.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = s.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (s, 1.0)
    };
    num.parse::<f64>().ok().map(|v| v * mult)
}

fn wrk(url: &str, cookie: &str, connections: usize, seconds: u64) -> Result<Load> {
    let out = Command::new("wrk")
        .args(["-t", "2", "-c", &connections.to_string()])
        .args([
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "--timeout",
            "30s",
        ])
        .args(["-H", &format!("Cookie: {cookie}")])
        .arg(url)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        bail!("wrk {url}: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    let field = |prefix: &str| -> Option<String> {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l[prefix.len()..].split_whitespace().next())
            .map(str::to_string)
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let errors = field("Non-2xx or 3xx responses:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(Load {
        tool: "wrk",
        requests,
        per_second: field("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        p50_ms: field("50%").and_then(|v| wrk_ms(&v)).unwrap_or(0.0),
        p99_ms: field("99%").and_then(|v| wrk_ms(&v)).unwrap_or(0.0),
        errors,
    })
}

fn own(url: &str, cookie: &str, connections: usize, seconds: u64) -> Result<Load> {
    let end = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let results: Vec<(Vec<i64>, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    let (mut lat, mut errors) = (Vec::new(), 0u64);
                    while Instant::now() < end {
                        let t = Instant::now();
                        let ok = client
                            .get(url)
                            .header("Cookie", cookie)
                            .send()
                            .and_then(|r| {
                                let ok = r.status().is_success();
                                r.bytes().map(|_| ok)
                            })
                            .unwrap_or(false);
                        lat.push(t.elapsed().as_micros() as i64);
                        errors += u64::from(!ok);
                    }
                    (lat, errors)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut all: Vec<i64> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    all.sort_unstable();
    let secs = started.elapsed().as_secs_f64();
    Ok(Load {
        tool: "bench's own load generator (wrk not installed)",
        requests: all.len() as u64,
        per_second: all.len() as f64 / secs,
        p50_ms: percentile(&all, 0.5) as f64 / 1000.0,
        p99_ms: percentile(&all, 0.99) as f64 / 1000.0,
        errors: results.iter().map(|(_, e)| e).sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::wrk_ms;

    #[test]
    fn wrk_latencies_read_in_milliseconds() {
        assert_eq!(wrk_ms("456.00us"), Some(0.456));
        assert_eq!(wrk_ms("1.50ms"), Some(1.5));
        assert_eq!(wrk_ms("1.02s"), Some(1020.0));
        assert_eq!(wrk_ms("x"), None);
    }
}
