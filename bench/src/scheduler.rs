//! Fire lag of many flows on a one-minute schedule, and the hub's memory at idle.
//!
//! The serving hub runs with no runner (HUB_RUNNERS=0) so that what is measured is the
//! scheduler taking each occurrence (queued, or recorded as skipped because the previous run is
//! still queued): lag = the time the occurrence was recorded − its scheduled time.

use anyhow::{bail, Result};
use serde_json::json;
use sqlx::Row;
use std::time::{Duration, Instant};

use crate::report::ScenarioResult;
use crate::support::{machine, percentile, plugin_dir, Hub};

fn opt(opts: &[String], name: &str) -> Option<String> {
    opts.iter()
        .position(|o| o == name)
        .and_then(|i| opts.get(i + 1).cloned())
}

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let flows: usize = opt(opts, "--flows")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(10_000);
    let fires: i64 = opt(opts, "--fires")
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(3);
    let dir = tempfile::tempdir()?;
    let database = opt(opts, "--database")
        .unwrap_or_else(|| format!("sqlite://{}/hub.db", dir.path().display()));
    let plugins = plugin_dir(&["test-plugin-filestore"])?;
    let hub = Hub::start(&database, plugins.path(), &[("HUB_RUNNERS", "0")])?;
    std::thread::sleep(Duration::from_secs(3));
    let idle_empty = hub.rss_mib();

    let client = reqwest::blocking::Client::new();
    let post = |path: &str, body: &serde_json::Value| -> Result<serde_json::Value> {
        let r = client
            .post(format!("{}{}", hub.url, path))
            .bearer_auth(&hub.token)
            .json(body)
            .send()?;
        if !r.status().is_success() {
            bail!("POST {path}: {}", r.text()?);
        }
        Ok(r.json()?)
    };
    let mut conns = Vec::new();
    for name in ["src", "dst"] {
        let v = post(
            "/api/connections",
            &json!({"connector": "filestore", "name": name, "registration_number": "BENCH-0001", "phone": "03-0000-0000",
                    "settings": {"path": dir.path().join(name).display().to_string()}}),
        )?;
        conns.push(v["id"].as_str().unwrap_or_default().to_string());
    }
    let started = Instant::now();
    let threads = 8;
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (post, conns) = (&post, &conns);
                s.spawn(move || -> Result<()> {
                    for i in (t..flows).step_by(threads) {
                        post(
                            "/api/flows",
                            &json!({"name": format!("flow {i}"), "source": {"connection": conns[0], "object": "companies"},
                                    "target": {"connection": conns[1], "object": "companies"},
                                    "mapping": [{"from": "name", "to": "name"}],
                                    "schedule": {"cron": "* * * * *", "timezone": "Asia/Tokyo"}}),
                        )?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a flow-creating thread panicked"))??;
        }
        Ok(())
    })?;
    let create_secs = started.elapsed().as_secs_f64();
    let created_at = chrono::Utc::now().timestamp_millis();
    let first = (created_at / 60_000 + 1) * 60_000;
    let end = first + (fires - 1) * 60_000 + 20_000;
    let mut peak: f64 = 0.0;
    let mut idle_loaded = 0.0;
    eprintln!("{flows} flows created in {create_secs:.1} s; measuring {fires} minute fires…");
    loop {
        let now = chrono::Utc::now().timestamp_millis();
        if now >= end {
            break;
        }
        let rss = hub.rss_mib();
        peak = peak.max(rss);
        // Between fires (30–40 s after the first): the hub is idle with all flows loaded.
        if idle_loaded == 0.0 && now >= first + 35_000 {
            idle_loaded = rss;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    drop(hub);

    let rt = tokio::runtime::Runtime::new()?;
    let lags: Vec<i64> = rt.block_on(async {
        // The benchmark hub's HUB_MASTER_KEY (support::MASTER_KEY) is 0x22 repeated.
        let key: [u8; 32] = std::array::from_fn(|_| 0x22);
        let store = hub_store::Store::connect(&database, hub_store::Cipher::from_key(&key)).await?;
        // Only the measured minutes: flows created early fire during the creation too.
        let rows = sqlx::query("SELECT scheduled_for, queued_at FROM runs WHERE trigger = 'schedule' AND scheduled_for >= $1 AND scheduled_for <= $2")
            .bind(first)
            .bind(first + (fires - 1) * 60_000)
            .fetch_all(store.pool())
            .await?;
        let mut lags = Vec::new();
        for r in rows {
            let (s, q): (i64, i64) = (r.try_get("scheduled_for")?, r.try_get("queued_at")?);
            lags.push(q - s);
        }
        anyhow::Ok(lags)
    })?;
    let mut sorted = lags.clone();
    sorted.sort_unstable();
    let expected = flows as i64 * fires;
    let (p50, p99, max) = (
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or(0),
    );
    let engine = if database.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let json = json!({
        "scenario": "scheduler", "machine": machine(), "database": engine, "flows": flows, "fires": fires,
        "occurrences": sorted.len(), "expected_occurrences": expected,
        "fire_lag_ms": {"p50": p50, "p99": p99, "max": max},
        "rss_mib": {"idle_no_flows": idle_empty, "idle_with_flows": idle_loaded, "peak": peak},
        "flow_creation_seconds": create_secs,
    });
    let markdown = format!(
        "### Scheduler: {flows} flows every minute ({engine})\n\n\
         Command: `cargo build --release --workspace && cargo run --release -p bench -- scheduler --flows {flows} --fires {fires}`  \n\
         Machine: {}\n\n\
         | figure | value |\n| --- | --- |\n\
         | occurrences recorded / expected | {} / {expected} |\n\
         | fire lag p50 | {p50} ms |\n| fire lag p99 | {p99} ms |\n| fire lag max | {max} ms |\n\
         | hub RSS idle, no flows | {idle_empty:.1} MiB |\n| hub RSS idle, {flows} flows | {idle_loaded:.1} MiB |\n| hub RSS peak | {peak:.1} MiB |\n\
         | creating {flows} flows through the API (8 clients) | {create_secs:.1} s |\n\n\
         Counted: the occurrences of the {fires} minutes after the last flow was created. \
         Lag is the time an occurrence was recorded (queued, or skipped because the previous run was still queued) minus its \
         scheduled time; the hub ran with no runner so that only the scheduler is measured.\n",
        machine(),
        sorted.len()
    );
    Ok(ScenarioResult { markdown, json })
}
