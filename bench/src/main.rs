//! `bench`: measures the real hub (release build) and writes a Markdown + JSON report, and the
//! Markdown into BENCHMARKS.md between the scenario's markers.
//!
//! Scenarios: `scheduler` (fire lag of N flows on a one-minute schedule, idle memory).

mod report;
mod scheduler;
mod support;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(scenario) = args.first() else {
        bail!("usage: bench <scenario> [options]; scenarios: scheduler");
    };
    let opts = &args[1..];
    let result = match scenario.as_str() {
        "scheduler" => scheduler::run(opts)?,
        other => bail!("unknown scenario '{other}'; scenarios: scheduler"),
    };
    report::write(scenario, &result)?;
    Ok(())
}
