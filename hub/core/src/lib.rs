//! Renkei Hub's core, between the store and the web layer: the plugin host, OAuth, the
//! services the API, UI and CLI call, the sync engine and the scheduler. Knows no connector by
//! name: everything connector-specific comes from the plugins' manifests.

pub mod accounts;
pub mod actions;
pub mod connections;
pub mod egress;
pub mod engine;
pub mod error;
pub mod files_root;
pub mod flows;
pub mod full_import;
pub mod inquiries;
pub mod memory;
pub mod metrics;
pub mod notify;
pub mod oauth;
pub mod plugins;
pub mod reads;
pub mod runner;
pub mod schedule;
pub mod scheduler;
pub mod user_map;
pub mod validate;

pub use error::{HubError, HubResult};

use hub_store::Store;
use plugins::PluginHost;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The hub's services over one store and one plugin host. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    /// The store, for core's services only: the web and the CLI go through `Hub`'s methods.
    pub(crate) store: Store,
    pub plugins: Arc<PluginHost>,
    oauth: Arc<oauth::OAuth>,
    pub metrics: Arc<metrics::Metrics>,
    /// How long a run's claim lasts without renewal before another runner may resume it.
    pub run_lease: std::time::Duration,
    pub notify: notify::NotifyConfig,
    /// Which addresses connections and webhooks may reach (`egress`).
    pub egress: egress::EgressPolicy,
    /// The folder that folder settings must stay inside (`files_root`).
    pub files_root: std::path::PathBuf,
    /// Per-connection call slots (the manifest's `max_concurrency`), shared by all runs.
    permits: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    /// Object lists reused by the schema check when flows are saved (see `connections`).
    objects_seen: Arc<Mutex<HashMap<String, connections::ListedObjects>>>,
}

impl Hub {
    pub fn new(store: Store, plugins: PluginHost) -> Self {
        Hub {
            store,
            plugins: Arc::new(plugins),
            oauth: Arc::default(),
            metrics: Arc::default(),
            run_lease: runner::DEFAULT_LEASE,
            notify: notify::NotifyConfig::default(),
            egress: egress::EgressPolicy::default(),
            files_root: files_root::DEFAULT_ROOT.into(),
            permits: Arc::default(),
            objects_seen: Arc::default(),
        }
    }

    /// Waits for a free call slot on a connection.
    pub async fn connection_permit(
        &self,
        connection_id: &str,
        max_concurrency: u32,
    ) -> Option<OwnedSemaphorePermit> {
        let sem = {
            let mut m = self.permits.lock().unwrap_or_else(|p| p.into_inner());
            m.entry(connection_id.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(max_concurrency.max(1) as usize)))
                .clone()
        };
        sem.acquire_owned().await.ok()
    }
}
