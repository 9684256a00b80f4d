//! Local emulators of the four external APIs, for the demo (`hub serve --sandbox`), the tests
//! and the benchmarks. Each emulator is written from ../shared/reference only and shares no code
//! with `connectors/*`, so a misreading of an API is not copied into both sides.
//!
//! Every emulator listens on its own loopback port, serves its API plus the `/_sandbox/*`
//! control endpoints of [`control`], and is seeded with Japanese sample data.

pub mod control;
pub mod cookies;
pub mod domino;
pub mod kintone;
pub mod obc;
pub mod persist;
pub mod zoho;

use serde::Serialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use control::{Control, FaultKind, Faults, Stats};

#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    /// Fixed ports: kintone = base, zoho_accounts = base+1, zoho_crm = base+2, domino = base+3,
    /// obc = base+4. `None` picks free ports, or with a `data_dir` those of the last start.
    pub port_base: Option<u16>,
    /// Keep each emulator's data in a JSON file here across restarts. `None` keeps it in memory.
    /// Without a `port_base`, the ports are remembered here too (`ports.json`) and taken again
    /// at the next start when free, so URLs saved elsewhere (the hub's sandbox connections)
    /// keep reaching the same emulator and its data.
    pub data_dir: Option<PathBuf>,
    /// Seed size multiplier for benchmarks: how many extra generated records per object.
    pub extra_records: usize,
}

/// Where each emulator listens. Host name `localhost`: the kintone client accepts plain http
/// only for that name.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxUrls {
    pub kintone: String,
    pub zoho_accounts: String,
    pub zoho_crm: String,
    pub domino: String,
    pub obc: String,
}

/// What an emulator module gets to build itself.
#[derive(Clone)]
pub struct EmulatorContext {
    pub urls: SandboxUrls,
    pub data_dir: Option<PathBuf>,
    pub extra_records: usize,
}

/// One emulator service: its router (API and `/_sandbox` routes), its control, and the
/// credentials of its seeded accounts for the JSON line.
pub struct Service {
    pub router: axum::Router,
    pub control: Arc<Control>,
}

pub struct RunningSandbox {
    pub urls: SandboxUrls,
    pub credentials: Value,
    pub controls: Vec<(&'static str, Arc<Control>)>,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningSandbox {
    /// The one JSON line `hub sandbox` prints (API.md).
    pub fn announcement(&self) -> Value {
        json!({
            "kintone": self.urls.kintone,
            "zoho_accounts": self.urls.zoho_accounts,
            "zoho_crm": self.urls.zoho_crm,
            "domino": self.urls.domino,
            "obc": self.urls.obc,
            "credentials": self.credentials,
        })
    }

    pub fn control(&self, name: &str) -> Option<&Arc<Control>> {
        self.controls
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c)
    }

    /// Stops every emulator (in-memory data is dropped; persisted data stays on disk).
    pub fn shutdown(self) {
        for t in self.tasks {
            t.abort();
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}; choose another --port-base or stop what uses it")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("sandbox data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
}

const NAMES: [&str; 5] = ["kintone", "zoho_accounts", "zoho_crm", "domino", "obc"];

async fn bind(port: u16) -> Result<TcpListener, SandboxError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpListener::bind(addr)
        .await
        .map_err(|source| SandboxError::Bind { addr, source })
}

/// The ports of the last start with a data directory (`ports.json`, emulator name → port).
mod ports {
    use std::collections::BTreeMap;
    use std::path::Path;

    const FILE: &str = "ports.json";

    pub fn load(dir: &Path) -> BTreeMap<String, u16> {
        std::fs::read(dir.join(FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(dir: &Path, ports: &BTreeMap<String, u16>) -> std::io::Result<()> {
        let tmp = dir.join("ports.json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(ports).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, dir.join(FILE))
    }
}

/// Binds every emulator on loopback and serves them until the returned handle is shut down.
pub async fn start(opts: SandboxOptions) -> Result<RunningSandbox, SandboxError> {
    if let Some(dir) = &opts.data_dir {
        std::fs::create_dir_all(dir).map_err(|source| SandboxError::DataDir {
            path: dir.clone(),
            source,
        })?;
    }
    let remember = opts.data_dir.as_ref().filter(|_| opts.port_base.is_none());
    let remembered = remember.map(|d| ports::load(d)).unwrap_or_default();
    let mut listeners = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let port = opts.port_base.map(|b| b + i as u16).unwrap_or(0);
        let last = remembered.get(*name).copied().filter(|p| *p != 0);
        let l = match last {
            Some(last) => match bind(last).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(emulator = name, port = last, error = %e, "the sandbox port of the last start is taken; listening on another");
                    bind(0).await?
                }
            },
            None => bind(port).await?,
        };
        listeners.push(l);
    }
    if let Some(dir) = remember {
        let now: std::collections::BTreeMap<String, u16> = NAMES
            .iter()
            .zip(&listeners)
            .filter_map(|(n, l)| Some((n.to_string(), l.local_addr().ok()?.port())))
            .collect();
        if now != remembered {
            if let Err(e) = ports::save(dir, &now) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remember the sandbox ports");
            }
        }
    }
    let url = |l: &TcpListener| -> String {
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        format!("http://localhost:{port}")
    };
    let urls = SandboxUrls {
        kintone: url(&listeners[0]),
        zoho_accounts: url(&listeners[1]),
        zoho_crm: url(&listeners[2]),
        domino: url(&listeners[3]),
        obc: url(&listeners[4]),
    };
    let ctx = EmulatorContext {
        urls: urls.clone(),
        data_dir: opts.data_dir.clone(),
        extra_records: opts.extra_records,
    };

    let kintone = kintone::build(&ctx);
    let zoho = zoho::build(&ctx);
    let domino = domino::build(&ctx);
    let obc = obc::build(&ctx);
    let credentials = json!({
        "kintone": kintone.credentials,
        "zoho": zoho.credentials,
        "domino": domino.credentials,
        "obc": obc.credentials,
    });
    let services = vec![
        kintone.service,
        zoho.accounts,
        zoho.crm,
        domino.service,
        obc.service,
    ];

    let mut controls = Vec::new();
    let mut tasks = Vec::new();
    for ((name, listener), svc) in NAMES.iter().zip(listeners).zip(services) {
        controls.push((*name, svc.control.clone()));
        let router = svc.router;
        tasks.push(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(emulator = name, error = %e, "sandbox emulator stopped");
            }
        }));
    }
    Ok(RunningSandbox {
        urls,
        credentials,
        controls,
        tasks,
    })
}

/// What `kintone::build`, `domino::build` and `obc::build` return.
pub struct Built {
    pub service: Service,
    pub credentials: Value,
}

/// What `zoho::build` returns: the accounts server and the CRM API, two ports.
pub struct BuiltZoho {
    pub accounts: Service,
    pub crm: Service,
    pub credentials: Value,
}
