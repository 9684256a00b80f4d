//! Page latency of the web UI with a million runs in the history: the dashboard (`/`), the
//! history (`/runs`, and filtered to failures) and a flow's page, under load from wrk (or the
//! bench's own generator), signed in as an administrator.
//!
//! The runs are inserted straight into the SQLite store in one statement (a recursive CTE):
//! running a million flows through the engine would measure the engine, not the pages.

use anyhow::{bail, Context, Result};
use serde_json::json;
use sqlx::Row;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::load;
use crate::mem::{reset_peak, Sampler};
use crate::report::ScenarioResult;
use crate::support::{command, hub_exe, machine, num, plugin_dir, short, Hub, MASTER_KEY};

const USER: &str = "bench";
const PASSWORD: &str = "bench-password-1234";

fn insert_runs(database: &str, runs: u64) -> Result<u64> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let key: [u8; 32] = std::array::from_fn(|_| 0x22);
        let store = hub_store::Store::connect(database, hub_store::Cipher::from_key(&key)).await?;
        let now = chrono::Utc::now().timestamp_millis();
        // One run every 2.6 s going back in time (a million ≈ 30 days), spread over the flows;
        // 3% failed (with an error row), 5% partial, the rest successful.
        let sql = "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < ?1),
                 f AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, COUNT(*) OVER () AS n FROM flows)
            INSERT INTO runs (id, flow_id, trigger, status, queued_at, started_at, finished_at, scheduled_for,
                              count_read, count_created, count_updated, count_unchanged, count_failed, message)
            SELECT printf('00000000-0000-7000-8000-%012d', i), f.id,
                   CASE WHEN i % 10 = 0 THEN 'manual' ELSE 'schedule' END,
                   CASE WHEN i % 33 = 0 THEN 'failed' WHEN i % 20 = 0 THEN 'partial' ELSE 'success' END,
                   ?2 - i * 2600, ?2 - i * 2600 + 40, ?2 - i * 2600 + 1500 + (i % 7) * 100,
                   CASE WHEN i % 10 = 0 THEN NULL ELSE ?2 - i * 2600 END,
                   20 + i % 100, i % 5, i % 9, 20 + i % 100 - i % 5 - i % 9,
                   CASE WHEN i % 33 = 0 OR i % 20 = 0 THEN 1 ELSE 0 END,
                   CASE WHEN i % 33 = 0 THEN 'target: rate limited' ELSE NULL END
            FROM c JOIN f ON f.k = c.i % f.n";
        let done = sqlx::query(sql)
            .bind(runs as i64)
            .bind(now)
            .execute(store.pool())
            .await?
            .rows_affected();
        sqlx::query(
            "INSERT INTO run_errors (run_id, seq, record, side, code, message)
             SELECT id, 0, 'r' || (count_read), 'target', 'invalid_data', 'Phone: 電話番号の形式が正しくありません'
             FROM runs WHERE status IN ('failed', 'partial')",
        )
        .execute(store.pool())
        .await?;
        // Written around the store: its per-day rollup is rebuilt from the runs, as the
        // migration that introduced it did.
        store.rebuild_run_days().await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM runs")
            .fetch_one(store.pool())
            .await?
            .try_get("n")?;
        store.close().await;
        anyhow::Ok((done, total))
    })
    .map(|(_, total)| total as u64)
}

