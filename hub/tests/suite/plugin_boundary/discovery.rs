//! Discovery: what loads, what is refused and why.

use hub_core::plugins::PluginHost;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use super::*;

#[tokio::test]
async fn good_loads_with_its_id_version_and_sdk_version() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    assert_eq!(host.loaded().len(), 1);
    let good = host.plugin("good").expect("good is loaded");
    assert_eq!(good.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(good.sdk_version, connector_sdk::abi::SDK_VERSION);
    assert!(good.file.ends_with(lib_name("good")), "{:?}", good.file);
    assert_eq!(good.manifest.name.en, "Test connector");
    assert_eq!(good.manifest.limits.read_page_size, 10);
}

#[tokio::test]
async fn broken_libraries_are_refused_each_with_its_reason() {
    let dir = plugin_dir(&["bad-abi", "not-a-connector", "panics", "aborts", "good"]);
    std::fs::write(dir.path().join("README.txt"), "not a library").unwrap();
    let host = PluginHost::discover(config(dir.path(), Duration::from_secs(10), None)).await;

    let ids: Vec<&str> = host.loaded().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["good"], "the hub keeps what loads");
    let reason = |plugin: &str| -> String {
        let file = dir.path().join(lib_name(plugin));
        let r = host
            .refused()
            .iter()
            .find(|r| r.file == file)
            .unwrap_or_else(|| panic!("{plugin} should be refused: {:?}", host.refused()));
        assert!(
            r.reason.contains(&file.display().to_string()),
            "the reason names the file: {}",
            r.reason
        );
        r.reason.clone()
    };
    let abi = reason("bad-abi");
    assert!(
        abi.contains("ABI version 999")
            && abi.contains(&format!("ABI version {}", connector_sdk::abi::ABI_VERSION)),
        "both ABI versions: {abi}"
    );
    assert!(
        reason("not-a-connector").contains("no symbol `renkei_abi_version`"),
        "{}",
        reason("not-a-connector")
    );
    assert!(
        reason("panics").contains("manifest exploded on purpose"),
        "{}",
        reason("panics")
    );
    assert!(
        reason("aborts").contains("crashed while loading: signal 6 (SIGABRT)"),
        "{}",
        reason("aborts")
    );
    assert_eq!(
        host.refused().len(),
        4,
        "README.txt is skipped: {:?}",
        host.refused()
    );
}

#[tokio::test]
async fn a_second_library_with_the_same_connector_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Two real files (a copy, not a link: the same file reached twice is simply one file).
    let first = dir.path().join(lib_name("good"));
    let second = dir.path().join("libzz_good_copy.so");
    std::fs::copy(library("good"), &first).unwrap();
    std::fs::copy(library("good"), &second).unwrap();
    std::os::unix::fs::symlink(&first, dir.path().join("libzz_link.so")).unwrap();
    let host = PluginHost::discover(config(dir.path(), Duration::from_secs(10), None)).await;
    assert_eq!(host.loaded().len(), 1);
    assert_eq!(host.loaded()[0].file, first, "first in name order wins");
    assert_eq!(host.refused().len(), 1, "{:?}", host.refused());
    let r = &host.refused()[0];
    assert_eq!(r.file, second);
    assert!(
        r.reason.contains("duplicate connector id `good`")
            && r.reason.contains(&first.display().to_string()),
        "{}",
        r.reason
    );
}

/// A stand-in worker executable: a shell script doing what a broken worker would.
fn fake_worker(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-worker.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn a_probe_that_hangs_or_dies_is_refused_and_discovery_goes_on() {
    let plugins = plugin_dir(&["good"]);
    let bin = tempfile::tempdir().unwrap();

    let mut cfg = config(plugins.path(), Duration::from_secs(10), None);
    cfg.worker_exe = fake_worker(bin.path(), "exec sleep 30");
    let started = std::time::Instant::now();
    let host =
        PluginHost::discover_with_load_timeout(cfg.clone(), Duration::from_millis(500)).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(host.loaded().is_empty());
    assert!(
        host.refused()[0]
            .reason
            .ends_with("timed out while loading after 500 ms"),
        "{}",
        host.refused()[0].reason
    );

    cfg.worker_exe = fake_worker(bin.path(), "echo 'dying now' >&2; kill -SEGV $$");
    let host = PluginHost::discover_with_load_timeout(cfg, Duration::from_secs(5)).await;
    let reason = &host.refused()[0].reason;
    assert!(
        reason.contains("crashed while loading: signal 11 (SIGSEGV) (dying now)"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_missing_plugin_directory_loads_nothing_and_refuses_nothing() {
    let host = PluginHost::discover(config(
        Path::new("/nonexistent/renkei/plugins"),
        Duration::from_secs(1),
        None,
    ))
    .await;
    assert!(host.loaded().is_empty() && host.refused().is_empty());
    let err = host.open("good").await.err().expect("not loaded");
    assert_eq!(err.kind, connector_sdk::ErrorKind::NotFound);
    assert!(
        err.message.contains("connector good is not loaded"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_library_replaced_after_discovery_is_refused_when_a_session_opens() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(lib_name("good"));
    std::fs::copy(library("good"), &file).unwrap();
    let host = PluginHost::discover(config(dir.path(), Duration::from_secs(10), None)).await;
    assert!(host.plugin("good").is_some());

    // Someone drops another build over the file while the hub runs (new inode, as installs do).
    std::fs::remove_file(&file).unwrap();
    std::fs::copy(library("bad-abi"), &file).unwrap();
    let err = host.open("good").await.err().expect("refused");
    assert_eq!(err.code, "load_failed");
    assert!(
        err.message
            .starts_with("connector good could not be loaded: ")
            && err.message.contains("ABI version 999"),
        "{}",
        err.message
    );

    std::fs::remove_file(&file).unwrap();
    std::fs::copy(library("filestore"), &file).unwrap();
    let err = host.open("good").await.err().expect("refused");
    assert!(
        err.message.contains("is now connector `filestore`"),
        "{}",
        err.message
    );
}
