//! The hub next to the official tools, on the same sandbox, latency and records:
//! cli-kintone `record export` vs the hub reading kintone, cli-kintone `record import` vs the hub
//! writing kintone, and the official Zoho CRM Node SDK inserting vs the hub inserting into Zoho.
//!
//! The hub's read is a preview (it reads the source through and writes nothing). Its writes take
//! their records from the file-store test connector and are timed end to end, from the request
//! to the run's end, reading that file included; the time a preview of the same flow takes to
//! read it is shown beside. Node packages: `bench/peers` (installed with `npm ci` when missing).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::env::Env;
use crate::report::ScenarioResult;
use crate::sandbox::{KINTONE, ZOHO, ZOHO_ACCOUNTS};
use crate::support::{command, machine, num, short};
use crate::sync::Limits;

/// The fields both sides move: kintone field codes and the file store's names.
const KINTONE_FIELDS: [&str; 4] = ["会社名", "電話番号", "住所", "顧客ランク"];
const STORE_FIELDS: [&str; 4] = ["name", "phone", "address", "rank"];

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

/// `npm ci` in bench/peers when its packages are missing.
fn ensure_node_packages() -> Result<PathBuf> {
    let dir = peers_dir();
    if !dir.join("node_modules/@kintone/cli").is_dir()
        || !dir.join("node_modules/@zohocrm/nodejs-sdk-8.0").is_dir()
    {
        eprintln!("peers: npm ci --prefix bench/peers…");
        let ok = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .context("npm is needed for the peer tools (Node.js 20+)")?
            .success();
        if !ok {
            bail!("npm ci --prefix bench/peers failed");
        }
    }
    Ok(dir)
}

fn node(dir: &Path) -> Command {
    let mut c = Command::new("node");
    c.current_dir(dir)
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy");
    c
}

/// Runs a command, answers its stdout and wall seconds; fails with its stderr.
fn timed(mut c: Command, what: &str) -> Result<(String, f64)> {
    let started = Instant::now();
    let out = c.output().with_context(|| format!("cannot start {what}"))?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{what} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((String::from_utf8_lossy(&out.stdout).to_string(), secs))
}

fn cli_kintone(env: &Env, dir: &Path, args: &[&str]) -> Command {
    let mut c = node(dir);
    c.arg(dir.join("node_modules/@kintone/cli/cli.js"))
        .args(args)
        .args(["--base-url", &env.sb.url(KINTONE)])
        .args(["--api-token", &env.sb.kintone_token()]);
    c
}

/// 顧客管理 with no records: the seed data back, then its 30 records deleted.
fn empty_app(env: &Env) -> Result<()> {
    env.sb.kintone_reset()?;
    let ids: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    env.sb.kintone_api(
        "DELETE",
        "/k/v1/records.json",
        Some(json!({"app": 1, "ids": ids})),
    )?;
    let left = env.sb.kintone_count()?;
    if left != 0 {
        bail!("顧客管理 still has {left} records after deleting the seed data");
    }
    Ok(())
}

fn mapping(from: &[&str], to: &[&str]) -> Value {
    Value::Array(
        from.iter()
            .zip(to)
            .map(|(f, t)| json!({"from": f, "to": t}))
            .collect(),
    )
}

struct Pair {
    name: &'static str,
    hub: f64,
    peer: f64,
    hub_calls: u64,
    peer_calls: u64,
    detail: String,
}

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let n: usize = num(opts, "--records", 10_000)?;
    let limits = Limits::from(opts)?;
    let dir = ensure_node_packages()?;
    let env = Env::start(&[("HUB_RUNNERS", "1")])?;
    let n = env.fill_kintone(n)?;
    let store = env.dir.path().join("store");
    let fs = env.hub.filestore_connection("bench file store", &store)?;
    let to_store = env.hub.create_flow(&json!({
        "name": "bench kintone → file store", "source": {"connection": env.kintone, "object": "1"},
        "target": {"connection": fs, "object": "companies"}, "mapping": mapping(&KINTONE_FIELDS, &STORE_FIELDS)}))?;
    let (read, csv) = read_kintone(&env, &dir, &limits, n, &to_store)?;
    let (write, to_zoho, source_secs) =
        write_kintone(&env, &dir, &limits, (n, &fs), &to_store, &csv)?;
    let (insert, sdk) = insert_zoho(&env, &dir, n, &to_zoho, source_secs)?;
    Ok(report(opts, n, &limits, &[read, write, insert], sdk))
}

