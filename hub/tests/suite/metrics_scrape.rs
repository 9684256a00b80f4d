//! `GET /metrics` is well-formed OpenMetrics text (every sample belongs to a declared family,
//! every value is a number, `# EOF` ends it), and its counters move when the serving hub runs
//! a flow: records by action (from the database) and calls into the connector (this process).

use crate::support;

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::filestore::{pair_env, put};

/// Samples by `name{labels}`, after checking the exposition's shape.
fn scrape(hub: &support::TestHub) -> BTreeMap<String, f64> {
    let r = reqwest::blocking::get(format!("{}/metrics", hub.url)).unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = r.text().unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let mut families = BTreeSet::new();
    let mut samples = BTreeMap::new();
    for line in text.lines().filter(|l| *l != "# EOF") {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            families.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect(line);
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("{line}"));
        let name = key.split('{').next().unwrap();
        let family = ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| families.contains(*f)))
            .unwrap_or(name);
        assert!(families.contains(family), "undeclared sample: {line}");
        samples.insert(key.to_string(), value);
    }
    samples
}

#[test]
fn counters_move_when_the_serving_hub_runs_a_flow() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let p = pair_env(&db, json!({}), &[("HUB_RUNNERS", "1")]);
    put(
        &p.a,
        "companies",
        vec![
            json!({"name": "計測商事"}),
            json!({"name": "メトリクス工業"}),
        ],
    );
    let before = scrape(&p.hub);
    let created = "renkei_records_total{action=\"created\"}";
    assert_eq!(before.get(created), Some(&0.0), "{before:?}");
    assert_eq!(before.get("renkei_queue_depth"), Some(&0.0));
    assert_eq!(
        before.get("renkei_token_refreshes_total{result=\"failed\"}"),
        Some(&0.0)
    );
    assert_eq!(before.get("renkei_fire_lag_seconds_count"), Some(&0.0));
    let calls = "renkei_api_calls_total{connector=\"filestore\"}";
    assert_eq!(before.get(calls), None, "{before:?}");

    let (s, _) = p
        .hub
        .post(&format!("/api/flows/{}/run", p.flow), &json!({}));
    assert_eq!(s, 202);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, runs) = p.hub.get(&format!("/api/runs?flow={}", p.flow));
        if runs[0]["status"] == "success" {
            break;
        }
        assert!(Instant::now() < deadline, "no successful run: {runs}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let after = scrape(&p.hub);
    assert_eq!(after.get(created), Some(&2.0), "{after:?}");
    assert_eq!(after.get("renkei_runs{status=\"success\"}"), Some(&1.0));
    assert!(after.get(calls).is_some_and(|n| *n > 0.0), "{after:?}");
}
