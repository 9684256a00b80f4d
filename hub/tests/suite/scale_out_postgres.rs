//! Several hubs on one PostgreSQL database share scheduled work: every occurrence of every flow
//! is run exactly once across the processes, even when one of them is killed with SIGKILL.
//! Runs only with HUB_TEST_POSTGRES_URL. The schedule period is compressed for CI
//! (HUB_SCALE_PERIOD_SECS, default 20 s; HUB_SCALE_FLOWS, default 200; HUB_SCALE_SECONDS, 90).

use crate::support;

use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{fresh_postgres, plugin_dir, TestHub};

fn env_num(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn three_hubs_run_each_occurrence_exactly_once() {
    let Ok(admin) = std::env::var("HUB_TEST_POSTGRES_URL") else {
        support::skipped("scale-out test (HUB_TEST_POSTGRES_URL is not set)");
        return;
    };
    let (flows, period, seconds) = (
        env_num("HUB_SCALE_FLOWS", 200),
        env_num("HUB_SCALE_PERIOD_SECS", 20),
        env_num("HUB_SCALE_SECONDS", 90),
    );
    let db = fresh_postgres(&admin);
    let plugins = plugin_dir(&["test-plugin-filestore"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let env: &[(&str, &str)] = &[("HUB_RUN_LEASE_SECS", "3"), ("HUB_RUNNERS", "2")];
    let data = tempfile::tempdir().unwrap();
    let hub_a = TestHub::start_env(&db, tempfile::tempdir().unwrap(), &[], &plugin_paths, env);
    let mut conns = Vec::new();
    for name in ["src", "dst"] {
        let (s, body) = hub_a.post(
            "/api/connections",
            &json!({"connector": "filestore", "name": name, "registration_number": "TEST-0001", "phone": "03-0000-0000",
                    "settings": {"path": data.path().join(name).display().to_string()}}),
        );
        assert_eq!(s, 201, "{body}");
        conns.push(body["id"].as_str().unwrap().to_string());
    }
    let created_from = now_ms();
    for i in 0..flows {
        let (s, body) = hub_a.post(
            "/api/flows",
            &json!({"name": format!("flow {i}"), "source": {"connection": conns[0], "object": "companies"},
                    "target": {"connection": conns[1], "object": "companies"},
                    "mapping": [{"from": "name", "to": "name"}],
                    "schedule": {"cron": format!("*/{period} * * * * *"), "timezone": "Asia/Tokyo"}}),
        );
        assert_eq!(s, 201, "{body}");
    }
    let created_until = now_ms();
    let hub_b = TestHub::start_env(&db, tempfile::tempdir().unwrap(), &[], &plugin_paths, env);
    let hub_c = TestHub::start_env(&db, tempfile::tempdir().unwrap(), &[], &plugin_paths, env);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds * 2 / 5));
    let b_pid = hub_b.child.id();
    drop(hub_b); // SIGKILL: its claims must expire and be resumed by the others
    std::thread::sleep(Duration::from_secs(seconds).saturating_sub(start.elapsed()));
    let end = now_ms();
    // Let queued and interrupted runs finish before stopping the survivors.
    std::thread::sleep(Duration::from_secs(8));
    hub_a.stop();
    hub_c.stop();

    let out = Command::new("psql")
        .args([db.as_str(), "-At", "-F", "|", "-c", "SELECT flow_id, scheduled_for, status, COALESCE(claimed_by, ''), trigger FROM runs WHERE scheduled_for IS NOT NULL"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut by_flow: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    // Resuming runs (trigger retry) of occurrences whose run was interrupted by the kill.
    let mut resumed: BTreeMap<(String, i64), Vec<String>> = BTreeMap::new();
    let mut processes = BTreeSet::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('|').collect();
        let (flow, at, status) = (
            cols[0].to_string(),
            cols[1].parse::<i64>().unwrap(),
            cols[2].to_string(),
        );
        if cols[4] == "schedule" {
            by_flow.entry(flow).or_default().push((at, status));
        } else {
            resumed.entry((flow, at)).or_default().push(status);
        }
        if let Some(pid) = cols[3].split(':').nth(1) {
            processes.insert(pid.to_string());
        }
    }
    assert_eq!(by_flow.len() as u64, flows, "some flows never fired");
    let period_ms = (period * 1000) as i64;
    let first_due = (created_until / period_ms + 1) * period_ms;
    let last_due = ((end - 3000) / period_ms) * period_ms;
    let mut total = 0;
    for (flow, runs) in &by_flow {
        let times: BTreeSet<i64> = runs.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            times.len(),
            runs.len(),
            "flow {flow}: an occurrence was queued twice"
        );
        for due in (first_due..=last_due).step_by(period_ms as usize) {
            assert!(
                times.contains(&due),
                "flow {flow}: the occurrence at {due} was never run (missed)"
            );
        }
        assert!(
            times
                .iter()
                .all(|t| *t > created_from - period_ms && *t <= end + period_ms),
            "flow {flow}: unexpected occurrence"
        );
        for (t, status) in runs {
            if *t > last_due {
                continue;
            }
            let ok = status == "success"
                || (status == "interrupted"
                    && resumed
                        .get(&(flow.clone(), *t))
                        .is_some_and(|r| r.iter().any(|s| s == "success")));
            assert!(
                ok,
                "flow {flow}: occurrence {t} ended as {status} (resumed: {:?})",
                resumed.get(&(flow.clone(), *t))
            );
        }
        total += runs.len();
    }
    assert!(
        processes.len() >= 3,
        "work was not shared by the three hubs: {processes:?}"
    );
    assert!(
        processes.contains(&b_pid.to_string()),
        "the killed hub never claimed a run before it died"
    );
    eprintln!("scale-out: {flows} flows every {period} s for {seconds} s on 3 hubs (one killed): {total} occurrences, each run once");
}
