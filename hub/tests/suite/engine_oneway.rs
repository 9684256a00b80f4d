//! One-way sync through `hub run`, with the file-backed test connector on both sides: creates,
//! matches by normalized company name, skips private and unchanged records, reports ambiguous
//! matches, and survives being killed at random points without losing or duplicating records.

use crate::support;

use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::filestore::{all, edit, pair, put, Pair, ENV};
use test_plugin_filestore::store::StoredRecord;

fn setup(_dir: &tempfile::TempDir, database_url: &str) -> Pair {
    pair(database_url, json!({}))
}

#[test]
fn creates_matches_skips_and_stays_idle() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path()) {
        let s = setup(&dir, &db);
        put(
            &s.b,
            "companies",
            vec![json!({"name": "株式会社サンプル", "phone": "03-1111-1111"})],
        );
        let ids = put(
            &s.a,
            "companies",
            vec![
                json!({"name": "㈱サンプル", "phone": "03-2222-2222", "address": "  東京都新宿区  "}),
                json!({"name": "テスト商事株式会社", "phone": "06-1234-5678"}),
                json!({"name": "山田工業(株)"}),
                json!({"name": "秘密株式会社", "confidential": "1"}),
                json!({"name": "ｶﾌﾞｼｷｶﾞｲｼｬ ﾎｹﾞ"}),
            ],
        );
        // Preview first: the plan is told, nothing is written.
        let (status, plan) = s
            .hub
            .post(&format!("/api/flows/{}/preview", s.flow), &json!({}));
        assert_eq!(status, 200, "{plan}");
        let c = &plan["counts"];
        assert_eq!(
            (
                c["created"].as_i64(),
                c["updated"].as_i64(),
                c["skipped"].as_i64()
            ),
            (Some(3), Some(1), Some(1)),
            "{plan}"
        );
        assert_eq!(plan["changes"].as_array().unwrap().len(), 4);
        assert!(
            plan["changes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["action"] == "update" && c["target_id"] == "1"),
            "{plan}"
        );
        assert_eq!(
            all(&s.b, "companies").len(),
            1,
            "a preview wrote to the target"
        );
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("read 5  created 3  updated 1  unchanged 0  skipped 1  failed 0"),
            "{out}"
        );
        let b = all(&s.b, "companies");
        assert_eq!(
            b.len(),
            4,
            "the existing company was matched, not duplicated"
        );
        assert_eq!(b[&1].fields["phone"], json!("03-2222-2222"));
        assert_eq!(b[&1].fields["address"], json!("東京都新宿区"));
        assert!(
            b.values()
                .all(|r| r.fields["name"] != json!("秘密株式会社")),
            "a private record left its system"
        );

        // Nothing changed: the next run reads nothing and writes nothing.
        let versions: Vec<u64> = b.values().map(|r| r.version).collect();
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("read 0  created 0  updated 0"), "{out}");
        assert_eq!(
            all(&s.b, "companies")
                .values()
                .map(|r| r.version)
                .collect::<Vec<_>>(),
            versions
        );

        // One edit in the source: exactly that record flows.
        edit(&s.a, "companies", ids[1], "phone", "06-9999-0000");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("read 1  created 0  updated 1"), "{out}");
        assert!(all(&s.b, "companies")
            .values()
            .any(|r| r.fields["phone"] == json!("06-9999-0000")));

        let (status, runs) = s.hub.get(&format!("/api/runs?flow={}", s.flow));
        assert_eq!(status, 200);
        assert_eq!(runs.as_array().unwrap().len(), 3);
        assert!(runs
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "success" && r["trigger"] == "manual"));
        s.hub.stop();
    }
}

#[test]
fn ambiguous_matches_are_reported_not_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let s = setup(&dir, &db);
    put(
        &s.b,
        "companies",
        vec![
            json!({"name": "株式会社エックス"}),
            json!({"name": "エックス株式会社"}),
        ],
    );
    put(
        &s.a,
        "companies",
        vec![json!({"name": "㈱エックス"}), json!({"name": "ワイ商店"})],
    );
    let (code, out) = s.run();
    assert_eq!(code, 1, "a partial run exits 1: {out}");
    assert!(out.contains("run ") && out.contains(": partial"), "{out}");
    assert!(
        out.contains("ambiguous_match") && out.contains("1, 2"),
        "{out}"
    );
    assert_eq!(all(&s.b, "companies").len(), 3, "only ワイ商店 was created");
    let (_, runs) = s.hub.get(&format!("/api/runs?flow={}", s.flow));
    let (_, run) = s
        .hub
        .get(&format!("/api/runs/{}", runs[0]["id"].as_str().unwrap()));
    assert_eq!(run["counts"]["failed"], 1);
    assert_eq!(run["errors"][0]["code"], "ambiguous_match");
    assert_eq!(run["errors"][0]["record"], "1");
}

