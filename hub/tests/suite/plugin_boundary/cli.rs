//! `hub connectors`: what a user sees of discovery.

use serde_json::Value;
use std::process::Command;

use super::*;

#[test]
fn hub_connectors_lists_good_as_loaded_and_the_broken_ones_with_reasons() {
    let dir = plugin_dir(&["good", "bad-abi", "not-a-connector", "panics", "aborts"]);
    let out = Command::new(HUB)
        .args(["connectors", "--json", "--plugins"])
        .arg(dir.path())
        .env_remove("HUB_PLUGINS")
        .env_remove("HUB_CONFIG")
        .output()
        .expect("run hub connectors");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let loaded: Vec<&str> = v["loaded"]
        .as_array()
        .expect("loaded")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(loaded, ["good"]);
    assert_eq!(
        v["loaded"][0]["sdk_version"],
        connector_sdk::abi::SDK_VERSION
    );
    let refused = v["refused"].as_array().expect("refused");
    let reason_of = |plugin: &str| -> String {
        let file = dir.path().join(lib_name(plugin));
        refused
            .iter()
            .find(|r| r["file"] == file.display().to_string())
            .and_then(|r| r["reason"].as_str())
            .unwrap_or_else(|| panic!("{plugin} not refused: {refused:?}"))
            .to_string()
    };
    assert!(reason_of("bad-abi").contains("ABI version 999"));
    assert!(reason_of("not-a-connector").contains("not a Renkei Hub connector"));
    assert!(reason_of("panics").contains("manifest exploded on purpose"));
    assert!(reason_of("aborts").contains("signal 6"));

    // The table form says the same to a person.
    let out = Command::new(HUB)
        .args(["connectors", "--plugins"])
        .arg(dir.path())
        .output()
        .expect("run hub connectors");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("good") && text.contains("REFUSED"), "{text}");
    assert!(
        text.contains("crashed while loading: signal 6 (SIGABRT)"),
        "{text}"
    );
}

/// A fresh build started as the README says (no `--plugins`, no `HUB_PLUGINS`) loads the four
/// shipped connectors from beside the executable, and none of the test plugins cargo built
/// there too: nothing is refused, nothing is warned about.
#[test]
fn the_default_search_finds_only_the_shipped_connectors() {
    let out = Command::new(HUB)
        .args(["connectors", "--json"])
        .env_remove("HUB_PLUGINS")
        .env_remove("HUB_CONFIG")
        .output()
        .expect("run hub connectors");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut loaded: Vec<&str> = v["loaded"]
        .as_array()
        .expect("loaded")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    loaded.sort();
    assert_eq!(
        loaded,
        ["kintone", "notes", "obc", "zoho-crm"],
        "run `cargo build --workspace` first; loaded: {v}"
    );
    assert_eq!(v["refused"], serde_json::json!([]), "{v}");
    assert!(
        !stderr.contains("WARN") && !stderr.to_lowercase().contains("warn"),
        "{stderr}"
    );

    // The table says the same, without a REFUSED part.
    let out = Command::new(HUB)
        .arg("connectors")
        .env_remove("HUB_PLUGINS")
        .env_remove("HUB_CONFIG")
        .output()
        .expect("run hub connectors");
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("REFUSED"), "{text}");
    assert!(!stderr.to_lowercase().contains("warn"), "{stderr}");
    for id in ["kintone", "notes", "obc", "zoho-crm"] {
        assert!(text.contains(id), "{id} missing:\n{text}");
    }
}