/// Reading kintone: cli-kintone export vs the hub's read (a preview of the flow to the file
/// store); answers the pair and the exported CSV.
fn read_kintone(
    env: &Env,
    dir: &Path,
    limits: &Limits,
    n: u64,
    to_store: &str,
) -> Result<(Pair, PathBuf)> {
    // 1. Reading kintone: cli-kintone export vs the hub's read (a preview).
    limits.apply(env)?;
    env.sb.reset_stats()?;
    let csv = env.dir.path().join("export.csv");
    let (out, peer) = timed(
        cli_kintone(
            env,
            dir,
            &[
                "record",
                "export",
                "--app",
                "1",
                "--fields",
                &KINTONE_FIELDS.join(","),
            ],
        ),
        "cli-kintone record export",
    )?;
    std::fs::write(&csv, &out)?;
    let exported = out.lines().filter(|l| !l.is_empty()).count() as u64 - 1;
    let peer_calls = env.sb.stats(KINTONE)?.total();
    env.sb.reset_stats()?;
    let (plan, hub) = env.hub.preview(to_store)?;
    let hub_calls = env.sb.stats(KINTONE)?.total();
    let read = plan["counts"]["read"].as_u64().unwrap_or(0);
    if exported != n || read != n {
        bail!("kintone holds {n} records; cli-kintone exported {exported}, the hub read {read}: {plan}");
    }
    let pair = Pair {
        name: "read kintone: cli-kintone record export vs hub",
        hub,
        peer,
        hub_calls,
        peer_calls,
        detail: String::new(),
    };
    Ok((pair, csv))
}

/// Writing kintone into an empty app: cli-kintone import of the CSV vs the hub's run from the
/// file store (filled first, untimed); answers the pair, the flow file store → Zoho and how
/// long a preview takes to read the file store.
fn write_kintone(
    env: &Env,
    dir: &Path,
    limits: &Limits,
    (n, fs): (u64, &str),
    to_store: &str,
    csv: &Path,
) -> Result<(Pair, String, f64)> {
    // The file-store copy the hub's writes read from (no latency: setup, not measured).
    env.sb.faults_all(&json!({}))?;
    let copy = env.hub.run_flow(to_store)?;
    if !copy.ok() || copy.count("created") as u64 != n {
        bail!("copy to the file store: {} {}", copy.status, copy.counts);
    }
    let from_store = |target: &str, object: &str, fields: &[&str]| -> Result<String> {
        env.hub.create_flow(&json!({
            "name": format!("bench file store → {object}"), "source": {"connection": fs, "object": "companies"},
            "target": {"connection": target, "object": object}, "mapping": mapping(&STORE_FIELDS, fields)}))
    };
    let to_kintone = from_store(&env.kintone, "1", &KINTONE_FIELDS)?;
    let zoho_fields = ["Account_Name", "Phone", "Billing_Street", "Account_Number"];
    let to_zoho = from_store(&env.zoho, "Accounts", &zoho_fields)?;
    let (_, source_secs) = env.hub.preview(&to_zoho)?;

    // 2. Writing kintone into an empty app: cli-kintone import vs the hub (creates).
    empty_app(env)?;
    limits.apply(env)?;
    env.sb.reset_stats()?;
    let csv_path = csv.display().to_string();
    let (_, peer) = timed(
        cli_kintone(
            env,
            dir,
            &["record", "import", "--app", "1", "--file-path", &csv_path],
        ),
        "cli-kintone record import",
    )?;
    let peer_calls = env.sb.stats(KINTONE)?.total();
    let imported = env.sb.kintone_count()?;
    env.sb.faults_all(&json!({}))?;
    empty_app(env)?;
    limits.apply(env)?;
    env.sb.reset_stats()?;
    let r = env.hub.run_flow(&to_kintone)?;
    let hub_calls = env.sb.stats(KINTONE)?.total();
    let written = env.sb.kintone_count()?;
    if imported != n || written != n || !r.ok() {
        bail!(
            "{n} records: cli-kintone imported {imported}, the hub wrote {written} ({} {})",
            r.status,
            r.counts
        );
    }
    let pair = Pair {
        name: "write kintone: cli-kintone record import vs hub",
        hub: r.seconds,
        peer,
        hub_calls,
        peer_calls,
        detail: format!(
            "hub run {:.2} s end to end, reading the file store included (a preview reading it alone: {source_secs:.2} s)",
            r.seconds
        ),
    };
    Ok((pair, to_zoho, source_secs))
}

