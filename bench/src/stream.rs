//! A million records streamed kintone → Zoho through the serving hub: the hub reads a page,
//! writes it and forgets it, so its memory should not follow N. No added latency (the figure is
//! memory, and a million records at 50 ms a call would take hours one call at a time).

use anyhow::Result;
use serde_json::json;

use crate::report::ScenarioResult;
use crate::support::{command, machine, num, short};
use crate::sync::{measure, Limits};

pub fn run(opts: &[String]) -> Result<ScenarioResult> {
    let n: usize = num(opts, "--records", 1_000_000)?;
    let limits = Limits {
        latency_ms: num(opts, "--latency-ms", 0)?,
        kintone_concurrency: 100,
        zoho_concurrency: 10,
    };
    let m = measure(n, &limits, false)?;
    let ratio = (m.kintone.total() + m.zoho.total()) as f64 / (m.min_kintone + m.min_zoho) as f64;
    let md = format!(
        "### {} records streamed kintone → Zoho\n\n\
         Command: `{}`  \nMachine: {}  \nSandbox: {} ms latency.\n\n\
         | figure | value |\n| --- | --- |\n\
         | records copied (accounts in Zoho after) | {} ({}) |\n\
         | peak RSS, hub (serve) | {:.1} MiB |\n| peak RSS, plugin worker | {:.1} MiB |\n\
         | wall time | {:.0} s |\n| records/s | {:.0} |\n\
         | API calls ÷ minimum | {ratio:.3} ({} kintone + {} Zoho; minimum {} + {}) |\n",
        short(m.n as usize),
        command("stream", opts),
        machine(),
        limits.latency_ms,
        m.n,
        m.in_zoho,
        m.hub_mib,
        m.worker_mib,
        m.seconds,
        m.n as f64 / m.seconds,
        m.kintone.total(),
        m.zoho.total(),
        m.min_kintone,
        m.min_zoho,
    );
    let json = json!({"scenario": "stream", "machine": machine(), "command": command("stream", opts), "result": m.json()});
    Ok(ScenarioResult { markdown: md, json })
}
