//! Two-way sync through `hub run` over the file-backed connector: one-sided changes flow across,
//! conflicts follow the policy, and random interleaved edits on both sides converge with no echo
//! writes.

use crate::support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use std::collections::BTreeMap;
use support::filestore::{all, edit, edit_same_tick, pair, put, Pair};

fn db(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}/hub.db", dir.path().display())
}

fn ok_run(p: &Pair) -> (i64, i64) {
    let (code, out) = p.run();
    assert_eq!(code, 0, "{out}");
    Pair::writes(&out)
}

#[test]
fn one_sided_changes_flow_both_ways_and_conflicts_follow_policy() {
    let dir = tempfile::tempdir().unwrap();
    for (policy, winner) in [("source_wins", "A"), ("target_wins", "B")] {
        let p = pair(
            &db(&dir).replace("hub.db", &format!("{policy}.db")),
            json!({"direction": "two_way", "conflict": policy}),
        );
        let a_ids = put(
            &p.a,
            "companies",
            vec![json!({"name": "株式会社アルファ", "phone": "03-1000-0000"})],
        );
        let b_ids = put(
            &p.b,
            "companies",
            vec![
                json!({"name": "ベータ株式会社", "phone": "06-2000-0000"}),
                json!({"name": "(株)アルファ", "phone": "03-1000-0000"}),
            ],
        );
        ok_run(&p);
        assert_eq!(all(&p.a, "companies").len(), 2, "ベータ came over to A");
        assert_eq!(
            all(&p.b, "companies").len(),
            2,
            "アルファ was matched, not duplicated"
        );

        // A change on one side only: it flows to the other.
        edit(&p.b, "companies", b_ids[0], "phone", "06-2999-0000");
        let (c, u) = ok_run(&p);
        assert_eq!((c, u), (0, 1));
        assert!(all(&p.a, "companies")
            .values()
            .any(|r| r.fields["phone"] == json!("06-2999-0000")));

        // Both sides change the same record: the policy decides.
        edit(&p.a, "companies", a_ids[0], "phone", "03-AAAA");
        edit(&p.b, "companies", b_ids[1], "phone", "03-BBBB");
        ok_run(&p);
        let want = if winner == "A" { "03-AAAA" } else { "03-BBBB" };
        assert_eq!(
            all(&p.a, "companies")[&a_ids[0]].fields["phone"],
            json!(want),
            "{policy}"
        );
        assert_eq!(
            all(&p.b, "companies")[&b_ids[1]].fields["phone"],
            json!(want),
            "{policy}"
        );

        // Nothing changed since: nothing is written (our own writes are not echoed).
        assert_eq!(ok_run(&p), (0, 0), "{policy}: echo writes");
        p.hub.stop();
    }
}

/// Seed 002's loss: the hub updates a record, and within the same second (same version stamp)
/// a person edits it. The edit must reach the other side, on either side of the flow.
#[test]
fn an_edit_in_the_same_tick_as_the_hub_s_write_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let p = pair(
        &db(&dir),
        json!({"direction": "two_way", "conflict": "newest_wins"}),
    );
    let a = put(
        &p.a,
        "companies",
        vec![json!({"name": "デルタ工業", "phone": "03-0000-0001", "address": "東京"})],
    );
    ok_run(&p);
    let b = *all(&p.b, "companies").keys().next().unwrap();
    // A changes; the hub writes B; B is edited within that same tick.
    edit(&p.a, "companies", a[0], "phone", "03-1111-1111");
    assert_eq!(ok_run(&p), (0, 1));
    edit_same_tick(&p.b, "companies", b, "address", "大阪");
    assert_eq!(ok_run(&p), (0, 1), "B's edit went to A");
    assert_eq!(
        all(&p.a, "companies")[&a[0]].fields["address"],
        json!("大阪")
    );
    // The other way round: B changes; the hub writes A; A is edited within that tick.
    edit(&p.b, "companies", b, "phone", "03-2222-2222");
    assert_eq!(ok_run(&p), (0, 1));
    edit_same_tick(&p.a, "companies", a[0], "address", "名古屋");
    assert_eq!(ok_run(&p), (0, 1), "A's edit went to B");
    assert_eq!(
        all(&p.b, "companies")[&b].fields["address"],
        json!("名古屋")
    );
    // And then nothing is echoed.
    assert_eq!(ok_run(&p), (0, 0));
}

#[test]
fn field_merge_keeps_both_sides_changes() {
    let dir = tempfile::tempdir().unwrap();
    let p = pair(
        &db(&dir),
        json!({"direction": "two_way", "conflict": "field_merge"}),
    );
    let a = put(
        &p.a,
        "companies",
        vec![json!({"name": "ガンマ商事", "phone": "03-0000-0001", "address": "東京"})],
    );
    ok_run(&p);
    let b_id = *all(&p.b, "companies").keys().next().unwrap();
    edit(&p.a, "companies", a[0], "phone", "03-9999-9999");
    edit(&p.b, "companies", b_id, "address", "大阪");
    ok_run(&p);
    for side in [&p.a, &p.b] {
        let r = all(side, "companies").into_values().next().unwrap();
        assert_eq!(
            (r.fields["phone"].clone(), r.fields["address"].clone()),
            (json!("03-9999-9999"), json!("大阪"))
        );
    }
    assert_eq!(ok_run(&p), (0, 0));
}