/// Inserting into Zoho: the official Node SDK (org B) vs the hub (org A), under the limits the
/// kintone write left set; answers the pair and what the SDK script printed.
fn insert_zoho(
    env: &Env,
    dir: &Path,
    n: u64,
    to_zoho: &str,
    source_secs: f64,
) -> Result<(Pair, Value)> {
    // 3. Inserting into Zoho: the official Node SDK (org B) vs the hub (org A).
    let input = env.dir.path().join("zoho-input.json");
    let records: Vec<Value> = env
        .sb
        .kintone_all(&KINTONE_FIELDS)?
        .into_iter()
        .map(|r| {
            json!({"Account_Name": r["会社名"], "Phone": r["電話番号"], "Billing_Street": r["住所"],
                   "Account_Number": r["顧客ランク"]})
        })
        .collect();
    std::fs::write(&input, serde_json::to_vec(&records)?)?;
    let org = env.sb.zoho_org(1);
    let before_b = env.sb.zoho_count("B", "Accounts")?;
    env.sb.reset_stats()?;
    let mut c = node(dir);
    c.arg("zoho-sdk-insert.mjs")
        .env("ZOHO_API", env.sb.url(ZOHO))
        .env(
            "ZOHO_TOKEN_URL",
            format!("{}/oauth/v2/token", env.sb.url(ZOHO_ACCOUNTS)),
        )
        .env("ZOHO_CLIENT_ID", org["client_id"].as_str().unwrap_or(""))
        .env(
            "ZOHO_CLIENT_SECRET",
            org["client_secret"].as_str().unwrap_or(""),
        )
        .env(
            "ZOHO_REFRESH_TOKEN",
            org["refresh_token"].as_str().unwrap_or(""),
        )
        .env("INPUT", &input)
        .env("WORK", env.dir.path().join("sdk"));
    let (out, peer) = timed(c, "the Zoho SDK insert")?;
    let sdk: Value = serde_json::from_str(out.lines().last().unwrap_or(""))
        .with_context(|| format!("the SDK script printed {out}"))?;
    let peer_calls = env.sb.stats(ZOHO)?.total();
    let sdk_added = env.sb.zoho_count("B", "Accounts")? - before_b;
    let before_a = env.sb.zoho_count("A", "Accounts")?;
    env.sb.reset_stats()?;
    let r = env.hub.run_flow(to_zoho)?;
    let hub_calls = env.sb.stats(ZOHO)?.total();
    let hub_added = env.sb.zoho_count("A", "Accounts")? - before_a;
    if sdk_added != n || hub_added != n || !r.ok() {
        bail!(
            "{n} records: the SDK added {sdk_added} ({sdk}), the hub {hub_added} ({} {})",
            r.status,
            r.counts
        );
    }
    let pair = Pair {
        name: "insert into Zoho: official Node SDK vs hub",
        hub: r.seconds,
        peer,
        hub_calls,
        peer_calls,
        detail: format!(
            "hub run {:.2} s end to end, reading the file store included (a preview reading it alone: {source_secs:.2} s); SDK insert loop {:.2} s of its {peer:.2} s",
            r.seconds,
            sdk["ms"].as_f64().unwrap_or(0.0) / 1000.0
        ),
    };
    Ok((pair, sdk))
}

fn report(opts: &[String], n: u64, limits: &Limits, pairs: &[Pair], sdk: Value) -> ScenarioResult {
    let mut md = format!(
        "### Peers: the official tools and the hub on the same sandbox and records\n\n\
         Command: `{}`  \nMachine: {}  \n\
         Records: {} customers of 顧客管理 ({} fields each); sandbox {} ms latency, concurrency {} (kintone) / {} (Zoho). \
         Peers: cli-kintone 1.19.2, @zohocrm/nodejs-sdk-8.0 2.0.0 (createRecords, 100 records a call, one call at a time as in its samples).\n\n\
         | pair | hub | peer | hub ÷ peer time | API calls hub / peer |\n| --- | --- | --- | --- | --- |\n",
        command("peers", opts),
        machine(),
        short(n as usize),
        KINTONE_FIELDS.len(),
        limits.latency_ms,
        limits.kintone_concurrency,
        limits.zoho_concurrency,
    );
    for p in pairs {
        md += &format!(
            "| {} | {:.2} s | {:.2} s | {:.2} | {} / {} |\n",
            p.name,
            p.hub,
            p.peer,
            p.hub / p.peer,
            p.hub_calls,
            p.peer_calls
        );
    }
    md += "\n";
    for p in pairs.iter().filter(|p| !p.detail.is_empty()) {
        md += &format!("- {}: {}.\n", p.name, p.detail);
    }
    md += "- Peer times are the tool's whole process (Node start, SDK initialisation, its metadata calls); hub times are from the API request to the run's end.\n";
    let json = json!({"scenario": "peers", "machine": machine(), "command": command("peers", opts), "records": n,
        "latency_ms": limits.latency_ms,
        "pairs": pairs.iter().map(|p| json!({"pair": p.name, "hub_seconds": p.hub, "peer_seconds": p.peer,
            "ratio": p.hub / p.peer, "hub_calls": p.hub_calls, "peer_calls": p.peer_calls, "detail": p.detail})).collect::<Vec<_>>(),
        "zoho_sdk": sdk});
    ScenarioResult { markdown: md, json }
}
