//! 失敗分のみ再実行 (`POST /api/runs/{id}/retry-failed`) with the file-backed test connector:
//! a run fails on a few records (their target records are gone), an ordinary run does not take
//! them up again (the cursor moved past them), the fault is removed, and the retry writes only
//! those records, moves no cursor and ends in success. Pending records (taken up first by an
//! ordinary run) survive a run killed after the page that failed them was committed.

use crate::support;

use serde_json::json;
use support::filestore::{all, edit, pair, put, Pair};
use test_plugin_filestore::store;

fn run_id(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("run ").and_then(|r| r.split(':').next()))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no run id in: {out}"))
}

/// Marks target records deleted (or back again) by hand: updates to them fail with not_found.
fn set_deleted(s: &Pair, ids: &[u64], deleted: bool) {
    let mut f = store::open(&s.b, "companies").unwrap();
    for id in ids {
        let m = f.data.tick();
        let r = f.data.records.get_mut(id).unwrap();
        r.deleted = deleted;
        r.version += 1;
        r.modified = m;
    }
    f.save().unwrap();
}

#[test]
fn retry_failed_rewrites_only_the_failed_records() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path()) {
        let s = pair(&db, json!({}));
        let names = ["一号商事", "二号商事", "三号商事", "四号商事", "五号商事"];
        let ids = put(
            &s.a,
            "companies",
            names
                .iter()
                .map(|n| json!({"name": format!("{n}株式会社"), "phone": "03-0000-0000"}))
                .collect(),
        );
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 5"), "{out}");
        let run1 = run_id(&out);
        let target_of = |source: u64| -> u64 {
            let name = json!(format!(
                "{}株式会社",
                names[ids.iter().position(|i| *i == source).unwrap()]
            ));
            *all(&s.b, "companies")
                .iter()
                .find(|(_, r)| r.fields["name"] == name)
                .unwrap()
                .0
        };
        let broken = [target_of(ids[1]), target_of(ids[3])];

        // The fault: two target records are gone, so their updates fail.
        set_deleted(&s, &broken, true);
        for (i, id) in ids.iter().enumerate() {
            edit(&s.a, "companies", *id, "phone", &format!("03-1000-000{i}"));
        }
        let (code, out) = s.run();
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains("updated 3  unchanged 0  skipped 0  failed 2"),
            "{out}"
        );
        let failed_run = run_id(&out);
        let (_, r) = s.hub.get(&format!("/api/runs/{failed_run}"));
        assert_eq!(r["status"], json!("partial"), "{r}");
        let mut failed: Vec<String> = r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["record"].as_str().unwrap().to_string())
            .collect();
        failed.sort();
        assert_eq!(failed, vec![ids[1].to_string(), ids[3].to_string()], "{r}");

        // The next ordinary run tries them first (they still fail) and does not call itself a
        // success: the cursor moved past them, but they stay pending.
        let (code, out) = s.run();
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("前回失敗した2件を再試行（0件成功）"), "{out}");
        assert!(out.contains("failed 2"), "{out}");
        let (_, f) = s.hub.get(&format!("/api/flows/{}", s.flow));
        assert_eq!(f["pending_failures"], json!(2), "{f}");

        // The fault is removed; only the failed records are written again.
        set_deleted(&s, &broken, false);
        let before: Vec<(u64, u64)> = all(&s.b, "companies")
            .iter()
            .map(|(id, r)| (*id, r.version))
            .collect();
        let (status, body) = s
            .hub
            .post(&format!("/api/runs/{failed_run}/retry-failed"), &json!({}));
        assert_eq!(status, 202, "{body}");
        let retry = body["run_id"].as_str().unwrap().to_string();
        let (code, out) = s.run(); // takes up the queued retry (no runner in the serving hub)
        assert_eq!(code, 0, "{out}");
        assert_eq!(run_id(&out.replace("resuming run", "")), retry, "{out}");
        assert!(
            out.contains("read 2  created 0  updated 2  unchanged 0  skipped 0  failed 0"),
            "{out}"
        );
        let b = all(&s.b, "companies");
        for (id, version) in before {
            if broken.contains(&id) {
                assert!(b[&id].version > version, "record {id} was not retried");
                assert!(b[&id].fields["phone"]
                    .as_str()
                    .unwrap()
                    .starts_with("03-1000-000"));
            } else {
                assert_eq!(b[&id].version, version, "record {id} was written again");
            }
        }
        let (_, r) = s.hub.get(&format!("/api/runs/{retry}"));
        assert_eq!(
            (&r["trigger"], &r["status"], &r["retry_of"]),
            (&json!("retry"), &json!("success"), &json!(failed_run)),
            "{r}"
        );
        let (_, r) = s.hub.get(&format!("/api/runs/{failed_run}"));
        assert_eq!(r["retried_by"], json!([retry]), "{r}");

        // The retry moved no cursor and left nothing pending: the next ordinary run reads
        // nothing new and is a success.
        let (_, f) = s.hub.get(&format!("/api/flows/{}", s.flow));
        assert_eq!(f["pending_failures"], json!(0), "{f}");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("read 0 "), "{out}");
        assert!(!out.contains("再試行"), "{out}");

        // Nothing failed in the first run; and no retry while a run is queued.
        let (status, body) = s
            .hub
            .post(&format!("/api/runs/{run1}/retry-failed"), &json!({}));
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], json!("nothing_to_retry"), "{body}");
        let (status, _) = s
            .hub
            .post(&format!("/api/flows/{}/run", s.flow), &json!({}));
        assert_eq!(status, 202);
        let (status, body) = s
            .hub
            .post(&format!("/api/runs/{failed_run}/retry-failed"), &json!({}));
        assert_eq!(status, 409, "{body}");
        s.hub.stop();
    }
}

