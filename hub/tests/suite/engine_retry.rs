//! A run that fails for a reason that may pass (the target keeps answering "too many requests")
//! is retried by the runner with trigger `retry`, after the flow's delay, and then succeeds;
//! a bad schedule is refused naming its field.

use crate::support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::filestore::{all, pair, pair_env, put};

#[test]
fn failed_run_is_retried_and_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let p = pair_env(
        &db,
        json!({"options": {"max_retries": 2, "retry_delay_secs": 1}}),
        &[("HUB_RUNNERS", "1")],
    );
    put(
        &p.a,
        "companies",
        vec![
            json!({"name": "リトライ商事"}),
            json!({"name": "再試行工業"}),
        ],
    );
    // The target answers "rate limited" to its first 8 write calls: more than one run's
    // in-call retries (6), fewer than two runs'.
    let (_, flow) = p.hub.get(&format!("/api/flows/{}", p.flow));
    let target = flow["target"]["connection"].as_str().unwrap().to_string();
    let (s, body) = p.hub.send(
        "PUT",
        &format!("/api/connections/{target}"),
        Some(&json!({"settings": {"path": p.b.display().to_string(), "fail_first_writes": "8"}})),
    );
    assert_eq!(s, 200, "{body}");
    let (s, _) = p
        .hub
        .post(&format!("/api/flows/{}/run", p.flow), &json!({}));
    assert_eq!(s, 202);
    let deadline = Instant::now() + Duration::from_secs(60);
    let runs = loop {
        let (_, runs) = p.hub.get(&format!("/api/runs?flow={}", p.flow));
        let runs = runs.as_array().unwrap().clone();
        if runs
            .first()
            .is_some_and(|r| r["trigger"] == "retry" && r["status"] == "success")
        {
            break runs;
        }
        assert!(Instant::now() < deadline, "no successful retry: {runs:?}");
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(
        (runs[1]["trigger"].as_str(), runs[1]["status"].as_str()),
        (Some("api"), Some("failed"))
    );
    assert!(
        runs[1]["message"].as_str().unwrap().contains("injected"),
        "{}",
        runs[1]
    );
    assert_eq!(runs[0]["attempt"], 2);
    assert_eq!(all(&p.b, "companies").len(), 2, "each record written once");
}

#[test]
fn invalid_schedule_is_422_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let p = pair(&db, json!({"schedule": {"cron": "0 5 * * *"}}));
    let (_, mut flow) = p.hub.get(&format!("/api/flows/{}", p.flow));
    assert_eq!(
        flow["next_runs"].as_array().unwrap().len(),
        5,
        "the next five fire times are shown: {flow}"
    );
    flow["schedule"]["cron"] = json!("0 25 * * *");
    let (s, body) = p
        .hub
        .send("PUT", &format!("/api/flows/{}", p.flow), Some(&flow));
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (422, Some("schedule.cron")),
        "{body}"
    );
    flow["schedule"]["cron"] = json!("0 5 * * *");
    flow["schedule"]["timezone"] = json!("Asia/Osaka");
    let (s, body) = p
        .hub
        .send("PUT", &format!("/api/flows/{}", p.flow), Some(&flow));
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (422, Some("schedule.timezone")),
        "{body}"
    );
    // Run now twice: the second answers 409 already_running.
    let (s, _) = p
        .hub
        .post(&format!("/api/flows/{}/run", p.flow), &json!({}));
    assert_eq!(s, 202);
    let (s, body) = p
        .hub
        .post(&format!("/api/flows/{}/run", p.flow), &json!({}));
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (409, Some("already_running")),
        "{body}"
    );
}
