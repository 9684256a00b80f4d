//! `bench`: measures the real hub (release build) against the sandbox emulators and writes a
//! Markdown + JSON report per scenario (`target/bench/`), and the Markdown into BENCHMARKS.md
//! between the scenario's markers.
//!
//! Scenarios: `sync` (full kintone → Zoho sync of 10k / 100k records against the API floor, and
//! an idle incremental run), `stream` (1M records, peak memory), `peers` (cli-kintone and the
//! Zoho SDK on the same sandbox), `scheduler` (fire lag of 10,000 flows, idle memory), `pages`
//! (web pages with 1M runs in the history), `reliability` (injected failures, SIGKILL, two-way
//! random edits), and `all`.

mod api;
mod env;
mod load;
mod mem;
mod pages;
mod peers;
mod reliability;
mod report;
mod sandbox;
mod scheduler;
mod stream;
mod support;
mod sync;
mod twoway;

use anyhow::{bail, Result};

const SCENARIOS: [&str; 6] = [
    "sync",
    "stream",
    "peers",
    "scheduler",
    "pages",
    "reliability",
];

fn run(scenario: &str, opts: &[String]) -> Result<()> {
    let result = match scenario {
        "sync" => sync::run(opts)?,
        "stream" => stream::run(opts)?,
        "peers" => peers::run(opts)?,
        "scheduler" => scheduler::run(opts)?,
        "pages" => pages::run(opts)?,
        "reliability" => reliability::run(opts)?,
        other => bail!(
            "unknown scenario '{other}'; scenarios: {}, all",
            SCENARIOS.join(", ")
        ),
    };
    report::write(scenario, &result)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first() else {
        bail!(
            "usage: bench <scenario> [options]; scenarios: {}, all",
            SCENARIOS.join(", ")
        );
    };
    if scenario == "all" {
        // Each scenario with its default sizes; one failing does not stop the others.
        let mut failed = Vec::new();
        for s in SCENARIOS {
            eprintln!("== bench {s}");
            if let Err(e) = run(s, &[]) {
                eprintln!("bench {s} failed: {e:#}");
                failed.push(s);
            }
        }
        if !failed.is_empty() {
            bail!("failed: {}", failed.join(", "));
        }
        return Ok(());
    }
    run(scenario, &args[1..])
}
