//! The subcommands' bodies.

pub mod admin;
pub mod agent;
pub mod connectors;
pub mod key;
pub mod run;
pub mod sandbox;
#[cfg(feature = "sandbox")]
pub mod sandbox_presets;
pub mod serve;
pub mod token;

use anyhow::{Context, Result};
use hub_core::plugins::{HostConfig, PluginHost};
use hub_store::key_check::KeySource;
use hub_store::Store;

use crate::config::Config;

pub fn key_source(cfg: &Config) -> KeySource {
    KeySource {
        env_key: cfg.master_key.clone(),
        key_file: cfg.master_key_file.clone(),
    }
}

/// The database with its master key checked (a key file is created only for a new database).
pub async fn open_store(cfg: &Config) -> Result<Store> {
    Store::open_with_key(&cfg.database_url, &key_source(cfg))
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&cfg.database_url)))
}

fn host_config(cfg: &Config) -> Result<HostConfig> {
    let worker_exe =
        std::env::current_exe().context("cannot find the hub executable to start workers")?;
    Ok(HostConfig {
        worker_exe,
        plugin_dirs: cfg.plugin_dirs.clone(),
        call_timeout: cfg.call_timeout,
        memory_limit: cfg.worker_memory,
    })
}

pub async fn discover_plugins(cfg: &Config) -> Result<PluginHost> {
    Ok(PluginHost::discover_marked(host_config(cfg)?, &cfg.marked_plugin_dirs).await)
}

/// The hub's services without connector plugins, for `hub admin` and `hub token`: accounts and
/// API tokens need no connector, and nothing is probed.
pub async fn accounts_hub(cfg: &Config) -> Result<hub_core::Hub> {
    let store = open_store(cfg).await?;
    Ok(hub_core::Hub::new(
        store,
        PluginHost::without_plugins(host_config(cfg)?),
    ))
}

/// The hub's services, configured.
pub async fn hub(cfg: &Config) -> Result<hub_core::Hub> {
    let store = open_store(cfg).await?;
    let mut hub = hub_core::Hub::new(store, discover_plugins(cfg).await?);
    hub.run_lease = cfg.run_lease;
    hub.egress = hub_core::egress::EgressPolicy {
        allow_link_local: cfg.allow_link_local,
    };
    hub.files_root = cfg.files_root.clone();
    hub.notify = hub_core::notify::NotifyConfig {
        smtp_url: cfg.smtp_url.clone(),
        mail_from: cfg.mail_from.clone(),
        public_url: cfg.public_url.clone(),
        support_email: cfg.support_email.clone(),
        support_webhook: cfg.support_webhook.clone(),
        inquiry_retry: cfg.inquiry_retry,
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
