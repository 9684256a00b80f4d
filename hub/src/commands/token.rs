//! `hub token create NAME [--role admin|operator|read_only] [--expires Nd|Nh]`,
//! `hub token list [--json]` and `hub token revoke NAME_OR_ID`: the API tokens of `/api`.
//! Without `--role` a token is an admin one, as before roles existed (scripts keep working).

use anyhow::{anyhow, Result};
use hub_core::accounts::{parse_token_lifetime, Role};
use hub_domain::{now_ms, ApiTokenInfo, Millis};
use serde_json::json;
use std::process::ExitCode;

use crate::config::Config;

/// `--role`: the stored spelling, `read-only` also accepted.
pub fn parse_role(role: &str) -> Result<Role> {
    Role::parse(&role.trim().to_ascii_lowercase().replace('-', "_"))
        .ok_or_else(|| anyhow!("--role: '{role}' is not a role: give admin, operator or read_only"))
}

/// `--expires`: `Nd` or `Nh` from now.
pub fn parse_expires(expires: Option<&str>) -> Result<Option<Millis>> {
    match expires {
        None => Ok(None),
        Some(v) => parse_token_lifetime("--expires", v)
            .map(|ms| Some(now_ms() + ms))
            .map_err(|e| anyhow!("{e}")),
    }
}

/// Prints the new token (only its value, on one line: scripts read it).
pub async fn create(
    cfg: &Config,
    name: &str,
    role: &str,
    expires: Option<&str>,
) -> Result<ExitCode> {
    // Everything the user typed is checked before the database is opened.
    let name = hub_core::validate::text("NAME", name, hub_core::accounts::MAX_TOKEN_NAME_CHARS)
        .map_err(|e| anyhow!("{e}"))?;
    let role = parse_role(role)?;
    let expires_at = parse_expires(expires)?;
    let hub = super::accounts_hub(cfg).await?;
    let made = hub.create_api_token(&name, role, expires_at).await?;
    println!("{}", made.token);
    let until = expires_at.map_or("never expires".to_string(), |t| {
        format!("expires {}", time(Some(t)))
    });
    // A log line, so `--log-format json` keeps standard error all JSON.
    tracing::info!(
        id = %made.id,
        role = role.as_str(),
        "API token '{name}' created, {until}; it is shown only now"
    );
    Ok(ExitCode::SUCCESS)
}

/// RFC 3339 in Japan time, as the API answers times.
fn time(ms: Option<Millis>) -> String {
    web::views::ts(ms).as_str().unwrap_or_default().to_string()
}

fn state(t: &ApiTokenInfo, now: Millis) -> &'static str {
    if t.revoked_at.is_some() {
        "revoked"
    } else if t.is_active(now) {
        "active"
    } else {
        "expired"
    }
}

pub async fn list(cfg: &Config, as_json: bool) -> Result<ExitCode> {
    let hub = super::accounts_hub(cfg).await?;
    let tokens = hub.list_api_tokens().await?;
    let now = now_ms();
    if as_json {
        let v: Vec<_> = tokens
            .iter()
            .map(|t| {
                let opt = web::views::ts;
                json!({
                    "id": t.id, "name": t.name, "role": Role::from_stored(&t.role).as_str(),
                    "state": state(t, now), "created_at": time(Some(t.created_at)),
                    "last_used_at": opt(t.last_used_at), "expires_at": opt(t.expires_at),
                    "revoked_at": opt(t.revoked_at),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36}  {:<20} {:<9} {:<8} {:<29} LAST USED",
        "ID", "NAME", "ROLE", "STATE", "EXPIRES"
    );
    for t in &tokens {
        let expires = if t.expires_at.is_some() {
            time(t.expires_at)
        } else {
            "never".into()
        };
        let used = if t.last_used_at.is_some() {
            time(t.last_used_at)
        } else {
            "never".into()
        };
        println!(
            "{:<36}  {:<20} {:<9} {:<8} {:<29} {used}",
            t.id,
            t.name,
            Role::from_stored(&t.role).as_str(),
            state(t, now),
            expires
        );
    }
    if tokens.is_empty() {
        println!("(no API token: `hub token create NAME`)");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(cfg: &Config, name_or_id: &str) -> Result<ExitCode> {
    let hub = super::accounts_hub(cfg).await?;
    let started = now_ms();
    let t = hub.revoke_api_token(name_or_id.trim()).await?;
    if t.revoked_at.is_some_and(|at| at < started) {
        println!("API token '{}' ({}) was already revoked", t.name, t.id);
    } else {
        println!("API token '{}' ({}) revoked", t.name, t.id);
    }
    Ok(ExitCode::SUCCESS)
}
