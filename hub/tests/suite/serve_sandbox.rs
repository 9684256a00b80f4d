//! `hub serve --sandbox` (the README's first command): the emulators announce themselves in one
//! JSON line, every one of them answers, and each loaded connector's sandbox presets become
//! connections a new user can use at once (接続テスト succeeds).

use crate::support;

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

/// A restarted `hub serve --sandbox` (same data folder) brings its emulators back where its
/// connections point, with the data they held: the sandbox lives in `<data folder>/sandbox/`.
#[test]
fn sandbox_connections_and_data_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/data/hub.db", dir.path().display());
    let start = || {
        TestHub::start_env(
            &db,
            tempfile::tempdir().unwrap(),
            &["--sandbox"],
            &[artifact_dir()],
            &[("HUB_RUNNERS", "0")],
        )
    };
    let check_all = |hub: &TestHub, when: &str| {
        let (_, connections) = hub.get("/api/connections");
        let connections = connections.as_array().unwrap().clone();
        assert!(
            connections.iter().any(|c| c["connector"] == "kintone"),
            "{when}: no kintone sandbox connection: {connections:?}"
        );
        for c in &connections {
            let (s, check) = hub.post(
                &format!("/api/connections/{}/check", c["id"].as_str().unwrap()),
                &serde_json::json!({}),
            );
            assert_eq!(s, 200, "{when}: {check}");
            assert_eq!(
                check["ok"], true,
                "{when}: sandbox connection {} fails 接続テスト: {check}",
                c["name"]
            );
        }
        connections.len()
    };

    let hub = start();
    let before = hub.announcement();
    let registered = check_all(&hub, "first start");
    let kintone = before["kintone"].as_str().unwrap().to_string();
    let app = &before["credentials"]["kintone"]["apps"][0];
    let http = reqwest::blocking::Client::new();
    let created: Value = http
        .post(format!("{kintone}/k/v1/record.json"))
        .header("X-Cybozu-API-Token", app["api_token"].as_str().unwrap())
        .json(&serde_json::json!({"app": app["id"], "record": {"会社名": {"value": "再起動テスト株式会社"}}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("record not created: {created}"))
        .to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    hub.stop();
    assert!(
        dir.path().join("data/sandbox").is_dir(),
        "the sandbox keeps no data beside the database"
    );

    let hub = start();
    let after = hub.announcement();
    for key in ["kintone", "zoho_accounts", "zoho_crm", "domino", "obc"] {
        assert_eq!(after[key], before[key], "{key} moved across the restart");
    }
    assert_eq!(
        check_all(&hub, "after the restart"),
        registered,
        "the restart registered the sandbox connections again"
    );
    let record: Value = http
        .get(format!(
            "{kintone}/k/v1/record.json?app={}&id={id}",
            app["id"].as_str().unwrap()
        ))
        .header("X-Cybozu-API-Token", app["api_token"].as_str().unwrap())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        record["record"]["会社名"]["value"], "再起動テスト株式会社",
        "the record made before the restart is gone: {record}"
    );
    hub.stop();
}

/// When an emulator's port of the last start is taken by something else, the emulator listens
/// on another and the hub points its sandbox connections there: they keep working.
#[test]
fn a_taken_sandbox_port_moves_the_connections_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/data/hub.db", dir.path().display());
    let start = || {
        TestHub::start_env(
            &db,
            tempfile::tempdir().unwrap(),
            &["--sandbox"],
            &[artifact_dir()],
            &[("HUB_RUNNERS", "0")],
        )
    };
    let hub = start();
    let before = hub.announcement();
    hub.stop();
    let kintone = before["kintone"].as_str().unwrap();
    let port: u16 = kintone.rsplit(':').next().unwrap().parse().unwrap();
    let _squatter = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();

    let hub = start();
    let after = hub.announcement();
    assert_ne!(after["kintone"], before["kintone"]);
    assert_eq!(after["zoho_crm"], before["zoho_crm"]);
    let (_, connections) = hub.get("/api/connections");
    for c in connections.as_array().unwrap() {
        let (s, check) = hub.post(
            &format!("/api/connections/{}/check", c["id"].as_str().unwrap()),
            &serde_json::json!({}),
        );
        assert_eq!(s, 200, "{check}");
        assert_eq!(
            check["ok"], true,
            "sandbox connection {} fails 接続テスト after the move: {check}",
            c["name"]
        );
    }
    hub.stop();
}
