//! An occurrence that falls while no hub is running is not lost: when a hub starts again it is
//! caught up by one run, or recorded as skipped, as the flow's schedule says — and shows in the
//! history either way.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::filestore::{pair, ENV};
use support::{TestHub, MASTER_KEY};

#[test]
fn missed_occurrences_are_caught_up_or_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let p = pair(
        &db,
        json!({"schedule": {"cron": "0 5 * * *", "missed": "run_once"}}),
    );
    let (_, flow) = p.hub.get(&format!("/api/flows/{}", p.flow));
    let mut second = flow.clone();
    for k in ["id", "next_run_at", "next_runs", "created_at", "updated_at"] {
        second.as_object_mut().unwrap().remove(k);
    }
    second["name"] = json!("スキップするフロー");
    second["schedule"]["missed"] = json!("skip");
    let (s, body) = p.hub.post("/api/flows", &second);
    assert_eq!(s, 201, "{body}");
    let skip_flow = body["id"].as_str().unwrap().to_string();
    let plugins = [p.plugins.path().to_path_buf()];
    let catch_up_flow = p.flow.clone();
    p.hub.stop();

    // While no hub runs, both flows' 05:00 passes (set the fire time 10 minutes into the past).
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let key: [u8; 32] =
            std::array::from_fn(|i| u8::from_str_radix(&MASTER_KEY[i * 2..i * 2 + 2], 16).unwrap());
        let store = hub_store::Store::connect(&db, hub_store::Cipher::from_key(&key))
            .await
            .unwrap();
        let past = chrono::Utc::now().timestamp_millis() - 10 * 60_000;
        sqlx::query("UPDATE flows SET next_fire_at = $1")
            .bind(past)
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });

    let hub = TestHub::start_env(&db, tempfile::tempdir().unwrap(), &[], &plugins, ENV);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (caught, skipped) = loop {
        let (_, a) = hub.get(&format!("/api/runs?flow={catch_up_flow}"));
        let (_, b) = hub.get(&format!("/api/runs?flow={skip_flow}"));
        if !a.as_array().unwrap().is_empty() && !b.as_array().unwrap().is_empty() {
            break (a[0].clone(), b[0].clone());
        }
        assert!(
            Instant::now() < deadline,
            "the missed occurrences never showed in the history"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        (caught["trigger"].as_str(), caught["status"].as_str()),
        (Some("schedule"), Some("queued")),
        "{caught}"
    );
    assert!(
        caught["message"].as_str().unwrap().contains("caught up"),
        "{caught}"
    );
    assert_eq!(
        (skipped["trigger"].as_str(), skipped["status"].as_str()),
        (Some("schedule"), Some("skipped")),
        "{skipped}"
    );
    assert!(
        skipped["message"]
            .as_str()
            .unwrap()
            .contains("missed: no hub was running"),
        "{skipped}"
    );
    std::thread::sleep(Duration::from_secs(1));
    for f in [&catch_up_flow, &skip_flow] {
        let (_, runs) = hub.get(&format!("/api/runs?flow={f}"));
        assert_eq!(
            runs.as_array().unwrap().len(),
            1,
            "the missed occurrence was taken more than once: {runs}"
        );
        let (_, flow) = hub.get(&format!("/api/flows/{f}"));
        assert!(
            flow["next_run_at"].is_string(),
            "the schedule goes on: {flow}"
        );
    }
}
