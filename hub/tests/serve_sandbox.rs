//! `hub serve --sandbox` (the README's first command): the emulators announce themselves in one
//! JSON line, every one of them answers, and each loaded connector's sandbox presets become
//! connections a new user can use at once (接続テスト succeeds).

mod support;

use serde_json::Value;
use support::{artifact_dir, TestHub};

#[test]
fn sandbox_is_announced_and_registered() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &[artifact_dir()],
        &[("HUB_RUNNERS", "0")],
    );
    let announcement = hub.announcement();
    for key in ["kintone", "zoho_accounts", "zoho_crm", "domino", "obc"] {
        let url = announcement[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} missing from {announcement}"));
        assert!(url.starts_with("http://localhost:"), "{key}: {url}");
        let r = reqwest::blocking::get(format!("{url}/_sandbox/stats")).unwrap();
        assert_eq!(r.status(), 200, "{key} does not answer");
    }
    assert!(announcement["credentials"].is_object());

    let (_, connectors) = hub.get("/api/connectors");
    let (_, connections) = hub.get("/api/connections");
    let connections = connections.as_array().unwrap().clone();
    for c in connectors.as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let mine: Vec<&Value> = connections
            .iter()
            .filter(|x| x["connector"] == id)
            .collect();
        eprintln!("{id}: {} sandbox connection(s)", mine.len());
        for conn in mine {
            let (s, check) = hub.post(
                &format!("/api/connections/{}/check", conn["id"].as_str().unwrap()),
                &serde_json::json!({}),
            );
            assert_eq!(s, 200);
            assert_eq!(
                check["ok"], true,
                "{id} sandbox connection {} fails 接続テスト: {check}",
                conn["name"]
            );
        }
    }
    let connected: Vec<&str> = connections
        .iter()
        .filter_map(|c| c["connector"].as_str())
        .collect();
    for wanted in ["kintone", "zoho-crm"] {
        if connectors
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == wanted)
        {
            assert!(
                connected.contains(&wanted),
                "no sandbox connection for {wanted}"
            );
        }
    }
}
