use anyhow::Result;
use serde_json::json;
use std::process::ExitCode;

use crate::config::Config;

pub async fn list(cfg: &Config, as_json: bool) -> Result<ExitCode> {
    let host = super::discover_plugins(cfg).await?;
    if as_json {
        let v = json!({
            "loaded": host.loaded().iter().map(|p| json!({"id": p.id, "version": p.version, "sdk_version": p.sdk_version, "file": p.file})).collect::<Vec<_>>(),
            "refused": host.refused(),
        });
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<12} {:<9} {:<5} FILE", "ID", "VERSION", "SDK");
    for p in host.loaded() {
        println!(
            "{:<12} {:<9} {:<5} {}",
            p.id,
            p.version,
            p.sdk_version,
            p.file.display()
        );
    }
    if host.loaded().is_empty() {
        println!("(no connector loaded from {:?})", cfg.plugin_dirs);
    }
    if !host.refused().is_empty() {
        println!("\nREFUSED");
        for r in host.refused() {
            println!("{}\n    {}", r.file.display(), r.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
