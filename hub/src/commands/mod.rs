//! The subcommands' bodies.

pub mod admin;
pub mod agent;
pub mod connectors;
pub mod run;
pub mod sandbox;
pub mod sandbox_presets;
pub mod serve;

use anyhow::{Context, Result};
use hub_core::plugins::{HostConfig, PluginHost};
use hub_store::{Cipher, Store};

use crate::config::Config;

pub async fn open_store(cfg: &Config) -> Result<Store> {
    let cipher = Cipher::load(cfg.master_key.as_deref(), &cfg.master_key_file)?;
    Store::open(&cfg.database_url, cipher)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&cfg.database_url)))
}

pub async fn discover_plugins(cfg: &Config) -> Result<PluginHost> {
    let worker_exe =
        std::env::current_exe().context("cannot find the hub executable to start workers")?;
    Ok(PluginHost::discover(HostConfig {
        worker_exe,
        plugin_dirs: cfg.plugin_dirs.clone(),
        call_timeout: cfg.call_timeout,
        memory_limit: cfg.worker_memory,
    })
    .await)
}

/// The hub's services, configured.
pub async fn hub(cfg: &Config) -> Result<hub_core::Hub> {
    let store = open_store(cfg).await?;
    let mut hub = hub_core::Hub::new(store, discover_plugins(cfg).await?);
    hub.run_lease = cfg.run_lease;
    hub.notify = hub_core::notify::NotifyConfig {
        smtp_url: cfg.smtp_url.clone(),
        mail_from: cfg.mail_from.clone(),
        public_url: cfg.public_url.clone(),
    };
    Ok(hub)
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}
