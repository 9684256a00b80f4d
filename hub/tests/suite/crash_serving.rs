//! A plugin that segfaults, aborts, hangs, eats memory or panics fails only its own run, with a
//! clear reason in the history, while the serving hub keeps answering /healthz.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

#[test]
fn crashing_plugins_fail_only_their_run_and_the_hub_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["test-plugin-good", "test-plugin-filestore"]);
    let env: &[(&str, &str)] = &[
        ("HUB_RUNNERS", "1"),
        ("HUB_CALL_TIMEOUT_SECS", "2"),
        ("HUB_WORKER_MEMORY_MB", "256"),
    ];
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        env,
    );
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "filestore", "name": "送信先", "registration_number": "TEST-0001", "phone": "03-0000-0000",
                "settings": {"path": dir.path().join("target").display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let target = body["id"].as_str().unwrap().to_string();
    let http = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for (mode, expect) in [
        ("segfault", "signal 11"),
        ("abort", "signal 6"),
        ("hang", "timed out after 2 s"),
        ("oom", "crashed"),
        ("panic", "panicked"),
    ] {
        let (s, body) = hub.post(
            "/api/connections",
            &json!({"connector": "good", "name": format!("壊れたコネクタ {mode}"), "registration_number": "TEST-0001", "phone": "03-0000-0000",
                    "settings": {"tenant": mode, "misbehave": mode}, "credentials": {"api_token": "t"}}),
        );
        assert_eq!(s, 201, "{body}");
        let source = body["id"].as_str().unwrap().to_string();
        let (s, body) = hub.post(
            "/api/flows",
            &json!({"name": format!("{mode} flow"), "source": {"connection": source, "object": "companies"},
                    "target": {"connection": target, "object": "companies"}, "mapping": [{"from": "name", "to": "name"}]}),
        );
        assert_eq!(s, 201, "{body}");
        let flow = body["id"].as_str().unwrap().to_string();
        let (s, body) = hub.post(&format!("/api/flows/{flow}/run"), &json!({}));
        assert_eq!(s, 202, "{body}");
        let run = body["run_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        let finished = loop {
            let health = http
                .get(format!("{}/healthz", hub.url))
                .send()
                .expect("the hub stopped answering");
            assert_eq!(
                health.status(),
                200,
                "{mode}: /healthz failed while the plugin misbehaved"
            );
            let (_, r) = hub.get(&format!("/api/runs/{run}"));
            if !matches!(r["status"].as_str(), Some("queued" | "running")) {
                break r;
            }
            assert!(
                Instant::now() < deadline,
                "{mode}: the run never finished: {r}"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!(finished["status"], "failed", "{mode}: {finished}");
        let message = finished["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(expect),
            "{mode}: the history says {message:?}, expected it to mention {expect:?}"
        );
    }
    let logs = hub.stop();
    // The plugins' own panic text is forwarded from the workers' stderr (target `plugin`).
    let hub_panics: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("panicked at") && !l.contains("plugin"))
        .collect();
    assert!(
        hub_panics.is_empty(),
        "the hub itself panicked: {hub_panics:?}"
    );
}
