use anyhow::{bail, Context, Result};
use hub_core::accounts::Role;
use std::io::BufRead;
use std::process::ExitCode;

use crate::config::Config;

/// `hub admin create NAME [--role admin|operator]`, the password on standard input.
pub async fn create(cfg: &Config, name: &str, role: &str) -> Result<ExitCode> {
    let role = match role {
        "admin" => Role::Admin,
        "operator" => Role::Operator,
        other => bail!("--role: '{other}' must be admin or operator"),
    };
    eprintln!("password for {name} (one line on standard input):");
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let hub = super::accounts_hub(cfg).await?;
    let id = hub
        .create_user(&web::ui::password_hasher(), name, password, role)
        .await?;
    hub.close().await;
    println!("user {name} created ({id})");
    Ok(ExitCode::SUCCESS)
}