/// Signs in through the login form; answers the `Cookie` header value.
fn sign_in(hub: &Hub) -> Result<String> {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie_of = |r: &reqwest::blocking::Response| -> Option<String> {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("renkei_session="))
            .and_then(|v| v.split(';').next())
            .map(str::to_string)
    };
    let page = client.get(format!("{}/login", hub.url)).send()?;
    let anon = cookie_of(&page).context("the login page set no session cookie")?;
    let html = page.text()?;
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("no CSRF token on the login page")?;
    let r = client
        .post(format!("{}/login", hub.url))
        .header("Cookie", &anon)
        .form(&[
            ("_csrf", csrf),
            ("username", USER),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()?;
    if !r.status().is_redirection() {
        bail!("sign-in refused: {}", r.status());
    }
    cookie_of(&r).context("sign-in set no session cookie")
}

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let runs: u64 = num(opts, "--runs", 1_000_000)?;
    let flows: usize = num(opts, "--flows", 20)?;
    let seconds: u64 = num(opts, "--seconds", 10)?;
    let connections: usize = num(opts, "--connections", 4)?;
    let dir = tempfile::tempdir()?;
    let database = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["test-plugin-filestore"])?;
    let mut flow_ids = Vec::new();
    {
        let hub = Hub::start(&database, plugins.path(), &[("HUB_RUNNERS", "0")])?;
        let a = hub.filestore_connection("src", &dir.path().join("a"))?;
        let b = hub.filestore_connection("dst", &dir.path().join("b"))?;
        for i in 0..flows {
            flow_ids.push(hub.create_flow(&json!({"name": format!("会社 {i}"),
                "source": {"connection": a, "object": "companies"}, "target": {"connection": b, "object": "companies"},
                "mapping": [{"from": "name", "to": "name"}],
                "schedule": {"cron": "0 3 1 1 *", "timezone": "Asia/Tokyo"}}))?);
        }
    }
    let started = Instant::now();
    let total = insert_runs(&database, runs)?;
    let insert_secs = started.elapsed().as_secs_f64();
    eprintln!("pages: {total} runs in the history ({insert_secs:.1} s to insert)");
    let mut admin = Command::new(hub_exe()?)
        .args(["admin", "create", USER, "--database", &database])
        .env("HUB_MASTER_KEY", MASTER_KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    admin
        .stdin
        .take()
        .context("admin stdin")?
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    if !admin.wait()?.success() {
        bail!("hub admin create failed");
    }
    let hub = Hub::start(&database, plugins.path(), &[("HUB_RUNNERS", "0")])?;
    std::thread::sleep(Duration::from_secs(2));
    let idle_mib = hub.rss_mib();
    let cookie = sign_in(&hub)?;
    let pages = [
        ("dashboard", "/".to_string()),
        ("history", "/runs".to_string()),
        ("history, failed only", "/runs?status=failed".to_string()),
        ("flow page", format!("/flows/{}", flow_ids[0])),
    ];
    reset_peak(hub.pid());
    let sampler = Sampler::start(hub.pid());
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut rows = Vec::new();
    for (name, path) in &pages {
        let url = format!("{}{path}", hub.url);
        let t = Instant::now();
        let r = client.get(&url).header("Cookie", &cookie).send()?;
        let status = r.status();
        let body = r.text()?;
        let first_ms = t.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() || !body.contains("<html") {
            bail!("{path}: {status} (not the page; signed in?)");
        }
        let l = load::run(&url, &cookie, connections, seconds)?;
        eprintln!(
            "pages: {name}: p50 {:.1} ms, p99 {:.1} ms",
            l.p50_ms, l.p99_ms
        );
        rows.push((name.to_string(), path.clone(), first_ms, body.len(), l));
    }
    let peaks = sampler.finish();
    let tool = rows.first().map(|r| r.4.tool).unwrap_or("wrk");
    let mut md = format!(
        "### Web pages with {} runs in the history (SQLite)\n\n\
         Command: `{}`  \nMachine: {}  \n\
         Load: {tool}, {connections} connections for {seconds} s per page, signed in as an administrator; \
         {flows} flows, {total} runs inserted straight into the store ({insert_secs:.0} s).\n\n\
         | page | first request | p50 | p99 | requests/s | non-2xx | page size |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        short(runs as usize),
        command("pages", opts),
        machine(),
    );
    for (name, path, first, size, l) in &rows {
        md += &format!(
            "| {name} (`{path}`) | {first:.0} ms | {:.1} ms | {:.1} ms | {:.0} | {} | {:.0} KiB |\n",
            l.p50_ms,
            l.p99_ms,
            l.per_second,
            l.errors,
            *size as f64 / 1024.0
        );
    }
    md += &format!(
        "\nHub RSS: {idle_mib:.1} MiB idle after start, {:.1} MiB peak while serving the pages.\n",
        peaks.process_mib
    );
    let json = json!({"scenario": "pages", "machine": machine(), "command": command("pages", opts),
        "runs": total, "flows": flows, "tool": tool, "connections": connections, "seconds": seconds,
        "insert_seconds": insert_secs, "rss_mib": {"idle": idle_mib, "peak": peaks.process_mib},
        "pages": rows.iter().map(|(n, p, f, s, l)| json!({"page": n, "path": p, "first_ms": f, "bytes": s,
            "p50_ms": l.p50_ms, "p99_ms": l.p99_ms, "requests_per_second": l.per_second, "requests": l.requests,
            "non_2xx": l.errors})).collect::<Vec<_>>()});
    Ok(ScenarioResult { markdown: md, json })
}