/// The manual's habit: fix the cause, press 今すぐ実行. The refused records are taken up
/// first, counted, and the run is a success only when none is left; a record nobody will fix
/// can be dismissed.
#[test]
fn an_ordinary_run_takes_up_what_failed_before() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let s = pair(&db, json!({}));
    let ids = put(
        &s.a,
        "companies",
        ["北商事", "南商事", "東商事"]
            .iter()
            .map(|n| json!({"name": format!("{n}株式会社"), "phone": "03-0000-0000"}))
            .collect(),
    );
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    let broken: Vec<u64> = all(&s.b, "companies")
        .iter()
        .filter(|(_, r)| r.fields["name"] == json!("南商事株式会社"))
        .map(|(id, _)| *id)
        .collect();
    set_deleted(&s, &broken, true);
    for id in &ids {
        edit(&s.a, "companies", *id, "phone", "03-1111-1111");
    }
    let (code, out) = s.run();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed 1"), "{out}");
    let (_, p) = s.hub.get(&format!("/api/flows/{}/pending", s.flow));
    assert_eq!(p["records"][0]["record"], json!(ids[1].to_string()), "{p}");
    assert_eq!(p["records"][0]["code"], json!("not_found"), "{p}");

    // The cause is fixed; 今すぐ実行 writes the refused record and reports it.
    set_deleted(&s, &broken, false);
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("前回失敗した1件を再試行（1件成功）"), "{out}");
    assert!(out.contains("updated 1"), "{out}");
    assert_eq!(
        all(&s.b, "companies")[&broken[0]].fields["phone"],
        json!("03-1111-1111")
    );
    let (_, f) = s.hub.get(&format!("/api/flows/{}", s.flow));
    assert_eq!(f["pending_failures"], json!(0), "{f}");

    // A record that will never be written: dismissed, the next run is a success again.
    set_deleted(&s, &broken, true);
    edit(&s.a, "companies", ids[1], "phone", "03-2222-2222");
    let (code, _) = s.run();
    assert_eq!(code, 1);
    let (st, body) = s.hub.post(
        &format!("/api/flows/{}/pending/dismiss", s.flow),
        &json!({}),
    );
    assert_eq!((st, &body["dismissed"]), (200, &json!(1)), "{body}");
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    s.hub.stop();
}

