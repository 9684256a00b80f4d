//! One benchmark environment: the sandbox in its own process, a serving hub on a fresh SQLite
//! database with the kintone, Zoho CRM and file-store plugins, and a connection to kintone app 1
//! and to Zoho org A.

use anyhow::Result;

use crate::sandbox::Sandbox;
use crate::support::{plugin_dir, Hub};

pub struct Env {
    // Dropped in this order: the hub stops before the sandbox and the folders go.
    pub hub: Hub,
    pub sb: Sandbox,
    pub kintone: String,
    pub zoho: String,
    pub dir: tempfile::TempDir,
    _plugins: tempfile::TempDir,
}

pub const PLUGINS: [&str; 3] = [
    "connector-kintone",
    "connector-zoho-crm",
    "test-plugin-filestore",
];

impl Env {
    /// `envs` go to the serving hub (e.g. `HUB_RUNNERS`).
    pub fn start(envs: &[(&str, &str)]) -> Result<Env> {
        let sb = Sandbox::start()?;
        let dir = tempfile::tempdir()?;
        let plugins = plugin_dir(&PLUGINS)?;
        let database = format!("sqlite://{}/hub.db", dir.path().display());
        let hub = Hub::start(&database, plugins.path(), envs)?;
        let (kintone, zoho) = hub.sandbox_connections(&sb, 0)?;
        Ok(Env {
            hub,
            sb,
            kintone,
            zoho,
            dir,
            _plugins: plugins,
        })
    }

    /// Generates customers in 顧客管理 until it holds `n` records; answers the count.
    pub fn fill_kintone(&self, n: usize) -> Result<u64> {
        let have = self.sb.kintone_count()? as usize;
        if n > have {
            self.sb.kintone_generate(n - have)?;
        }
        self.sb.kintone_count()
    }
}