/// Random edits and new records on both sides over many rounds: after each run both sides agree,
/// a run after no edits writes nothing, and no record is ever duplicated.
#[test]
fn random_interleaved_edits_converge_without_echo() {
    let rounds: usize = std::env::var("HUB_TWOWAY_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let seed: u64 = std::env::var("HUB_TWOWAY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    eprintln!("two-way property test: seed {seed}, {rounds} rounds (HUB_TWOWAY_SEED to repeat)");
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let p = pair(
        &db(&dir),
        json!({"direction": "two_way", "conflict": "newest_wins"}),
    );
    put(
        &p.a,
        "companies",
        (0..15)
            .map(|i| json!({"name": format!("会社A{i:03}"), "phone": format!("03-0000-{i:04}")}))
            .collect(),
    );
    put(
        &p.b,
        "companies",
        (0..10)
            .map(|i| json!({"name": format!("会社B{i:03}"), "phone": format!("06-0000-{i:04}")}))
            .collect(),
    );
    ok_run(&p);
    let mut next = 0;
    for round in 0..rounds {
        let mut edits = 0i64;
        for _ in 0..rng.gen_range(1..6) {
            let side = if rng.gen_bool(0.5) { &p.a } else { &p.b };
            let ids: Vec<u64> = all(side, "companies").keys().copied().collect();
            if rng.gen_bool(0.2) {
                next += 1;
                put(
                    side,
                    "companies",
                    vec![json!({"name": format!("新規{round}-{next}"), "phone": "000"})],
                );
            } else {
                let id = ids[rng.gen_range(0..ids.len())];
                edit(
                    side,
                    "companies",
                    id,
                    if rng.gen_bool(0.5) {
                        "phone"
                    } else {
                        "address"
                    },
                    &format!("r{round}-{}", rng.gen_range(0..1000)),
                );
            }
            edits += 1;
        }
        let (c, u) = ok_run(&p);
        assert!(
            c + u <= edits * 2,
            "round {round}: {c} created + {u} updated for {edits} edits"
        );
        assert_eq!(
            ok_run(&p),
            (0, 0),
            "round {round}: a run with no edits wrote something (echo)"
        );
        let view =
            |d: &std::path::Path| -> BTreeMap<String, (serde_json::Value, serde_json::Value)> {
                let mut m = BTreeMap::new();
                for r in all(d, "companies").into_values() {
                    let name = r.fields["name"].as_str().unwrap().to_string();
                    let prev = m.insert(
                        name.clone(),
                        (
                            r.fields.get("phone").cloned().unwrap_or_default(),
                            r.fields.get("address").cloned().unwrap_or_default(),
                        ),
                    );
                    assert!(prev.is_none(), "round {round}: {name} duplicated");
                }
                m
            };
        assert_eq!(
            view(&p.a),
            view(&p.b),
            "round {round}: the two sides differ (seed {seed})"
        );
    }
}

#[test]
fn a_two_way_preview_tells_both_sides_writes_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = pair(
        &db(&dir),
        json!({"direction": "two_way", "conflict": "source_wins"}),
    );
    put(
        &p.a,
        "companies",
        vec![json!({"name": "株式会社アルファ", "phone": "03-1000-0000"})],
    );
    put(
        &p.b,
        "companies",
        vec![json!({"name": "ベータ株式会社", "phone": "06-2000-0000"})],
    );
    let (status, plan) = p
        .hub
        .post(&format!("/api/flows/{}/preview", p.flow), &json!({}));
    assert_eq!(status, 200, "{plan}");
    assert_eq!(plan["counts"]["created"].as_i64(), Some(2), "{plan}");
    let mut sides: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["side"].as_str().unwrap_or(""))
        .collect();
    sides.sort();
    assert_eq!(sides, vec!["source", "target"], "{plan}");
    assert_eq!(all(&p.a, "companies").len(), 1, "a preview wrote to A");
    assert_eq!(all(&p.b, "companies").len(), 1, "a preview wrote to B");
    // The run then does what the preview told.
    assert_eq!(ok_run(&p), (2, 0));
    assert_eq!(ok_run(&p), (0, 0), "echo writes");
    // An edit on A previews as an update of B: the field, what B holds now, what it will hold.
    let alpha = *all(&p.a, "companies").keys().next().unwrap();
    edit(&p.a, "companies", alpha, "phone", "03-1111-1111");
    let (status, plan) = p
        .hub
        .post(&format!("/api/flows/{}/preview", p.flow), &json!({}));
    assert_eq!(status, 200, "{plan}");
    let update = &plan["changes"][0];
    assert_eq!(
        (update["side"].as_str(), update["action"].as_str()),
        (Some("target"), Some("update")),
        "{plan}"
    );
    assert_eq!(
        update["fields"],
        json!([{"field": "phone", "before": "03-1000-0000", "after": "03-1111-1111"}]),
        "{plan}"
    );
    p.hub.stop();
}
