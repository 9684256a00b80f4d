//! Opens a fresh store on every engine available: a temporary SQLite file always, and a fresh
//! PostgreSQL database when HUB_TEST_POSTGRES_URL is set (otherwise says so and skips it).

use hub_store::{Cipher, Store};
use sqlx::Executor;

pub struct TestStore {
    pub name: &'static str,
    pub store: Store,
    pub sqlite_file: Option<std::path::PathBuf>,
    /// The fresh PostgreSQL database's URL.
    pub postgres_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn cipher() -> Cipher {
    Cipher::from_key(&[42u8; 32])
}

pub async fn stores() -> Vec<TestStore> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data/hub.db");
    let sqlite = Store::open(&format!("sqlite://{}", file.display()), cipher())
        .await
        .expect("open sqlite store");
    let mut out = vec![TestStore {
        name: "sqlite",
        store: sqlite,
        sqlite_file: Some(file),
        postgres_url: None,
        _dir: Some(dir),
    }];
    match std::env::var("HUB_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let (store, url) = fresh_postgres(&url).await;
            out.push(TestStore {
                name: "postgres",
                store,
                sqlite_file: None,
                postgres_url: Some(url),
                _dir: None,
            })
        }
        _ => skipped("PostgreSQL store tests (HUB_TEST_POSTGRES_URL is not set)"),
    }
    out
}

/// A new empty database on the server, so tests never see each other's rows.
pub async fn fresh_postgres(admin_url: &str) -> (Store, String) {
    sqlx::any::install_default_drivers();
    let name = format!("hub_test_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::AnyPool::connect(admin_url).await.unwrap_or_else(|e| {
        panic!("HUB_TEST_POSTGRES_URL is set but the server is unreachable: {e}")
    });
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    admin.close().await;
    let (base, _) = admin_url
        .rsplit_once('/')
        .expect("postgres URL with a database name");
    let url = format!("{base}/{name}");
    let store = Store::open(&url, cipher())
        .await
        .expect("open postgres store");
    (store, url)
}

/// Says that a test's variant did not run, where a person sees it (the harness captures
/// `eprintln!` of passing tests, not the stderr handle) and in `HUB_TEST_SKIP_LOG` when set
/// (`.ci/run` fails when anything was skipped).
pub fn skipped(what: &str) {
    use std::io::Write;
    let line = format!("SKIPPED: {what}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(path) = std::env::var("HUB_TEST_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
