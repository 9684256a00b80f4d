//! Full sync kintone 顧客管理 → Zoho 取引先 of N records through the serving hub, against the
//! sandbox with a set latency and the APIs' concurrency limits; then an idle incremental run.
//!
//! Minimum calls: kintone returns at most 500 records a call, Zoho takes at most 100 a write
//! call, so a copy of N records needs ceil(N/500) + ceil(N/100) calls. Floor of the wall time:
//! each side's minimum calls × latency ÷ the concurrency its API allows, added up.

use anyhow::{bail, Result};
use serde_json::{json, Value};

use crate::api::kintone_to_zoho_flow;
use crate::env::Env;
use crate::mem::{reset_peak, Sampler};
use crate::report::ScenarioResult;
use crate::sandbox::{Calls, KINTONE, ZOHO, ZOHO_ACCOUNTS};
use crate::support::{command, list, machine, num, short};

pub struct Limits {
    pub latency_ms: u64,
    pub kintone_concurrency: u64,
    pub zoho_concurrency: u64,
}

impl Limits {
    pub fn from(opts: &[String]) -> Result<Limits> {
        Ok(Limits {
            latency_ms: num(opts, "--latency-ms", 50)?,
            // kintone: 100 concurrent requests per domain; Zoho: 10 per org (Standard edition).
            kintone_concurrency: num(opts, "--kintone-concurrency", 100)?,
            zoho_concurrency: num(opts, "--zoho-concurrency", 10)?,
        })
    }

    pub fn apply(&self, env: &Env) -> Result<()> {
        env.sb.faults(
            KINTONE,
            json!({"latency_ms": self.latency_ms, "max_concurrency": self.kintone_concurrency}),
        )?;
        env.sb.faults(
            ZOHO,
            json!({"latency_ms": self.latency_ms, "max_concurrency": self.zoho_concurrency}),
        )
    }

    pub fn floor_secs(&self, kintone_calls: u64, zoho_calls: u64) -> f64 {
        let l = self.latency_ms as f64 / 1000.0;
        kintone_calls as f64 * l / self.kintone_concurrency.max(1) as f64
            + zoho_calls as f64 * l / self.zoho_concurrency.max(1) as f64
    }
}

/// One size's figures.
pub struct Measured {
    pub n: u64,
    pub kintone: Calls,
    pub zoho: Calls,
    pub accounts: Calls,
    pub min_kintone: u64,
    pub min_zoho: u64,
    pub seconds: f64,
    pub floor: f64,
    pub hub_mib: f64,
    pub worker_mib: f64,
    pub in_zoho: u64,
    pub idle: Option<(Calls, Calls, f64)>,
}

impl Measured {
    pub fn json(&self) -> Value {
        let total = self.kintone.total() + self.zoho.total();
        let min = self.min_kintone + self.min_zoho;
        json!({
            "records": self.n,
            "calls": {"kintone": self.kintone.by_route, "zoho_crm": self.zoho.by_route, "zoho_accounts": self.accounts.by_route,
                      "total": total, "minimum": {"kintone": self.min_kintone, "zoho_crm": self.min_zoho, "total": min},
                      "ratio": total as f64 / min.max(1) as f64},
            "wall_seconds": self.seconds, "floor_seconds": self.floor,
            "records_per_second": self.n as f64 / self.seconds.max(1e-9),
            "peak_rss_mib": {"hub": self.hub_mib, "worker": self.worker_mib},
            "zoho_accounts_after": self.in_zoho,
            "idle_run": self.idle.as_ref().map(|(k, z, s)| json!({"kintone": k.by_route, "zoho_crm": z.by_route, "seconds": s})),
        })
    }
}

