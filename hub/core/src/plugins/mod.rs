//! The plugin host: discovers connector libraries and runs every call in a `hub worker` child
//! process, so a connector that panics, aborts, segfaults, hangs or eats memory fails only its
//! own call or run.
//!
//! - [`discovery`]: find the libraries, probe each in `hub worker --probe FILE`;
//! - [`session`]: a `hub worker --plugin FILE` child per session, crash and time-out reports;
//! - [`wire`]: the length-prefixed JSON frames on the worker's pipes;
//! - [`worker`]: the child's side, the only code that loads a plugin.

mod discovery;
mod process;
mod session;
pub mod wire;
pub mod worker;

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{Connection, ConnectorError, ErrorKind, Manifest};
use hub_messages::Message;
use std::path::PathBuf;
use std::time::Duration;

pub use session::PluginSession;

/// How long a library may take to load (in a probe, or when a session starts its worker).
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(20);

/// What a library's file name must contain to be taken from a *marked* directory (the default
/// search beside the `hub` executable, where cargo also builds the test plugins): the shipped
/// connector crates name their libraries `renkei_connector_<system>` (e.g.
/// `librenkei_connector_kintone.so`). Other directories are taken whole.
pub const CONNECTOR_LIBRARY_MARK: &str = "renkei_connector_";

#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The executable started as `EXE worker …` (normally the running `hub`).
    pub worker_exe: PathBuf,
    /// Directories scanned for plugin libraries (`*.so`, `*.dylib`, `*.dll`).
    pub plugin_dirs: Vec<PathBuf>,
    /// A call that takes longer is killed and reported as timed out.
    pub call_timeout: Duration,
    /// Address-space limit of a worker process, in bytes.
    pub memory_limit: Option<u64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginInfo {
    pub id: String,
    pub version: String,
    pub sdk_version: String,
    pub file: PathBuf,
    pub manifest: Manifest,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RefusedPlugin {
    pub file: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct PluginHost {
    config: HostConfig,
    loaded: Vec<PluginInfo>,
    refused: Vec<RefusedPlugin>,
    load_timeout: Duration,
}

impl PluginHost {
    /// Probes every library in the plugin directories, each in its own worker process.
    pub async fn discover(config: HostConfig) -> PluginHost {
        Self::discover_with_load_timeout(config, LOAD_TIMEOUT).await
    }

    /// [`discover`](Self::discover), but in the directories of `marked` only the libraries whose
    /// file name contains [`CONNECTOR_LIBRARY_MARK`] are probed; the others are not looked at.
    pub async fn discover_marked(config: HostConfig, marked: &[PathBuf]) -> PluginHost {
        let (loaded, refused) = discovery::discover(&config, LOAD_TIMEOUT, marked).await;
        PluginHost {
            config,
            loaded,
            refused,
            load_timeout: LOAD_TIMEOUT,
        }
    }

    /// A host that loads no plugin: for commands that only touch accounts and API tokens
    /// (`hub admin create`, `hub token`), so they start no worker.
    pub fn without_plugins(config: HostConfig) -> PluginHost {
        PluginHost {
            config,
            loaded: vec![],
            refused: vec![],
            load_timeout: LOAD_TIMEOUT,
        }
    }

    /// [`discover`](Self::discover) with another limit on how long a library may take to load.
    pub async fn discover_with_load_timeout(
        config: HostConfig,
        load_timeout: Duration,
    ) -> PluginHost {
        let (loaded, refused) = discovery::discover(&config, load_timeout, &[]).await;
        PluginHost {
            config,
            loaded,
            refused,
            load_timeout,
        }
    }

    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    pub fn loaded(&self) -> &[PluginInfo] {
        &self.loaded
    }

    pub fn refused(&self) -> &[RefusedPlugin] {
        &self.refused
    }

    pub fn plugin(&self, connector_id: &str) -> Option<&PluginInfo> {
        self.loaded.iter().find(|p| p.id == connector_id)
    }

    /// Starts a worker for one connector and waits until it has loaded the plugin; a session
    /// serves many calls (one run).
    pub async fn open(&self, connector_id: &str) -> Result<PluginSession, ConnectorError> {
        let Some(plugin) = self.plugin(connector_id) else {
            return Err(crate::error::worded(
                ErrorKind::NotFound,
                Message::new("host.not_loaded").with("id", connector_id),
            ));
        };
        PluginSession::start(session::WorkerSpec {
            connector_id: plugin.id.clone(),
            file: plugin.file.clone(),
            exe: self.config.worker_exe.clone(),
            call_timeout: self.config.call_timeout,
            load_timeout: self.load_timeout,
            memory_limit: self.config.memory_limit,
        })
        .await
    }

    /// One call in a fresh worker (manifest, check, objects from the API).
    pub async fn call_once(
        &self,
        connector_id: &str,
        conn: &Connection,
        call: Call,
    ) -> Result<Reply, ConnectorError> {
        let s = self.open(connector_id).await?;
        let result = s.call(conn, call).await;
        s.close().await;
        result
    }
}
