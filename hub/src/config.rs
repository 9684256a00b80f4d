//! Configuration: a TOML file (`HUB_CONFIG`), then environment variables, then flags, each
//! overriding the one before. A bad value names its key and what is expected.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE: &str = "sqlite://data/hub.db";

/// The keys a `HUB_CONFIG` file may hold (the same as the environment variables).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub plugins: Option<Vec<PathBuf>>,
    pub master_key: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub public_url: Option<String>,
    pub log_format: Option<String>,
    pub call_timeout_secs: Option<u64>,
    pub worker_memory_mb: Option<u64>,
    pub runners: Option<usize>,
    pub smtp_url: Option<String>,
    pub mail_from: Option<String>,
    pub support_email: Option<String>,
    pub support_webhook: Option<String>,
    pub inquiry_retry_secs: Option<u64>,
    pub shutdown_secs: Option<u64>,
    pub allow_link_local: Option<bool>,
    pub files_root: Option<PathBuf>,
    pub trust_proxy: Option<bool>,
}

/// Values given on the command line (all optional).
#[derive(Debug, Default, Clone)]
pub struct FlagConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub plugins: Vec<PathBuf>,
    pub log_format: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub plugin_dirs: Vec<PathBuf>,
    /// Those of `plugin_dirs` where only the shipped connectors' libraries are taken
    /// (`hub_core::plugins::CONNECTOR_LIBRARY_MARK`): the executable's own directory, searched
    /// by default, where cargo also builds the test plugins.
    pub marked_plugin_dirs: Vec<PathBuf>,
    pub master_key: Option<String>,
    pub master_key_file: PathBuf,
    /// How browsers reach the hub (OAuth redirect URIs are built from it).
    pub public_url: String,
    pub json_logs: bool,
    pub call_timeout: Duration,
    pub worker_memory: Option<u64>,
    pub runners: usize,
    /// A run's claim lasts this long without renewal (then another runner resumes it).
    pub run_lease: Duration,
    /// Outgoing mail for run notifications (`smtp://…`); contains a password, so kept secret.
    pub smtp_url: Option<connector_sdk::Secret>,
    pub mail_from: String,
    /// Where お問い合わせ are delivered: a mail address (`HUB_SUPPORT_EMAIL`) and/or an http(s)
    /// webhook (`HUB_SUPPORT_WEBHOOK`, may hold a token, so kept secret).
    pub support_email: Option<String>,
    pub support_webhook: Option<connector_sdk::Secret>,
    /// First retry of a failed inquiry delivery, doubled per attempt (`HUB_INQUIRY_RETRY_SECS`).
    pub inquiry_retry: Duration,
    /// How long `hub serve` may take to stop after Ctrl-C / SIGTERM (runs in flight are
    /// cancelled and recorded as interrupted) before it ends what is left.
    pub shutdown_timeout: Duration,
    /// Connection endpoints and webhooks may reach link-local / cloud-metadata addresses
    /// (`HUB_ALLOW_LINK_LOCAL=1`); refused by default (`hub_core::egress`).
    pub allow_link_local: bool,
    /// Folder settings (奉行's CSV watch folder) must stay inside this folder (`HUB_FILES_ROOT`).
    pub files_root: PathBuf,
    /// A reverse proxy in front sets `X-Forwarded-For` / `-Proto`, and only it can (`HUB_TRUST_PROXY`).
    pub trust_proxy: bool,
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