/// Kills `hub run` with SIGKILL at random points, then lets a run finish: every source record
/// is in the target exactly once, with the source's values.
#[test]
fn killed_runs_lose_and_duplicate_nothing() {
    let kills: usize = std::env::var("HUB_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let s = setup(&dir, &db);
    let n = 400;
    put(&s.a, "companies", (0..n).map(|i| json!({"name": format!("株式会社テスト{i:04}"), "phone": format!("03-0000-{i:04}")})).collect());
    let plugins = [s.plugins.path().to_path_buf()];
    // A failure can be replayed: HUB_CRASH_SEED=<the printed seed>.
    let seed: u64 = std::env::var("HUB_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!("killed_runs_lose_and_duplicate_nothing: HUB_CRASH_SEED={seed}\n").as_bytes(),
    );
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for i in 0..kills {
        let mut child = s.hub.spawn_cli(&["run", &s.flow], &plugins, ENV);
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..500)));
        let _ = child.kill();
        let _ = child.wait();
        if i % 3 == 0 {
            // Edit the source between crashes too.
            let id = rng.gen_range(1..=n as u64);
            edit(
                &s.a,
                "companies",
                id,
                "phone",
                &format!("090-{i:04}-{id:04}"),
            );
        }
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..150)));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out) = s.run();
        if code == 0 {
            break;
        }
        assert!(out.contains("already"), "unexpected failure: {out}");
        assert!(
            Instant::now() < deadline,
            "the killed run was never resumed: {out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let a = all(&s.a, "companies");
    let b = all(&s.b, "companies");
    let mut by_name: BTreeMap<String, Vec<&StoredRecord>> = BTreeMap::new();
    for r in b.values() {
        by_name
            .entry(r.fields["name"].as_str().unwrap().to_string())
            .or_default()
            .push(r);
    }
    assert_eq!(
        b.len(),
        n,
        "target has {} records for {n} source records",
        b.len()
    );
    for r in a.values() {
        let name = r.fields["name"].as_str().unwrap();
        let copies = by_name.get(name).map(Vec::len).unwrap_or(0);
        assert_eq!(
            copies, 1,
            "{name} is in the target {copies} times (HUB_CRASH_SEED={seed})"
        );
        assert_eq!(
            by_name[name][0].fields["phone"], r.fields["phone"],
            "{name} differs"
        );
    }
}

/// `initial_max_records` with a connector that reads only in its own order (the file store
/// ignores `newest_first`): the hub reads the window and keeps the newest N itself; the next run
/// reads only what changed since the first began, so the older rest comes when it changes or
/// with 全件を取り込む (`POST /api/flows/{id}/full-import`).
#[test]
fn a_capped_first_run_keeps_the_newest_and_then_reads_only_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let s = pair(&db, json!({"options": {"initial_max_records": 3}}));
    let names: Vec<String> = (1..=7).map(|i| format!("会社{i}")).collect();
    let ids = put(
        &s.a,
        "companies",
        names.iter().map(|n| json!({"name": n})).collect(),
    );
    let target_names = || -> Vec<String> {
        let mut v: Vec<String> = all(&s.b, "companies")
            .values()
            .map(|r| r.fields["name"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 3  created 3"), "{out}");
    assert_eq!(target_names(), ["会社5", "会社6", "会社7"]);

    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 0  created 0  updated 0"), "{out}");

    // A record the first run left is taken when it changes.
    edit(&s.a, "companies", ids[0], "phone", "03-0000-0001");
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 1  created 1"), "{out}");

    // 全件を取り込む: everything, once; then on from the newest change.
    let (status, body) = s
        .hub
        .post(&format!("/api/flows/{}/full-import", s.flow), &json!({}));
    assert_eq!(status, 202, "{body}");
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 7  created 3"), "{out}");
    assert_eq!(target_names(), names);
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 0"), "{out}");
    s.hub.stop();
}
