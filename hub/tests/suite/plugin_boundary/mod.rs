//! The plugin boundary end to end: the real `hub` binary as worker, the test plugins built from
//! connector-sdk/test-plugins (`cargo build --workspace` builds them). A plugin that is broken,
//! panics, aborts, segfaults, hangs, eats memory or prints to stdout must fail only its own
//! load or call, with a reason a user can act on.

mod calls;
mod cli;
mod crashes;
mod discovery;

use connector_sdk::{Connection, Secret};
use hub_core::plugins::{HostConfig, PluginHost};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const HUB: &str = env!("CARGO_BIN_EXE_hub");

/// The file name of a test plugin's library, e.g. `libtest_plugin_good.so` for `good`.
pub fn lib_name(plugin: &str) -> String {
    format!(
        "{}test_plugin_{}.{}",
        std::env::consts::DLL_PREFIX,
        plugin.replace('-', "_"),
        std::env::consts::DLL_EXTENSION
    )
}

/// A test plugin's library as cargo built it (target/<profile>/, beside the hub binary).
pub fn library(plugin: &str) -> PathBuf {
    let profile = Path::new(HUB).parent().expect("target/<profile>");
    let path = profile.join(lib_name(plugin));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` first (the test plugins are built with the workspace)",
        path.display()
    );
    path
}

/// A plugin directory holding the named test plugins (linked, not copied).
pub fn plugin_dir(plugins: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for p in plugins {
        std::os::unix::fs::symlink(library(p), dir.path().join(lib_name(p))).expect("symlink");
    }
    dir
}

pub fn config(dir: &Path, call_timeout: Duration, memory_limit: Option<u64>) -> HostConfig {
    HostConfig {
        worker_exe: PathBuf::from(HUB),
        plugin_dirs: vec![dir.to_path_buf()],
        call_timeout,
        memory_limit,
    }
}

/// A host over a directory with only `good`, with this call timeout and memory limit.
pub async fn good_host(
    call_timeout: Duration,
    memory_limit: Option<u64>,
) -> (tempfile::TempDir, PluginHost) {
    let dir = plugin_dir(&["good"]);
    let host = PluginHost::discover(config(dir.path(), call_timeout, memory_limit)).await;
    assert_eq!(host.refused().len(), 0, "{:?}", host.refused());
    (dir, host)
}

/// A connection of `good`; `misbehave` makes its `read` misbehave.
pub fn conn(misbehave: Option<&str>) -> Connection {
    let mut c = Connection::default();
    c.settings.insert("tenant".into(), json!("boundary"));
    if let Some(m) = misbehave {
        c.settings.insert("misbehave".into(), json!(m));
    }
    c.credentials
        .insert("api_token".into(), Secret::new("t0ken-for-tests"));
    c
}

pub fn read_contacts() -> connector_sdk::protocol::Call {
    connector_sdk::protocol::Call::Read(connector_sdk::ReadRequest {
        options: Default::default(),
        object: "contacts".into(),
        ..Default::default()
    })
}

/// Whether a process still exists (a zombie counts as gone: it runs nothing).
pub fn process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // The state letter follows the parenthesised command name.
            s.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}