pub fn load(flags: &FlagConfig) -> Result<Config> {
    let file = match env("HUB_CONFIG") {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("HUB_CONFIG: cannot read {path}"))?;
            toml::from_str::<FileConfig>(&text)
                .map_err(|e| anyhow::anyhow!("HUB_CONFIG {path}: {}", e.to_string().trim()))?
        }
        None => FileConfig::default(),
    };
    let pick = |flag: &Option<String>,
                env_key: &str,
                file_val: &Option<String>|
     -> Option<(String, String)> {
        flag.clone()
            .map(|v| (v, "flag".to_string()))
            .or_else(|| env(env_key).map(|v| (v, env_key.to_string())))
            .or_else(|| file_val.clone().map(|v| (v, "config file".to_string())))
    };
    let (listen_raw, listen_src) = pick(&flags.listen, "HUB_LISTEN", &file.listen)
        .unwrap_or((DEFAULT_LISTEN.into(), "default".into()));
    let listen: SocketAddr = listen_raw.parse().with_context(|| {
        format!("listen ({listen_src}): '{listen_raw}' is not an address like 127.0.0.1:8080")
    })?;
    let (database_url, db_src) = pick(&flags.database_url, "HUB_DATABASE_URL", &file.database_url)
        .unwrap_or((DEFAULT_DATABASE.into(), "default".into()));
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        bail!("database_url ({db_src}): '{database_url}' must start with sqlite:// or postgres://");
    }
    let (plugin_dirs, marked_plugin_dirs) = if !flags.plugins.is_empty() {
        (flags.plugins.clone(), Vec::new())
    } else if let Some(p) = env("HUB_PLUGINS") {
        (std::env::split_paths(&p).collect(), Vec::new())
    } else if let Some(p) = &file.plugins {
        (p.clone(), Vec::new())
    } else {
        default_plugin_dirs()
    };
    let log_format = flags
        .log_format
        .clone()
        .or_else(|| env("HUB_LOG_FORMAT"))
        .or(file.log_format.clone())
        .unwrap_or_else(|| "human".into());
    let json_logs = match log_format.as_str() {
        "human" => false,
        "json" => true,
        other => bail!("log_format: '{other}' must be human or json"),
    };
    let master_key_file = env("HUB_MASTER_KEY_FILE")
        .map(PathBuf::from)
        .or(file.master_key_file)
        .unwrap_or_else(|| default_key_file(&database_url));
    let public_url = env("HUB_PUBLIC_URL")
        .or(file.public_url)
        .unwrap_or_else(|| format!("http://{}", local_name(listen)));
    let call_timeout = Duration::from_secs(
        env_num("HUB_CALL_TIMEOUT_SECS")?
            .or(file.call_timeout_secs)
            .unwrap_or(300),
    );
    let worker_memory = env_num("HUB_WORKER_MEMORY_MB")?
        .or(file.worker_memory_mb)
        .unwrap_or(2048);
    let runners = env_num("HUB_RUNNERS")?
        .map(|n| n as usize)
        .or(file.runners)
        .unwrap_or(2);
    let run_lease = Duration::from_secs(env_num("HUB_RUN_LEASE_SECS")?.unwrap_or(30).max(1));
    let shutdown_timeout = Duration::from_secs(
        env_num("HUB_SHUTDOWN_SECS")?
            .or(file.shutdown_secs)
            .unwrap_or(20)
            .max(1),
    );
    let smtp_url = env("HUB_SMTP_URL")
        .or(file.smtp_url)
        .map(connector_sdk::Secret::new);
    let mail_from = env("HUB_MAIL_FROM")
        .or(file.mail_from)
        .unwrap_or_else(|| "renkei-hub@localhost".into());
    let support_email = match env("HUB_SUPPORT_EMAIL").or(file.support_email) {
        Some(v) => Some(
            hub_core::validate::email("support_email", v.trim())
                .map_err(|e| anyhow::anyhow!("HUB_SUPPORT_EMAIL / {e}"))?,
        ),
        None => None,
    };
    let inquiry_retry = Duration::from_secs(
        env_num("HUB_INQUIRY_RETRY_SECS")?
            .or(file.inquiry_retry_secs)
            .unwrap_or(60)
            .max(1),
    );
    let trust_proxy = match env("HUB_TRUST_PROXY") {
        Some(v) => match v.trim() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            other => bail!("HUB_TRUST_PROXY: '{other}' must be 1 or 0"),
        },
        None => file.trust_proxy.unwrap_or(false),
    };
    let allow_link_local = match env("HUB_ALLOW_LINK_LOCAL") {
        Some(v) => match v.trim() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            other => bail!("HUB_ALLOW_LINK_LOCAL: '{other}' must be 1 or 0"),
        },
        None => file.allow_link_local.unwrap_or(false),
    };
    // An http(s) URL, not on a link-local / cloud-metadata address (as the flows' webhooks).
    let support_webhook = match env("HUB_SUPPORT_WEBHOOK").or(file.support_webhook) {
        Some(v) => {
            hub_core::validate::http_url(
                "support_webhook",
                v.trim(),
                hub_core::egress::EgressPolicy { allow_link_local },
            )
            .map_err(|e| anyhow::anyhow!("HUB_SUPPORT_WEBHOOK / {e}"))?;
            Some(connector_sdk::Secret::new(v.trim().to_string()))
        }
        None => None,
    };
    let files_root = env("HUB_FILES_ROOT")
        .map(PathBuf::from)
        .or(file.files_root)
        .unwrap_or_else(|| PathBuf::from(hub_core::files_root::DEFAULT_ROOT));
    // Relative to where the hub was started, fixed now: workers run elsewhere.
    let files_root = if files_root.is_absolute() {
        files_root
    } else {
        std::env::current_dir()
            .context("cannot read the current folder to place files_root")?
            .join(files_root)
    };
    Ok(Config {
        files_root,
        shutdown_timeout,
        allow_link_local,
        trust_proxy,
        smtp_url,
        mail_from,
        support_email,
        support_webhook,
        inquiry_retry,
        run_lease,
        listen,
        database_url,
        plugin_dirs,
        marked_plugin_dirs,
        master_key: env("HUB_MASTER_KEY").or(file.master_key),
        master_key_file,
        public_url: public_url.trim_end_matches('/').to_string(),
        json_logs,
        call_timeout,
        worker_memory: (worker_memory > 0).then_some(worker_memory * 1024 * 1024),
        runners,
    })
}

fn env_num(key: &str) -> Result<Option<u64>> {
    env(key)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .with_context(|| format!("{key}: '{v}' must be a whole number"))
        })
        .transpose()
}

/// Loopback addresses are shown as `localhost`, which OAuth providers accept for http.
fn local_name(addr: SocketAddr) -> String {
    if addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    }
}

/// The connectors built beside the `hub` executable (`target/<profile>/`: only the shipped
/// connectors' libraries, not the test plugins cargo builds there too), and everything in
/// `plugins/` there. Answers the directories and those of them that are marked.
pub fn default_plugin_dirs() -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut dirs = Vec::new();
    let mut marked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        let sub = dir.join("plugins");
        marked.push(dir.clone());
        dirs.push(dir);
        if sub.is_dir() {
            dirs.push(sub);
        }
    }
    (dirs, marked)
}

/// The key file sits in the data folder.
fn default_key_file(database_url: &str) -> PathBuf {
    data_folder(database_url).join("master.key")
}

/// The hub's data folder: the one of a SQLite database, else `data/`. It holds the key file
/// and the data of `hub serve --sandbox` (`sandbox/`).
pub fn data_folder(database_url: &str) -> PathBuf {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"));
    match path
        .map(|p| p.split('?').next().unwrap_or(p))
        .and_then(|p| Path::new(p).parent())
    {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("data"),
    }
}