/// Two-way: the retry takes up the failed pair (both of its records, so a change made since on
/// either side is still settled by the policy) and leaves every other change to the next run.
#[test]
fn two_way_retry_touches_only_the_failed_pair() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path()) {
        let s = pair(
            &db,
            json!({"direction": "two_way", "conflict": "source_wins"}),
        );
        let ids = put(
            &s.a,
            "companies",
            vec![
                json!({"name": "東商事株式会社", "phone": "03-1111-0000"}),
                json!({"name": "西商事株式会社", "phone": "06-2222-0000"}),
            ],
        );
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 2"), "{out}");
        let b = all(&s.b, "companies");
        let find = |name: &str| -> u64 {
            *b.iter()
                .find(|(_, r)| r.fields["name"] == json!(name))
                .unwrap()
                .0
        };
        let (east, west) = (find("東商事株式会社"), find("西商事株式会社"));

        set_deleted(&s, &[east], true);
        edit(&s.a, "companies", ids[0], "phone", "03-1111-9999");
        let (code, out) = s.run();
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("failed 1"), "{out}");
        let failed_run = run_id(&out);

        // The fault goes away; meanwhile another company is edited in B (not the retry's).
        set_deleted(&s, &[east], false);
        edit(&s.b, "companies", west, "phone", "06-2222-9999");
        let (status, body) = s
            .hub
            .post(&format!("/api/runs/{failed_run}/retry-failed"), &json!({}));
        assert_eq!(status, 202, "{body}");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("failed 0"), "{out}");
        assert_eq!(
            all(&s.b, "companies")[&east].fields["phone"],
            json!("03-1111-9999")
        );
        assert_eq!(
            all(&s.a, "companies")[&ids[1]].fields["phone"],
            json!("06-2222-0000"),
            "the retry wrote a change that was not its own"
        );
        // The next ordinary run takes that change up (the retry moved no cursor).
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            all(&s.a, "companies")[&ids[1]].fields["phone"],
            json!("06-2222-9999")
        );
        s.hub.stop();
    }
}

/// A record refused for good on a page whose commit moved the cursor past it, in a run then
/// killed (SIGKILL) before it finished: it is pending all the same (kept with that page's
/// commit), and a later run takes it up.
#[test]
fn a_record_refused_in_a_run_killed_later_is_still_pending() {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let s = pair(&db, json!({}));
    let n = 60;
    let name = |i: usize| format!("株式会社途中停止{i:03}");
    let ids = put(
        &s.a,
        "companies",
        (0..n)
            .map(|i| json!({"name": name(i), "phone": "03-0000-0000"}))
            .collect(),
    );
    let (code, out) = s.run();
    assert_eq!(code, 0, "{out}");
    let first = all(&s.b, "companies")
        .into_iter()
        .find(|(_, r)| r.fields["name"] == json!(name(0)))
        .map(|(id, _)| id)
        .unwrap();
    // The fault: the first record's target is gone, so its update is refused for good. Every
    // source record changes, and the target becomes slow: two commits (50 records, then 10)
    // with seconds between them.
    set_deleted(&s, &[first], true);
    for id in &ids {
        edit(&s.a, "companies", *id, "phone", "03-1111-1111");
    }
    let (_, f) = s.hub.get(&format!("/api/flows/{}", s.flow));
    let target = f["target"]["connection"].as_str().unwrap().to_string();
    let settings =
        json!({"settings": {"path": s.b.display().to_string(), "write_delay_ms": "2000"}});
    let (status, body) = s.hub.send(
        "PUT",
        &format!("/api/connections/{target}"),
        Some(&settings),
    );
    assert_eq!(status, 200, "{body}");
    let mut child = s.hub.spawn_cli(
        &["run", &s.flow],
        &[s.plugins.path().to_path_buf()],
        support::filestore::ENV,
    );
    let pending = || {
        let (_, p) = s.hub.get(&format!("/api/flows/{}/pending", s.flow));
        p["records"].as_array().cloned().unwrap_or_default()
    };
    // Killed while the second commit's batch is being written: the first page is written
    // (49 records, the 50th refused) and committed a moment later.
    let written = || {
        all(&s.b, "companies")
            .values()
            .filter(|r| r.fields["phone"] == json!("03-1111-1111"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while written() < 49 {
        assert!(
            Instant::now() < deadline,
            "the first page was never written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its commit follows at once; the next batch waits 2 s in the target.
    let committed = Instant::now() + Duration::from_millis(1500);
    while pending().is_empty() && Instant::now() < committed {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run finished before it was killed"
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(written(), 49, "the second page was written before the kill");
    let p = pending();
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["record"], json!(ids[0].to_string()), "{p:?}");

    // The fault is removed and the target fast again: the next run (once the killed one's
    // lease expired) writes the record the killed run was refused.
    set_deleted(&s, &[first], false);
    let fast = json!({"settings": {"path": s.b.display().to_string()}});
    let (status, body) = s
        .hub
        .send("PUT", &format!("/api/connections/{target}"), Some(&fast));
    assert_eq!(status, 200, "{body}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, out) = s.run();
        if code == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline && !out.contains("failed 1"),
            "{out}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let b = all(&s.b, "companies");
    assert_eq!(b[&first].fields["phone"], json!("03-1111-1111"));
    assert!(pending().is_empty());
}
