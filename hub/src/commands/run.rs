use anyhow::{bail, Result};
use hub_core::runner::Runner;
use hub_core::HubError;
use hub_domain::{RunStatus, Trigger};
use hub_messages::Message;
use std::process::ExitCode;

use crate::config::Config;

/// Runs one flow in this process and prints the summary; exit 1 unless it succeeded. A run of
/// the flow left behind by a process that died (its lease expired) is resumed instead.
pub async fn run(cfg: &Config, flow_id: &str) -> Result<ExitCode> {
    let hub = super::hub(cfg).await?;
    let owner = format!("cli:{}", std::process::id());
    let runner = Runner::new(hub.clone(), owner);
    hub.requeue_expired_runs().await?;
    let run_id = match hub.run_flow_now(flow_id, Trigger::Manual).await {
        Ok(id) => id,
        Err(HubError::Conflict {
            code: "already_running",
            message,
        }) => match hub.active_run(flow_id).await? {
            Some(r) if r.status == RunStatus::Queued => {
                println!(
                    "resuming run {} ({})",
                    r.id,
                    r.message
                        .as_deref()
                        .map(Message::stored_both)
                        .unwrap_or_else(|| "queued".into())
                );
                r.id
            }
            _ => bail!("{message}"),
        },
        Err(e) => bail!("{e}"),
    };
    if !runner.claim(&run_id).await? {
        bail!("run {run_id} was taken by a serving hub; follow it with GET /api/runs/{run_id}");
    }
    let run = hub.get_run(&run_id).await?;
    let report = runner.execute(&run).await;
    let c = report.counts;
    println!("run {run_id}: {}", report.status.as_str());
    let warned = match c.warnings {
        0 => String::new(),
        n => format!("  warnings {n}"),
    };
    println!(
        "  read {}  created {}  updated {}  unchanged {}  skipped {}  failed {}{warned}",
        c.read, c.created, c.updated, c.unchanged, c.skipped, c.failed
    );
    for w in report.warnings.iter().take(20) {
        println!(
            "  warning: record {} ({}): {} {}",
            w.record, w.side, w.code, w.message
        );
    }
    for e in report.errors.iter().take(20) {
        println!(
            "  error: record {} ({}): {} {}",
            e.record,
            e.side,
            e.code,
            Message::stored_both(&e.message)
        );
    }
    if report.errors.len() > 20 {
        println!(
            "  … {} more errors: GET /api/runs/{run_id}",
            report.errors.len() - 20
        );
    }
    if let Some(m) = &report.message {
        println!("  {}", Message::stored_both(m));
    }
    hub.close().await;
    Ok(if report.status == RunStatus::Success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
