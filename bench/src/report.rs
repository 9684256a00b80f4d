//! Reports: `target/bench/<scenario>.json` and `.md`, and BENCHMARKS.md between
//! `<!-- bench:<scenario> -->` and `<!-- /bench:<scenario> -->`.

use anyhow::{Context, Result};
use serde_json::Value;
use std::path::PathBuf;

pub struct ScenarioResult {
    pub markdown: String,
    pub json: Value,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn write(scenario: &str, r: &ScenarioResult) -> Result<()> {
    let out = repo_root().join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join(format!("{scenario}.json")),
        serde_json::to_string_pretty(&r.json)?,
    )?;
    std::fs::write(out.join(format!("{scenario}.md")), &r.markdown)?;
    let path = repo_root().join("BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let (open, close) = (
        format!("<!-- bench:{scenario} -->"),
        format!("<!-- /bench:{scenario} -->"),
    );
    let block = format!("{open}\n{}\n{close}", r.markdown.trim_end());
    let updated = match (doc.find(&open), doc.find(&close)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &doc[..a], block, &doc[b + close.len()..]),
        _ => format!("{}\n{}\n", doc.trim_end(), block),
    };
    std::fs::write(&path, updated).context("cannot update BENCHMARKS.md")?;
    println!("{}", r.markdown);
    println!("(written to target/bench/{scenario}.json and BENCHMARKS.md)");
    Ok(())
}