/// Copies `n` records kintone → Zoho in a fresh environment and, with `idle`, runs again.
pub fn measure(n: usize, limits: &Limits, idle: bool) -> Result<Measured> {
    let env = Env::start(&[("HUB_RUNNERS", "1")])?;
    let n = env.fill_kintone(n)?;
    let flow = env
        .hub
        .create_flow(&kintone_to_zoho_flow(&env.kintone, &env.zoho))?;
    limits.apply(&env)?;
    env.sb.reset_stats()?;
    reset_peak(env.hub.pid());
    eprintln!("sync: {n} records kintone → Zoho…");
    let sampler = Sampler::start(env.hub.pid());
    let run = env.hub.run_flow(&flow)?;
    let peaks = sampler.finish();
    if !run.ok() || run.count("read") as u64 != n {
        bail!(
            "the full run did not copy {n} records: {} {} {}",
            run.status,
            run.counts,
            run.message
        );
    }
    let (kintone, zoho, accounts) = (
        env.sb.stats(KINTONE)?,
        env.sb.stats(ZOHO)?,
        env.sb.stats(ZOHO_ACCOUNTS)?,
    );
    let (min_kintone, min_zoho) = (n.div_ceil(500), n.div_ceil(100));
    let idle = if idle {
        env.sb.reset_stats()?;
        let r = env.hub.run_flow(&flow)?;
        if !r.ok() {
            bail!("the idle run failed: {} {}", r.status, r.message);
        }
        Some((env.sb.stats(KINTONE)?, env.sb.stats(ZOHO)?, r.seconds))
    } else {
        None
    };
    env.sb.faults_all(&json!({}))?;
    let in_zoho = env.sb.zoho_count("A", "Accounts")?;
    Ok(Measured {
        n,
        floor: limits.floor_secs(min_kintone, min_zoho),
        kintone,
        zoho,
        accounts,
        min_kintone,
        min_zoho,
        seconds: run.seconds,
        hub_mib: peaks.process_mib,
        worker_mib: peaks.worker_mib,
        in_zoho,
        idle,
    })
}

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let sizes = list(opts, "--sizes", &[10_000, 100_000])?;
    let limits = Limits::from(opts)?;
    let mut results = Vec::new();
    for &n in &sizes {
        results.push(measure(n, &limits, true)?);
    }
    let head: Vec<String> = results.iter().map(|m| short(m.n as usize)).collect();
    let row = |label: &str, f: &dyn Fn(&Measured) -> String| {
        format!(
            "| {label} | {} |\n",
            results.iter().map(f).collect::<Vec<_>>().join(" | ")
        )
    };
    let mut md = format!(
        "### Full sync kintone → Zoho, and an idle incremental run\n\n\
         Command: `{}`  \nMachine: {}  \n\
         Sandbox: {} ms added to every API request; at most {} concurrent requests to kintone, {} to Zoho CRM \
         (their documented limits; beyond them the emulator answers 429).\n\n\
         | figure | {} |\n| --- |{}\n",
        command("sync", opts),
        machine(),
        limits.latency_ms,
        limits.kintone_concurrency,
        limits.zoho_concurrency,
        head.join(" | "),
        " --- |".repeat(results.len()),
    );
    md += &row("records read from kintone", &|m| m.n.to_string());
    md += &row("kintone calls (minimum)", &|m| {
        format!("{} ({})", m.kintone.total(), m.min_kintone)
    });
    md += &row("Zoho CRM calls (minimum)", &|m| {
        format!("{} ({})", m.zoho.total(), m.min_zoho)
    });
    md += &row("Zoho token requests", &|m| m.accounts.total().to_string());
    md += &row("API calls ÷ minimum", &|m| {
        format!(
            "{:.3}",
            (m.kintone.total() + m.zoho.total()) as f64 / (m.min_kintone + m.min_zoho) as f64
        )
    });
    md += &row("wall time", &|m| format!("{:.1} s", m.seconds));
    md += &row("floor (min calls × latency ÷ concurrency)", &|m| {
        format!("{:.2} s", m.floor)
    });
    md += &row("wall ÷ floor", &|m| format!("{:.1}", m.seconds / m.floor));
    md += &row("one call at a time (calls × latency)", &|m| {
        format!(
            "{:.1} s",
            (m.kintone.total() + m.zoho.total()) as f64 * limits.latency_ms as f64 / 1000.0
        )
    });
    md += &row("records/s", &|m| format!("{:.0}", m.n as f64 / m.seconds));
    md += &row("peak RSS, hub (serve)", &|m| {
        format!("{:.1} MiB", m.hub_mib)
    });
    md += &row("peak RSS, plugin worker", &|m| {
        format!("{:.1} MiB", m.worker_mib)
    });
    md += &row("idle run: kintone calls", &|m| {
        m.idle
            .as_ref()
            .map(|(k, _, _)| format!("{} ({})", k.total(), k.describe()))
            .unwrap_or_default()
    });
    md += &row("idle run: Zoho CRM calls", &|m| {
        m.idle
            .as_ref()
            .map(|(_, z, _)| z.total().to_string())
            .unwrap_or_default()
    });
    md += &row("idle run: wall time", &|m| {
        m.idle
            .as_ref()
            .map(|(_, _, s)| format!("{s:.2} s"))
            .unwrap_or_default()
    });
    md += "\nCalls by endpoint (full run): ";
    md += &results
        .iter()
        .map(|m| {
            format!(
                "{}: kintone {}; Zoho {}",
                short(m.n as usize),
                m.kintone.describe(),
                m.zoho.describe()
            )
        })
        .collect::<Vec<_>>()
        .join(" — ");
    md += ".\n";
    let json = json!({"scenario": "sync", "machine": machine(), "command": command("sync", opts),
                      "latency_ms": limits.latency_ms, "kintone_concurrency": limits.kintone_concurrency,
                      "zoho_concurrency": limits.zoho_concurrency,
                      "sizes": results.iter().map(Measured::json).collect::<Vec<_>>()});
    Ok(ScenarioResult { markdown: md, json })
}
