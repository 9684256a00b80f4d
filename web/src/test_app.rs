//! The web layer in-process for tests: the real router over a fresh SQLite store and no
//! plugins, and signed-in sessions made directly in the store (no slow password hashing).

use axum::Router;
use hub_core::plugins::{HostConfig, PluginHost};
use hub_core::Hub;
use hub_store::{Cipher, Store};
use std::sync::Arc;
use std::time::Duration;

use crate::edge::EdgeConfig;
use crate::AppState;

pub(crate) struct TestApp {
    pub app: Router,
    pub store: Store,
    pub hub: Hub,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn start() -> TestApp {
        TestApp::with_edge(EdgeConfig::default()).await
    }

    pub async fn with_edge(edge: EdgeConfig) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/hub.db", dir.path().display());
        let store = Store::open(&url, Cipher::from_key(&[9u8; 32]))
            .await
            .unwrap();
        let plugins = PluginHost::discover(HostConfig {
            worker_exe: "/bin/false".into(),
            plugin_dirs: vec![],
            call_timeout: Duration::from_secs(5),
            memory_limit: None,
        })
        .await;
        let hub = Hub::new(store.clone(), plugins);
        let app = crate::router(AppState {
            hub: hub.clone(),
            runs_queued: Arc::default(),
            login_limit: Arc::default(),
            edge,
        });
        TestApp {
            app,
            store,
            hub,
            _dir: dir,
        }
    }
}

/// A signed-in session (cookie value, CSRF token) for a new user with `role`.
pub(crate) async fn session_for(store: &Store, name: &str, role: &str) -> (String, String) {
    let id = store
        .insert_user(name, "$argon2id$unused", role)
        .await
        .unwrap();
    let (sid, s) = store.create_session(Some(&id), 60_000).await.unwrap();
    (sid, s.csrf_token)
}
