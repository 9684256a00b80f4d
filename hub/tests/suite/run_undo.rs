//! 元に戻す (`POST /api/runs/{id}/undo`) with the file-backed test connector on both sides:
//! created records are deleted again, updated ones get their earlier fields back (from the
//! target as read while matching, or the last synced copy), a record changed since is left
//! alone and named, a second undo is refused, and the next run does not redo the change.
//! Two-way: the side the run wrote is the side restored.

use crate::support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use support::filestore::{all, edit, pair, put, Pair};
use test_plugin_filestore::store::StoredRecord;

/// The run id from `hub run`'s summary ("run ID: status").
fn run_id(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("run ").and_then(|r| r.split(':').next()))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no run id in: {out}"))
}

fn by_name<'a>(recs: &'a BTreeMap<u64, StoredRecord>, name: &str) -> (u64, &'a StoredRecord) {
    recs.iter()
        .find(|(_, r)| r.fields["name"] == json!(name))
        .map(|(id, r)| (*id, r))
        .unwrap_or_else(|| panic!("no record named {name}: {recs:?}"))
}

fn undo(s: &Pair, run: &str) -> (u16, Value) {
    s.hub.post(&format!("/api/runs/{run}/undo"), &json!({}))
}

#[test]
fn undo_restores_created_and_updated_records_and_leaves_changed_ones_alone() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path()) {
        let s = pair(&db, json!({}));
        put(
            &s.b,
            "companies",
            vec![json!({"name": "株式会社サンプル", "phone": "03-1111-1111", "address": "大阪市"})],
        );
        let ids = put(
            &s.a,
            "companies",
            vec![
                json!({"name": "㈱サンプル", "phone": "03-2222-2222", "address": "東京都"}),
                json!({"name": "テスト商事株式会社", "phone": "06-1234-5678"}),
                json!({"name": "山田工業(株)", "phone": "052-000-0000"}),
            ],
        );
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 2  updated 1"), "{out}");
        let run1 = run_id(&out);
        let b = all(&s.b, "companies");
        assert_eq!(
            b[&1].fields["phone"],
            json!("03-2222-2222"),
            "matched by name"
        );
        let (test_b, _) = by_name(&b, "テスト商事株式会社");
        let (yamada_b, _) = by_name(&b, "山田工業(株)");

        // Someone edits one of the created records in the target after the run.
        edit(&s.b, "companies", yamada_b, "phone", "052-999-9999");
        let (status, body) = undo(&s, &run1);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["restored"], json!(2), "{body}");
        let left = body["left_alone"].as_array().unwrap();
        assert_eq!(left.len(), 1, "{body}");
        assert_eq!(left[0]["record"], json!(ids[2].to_string()), "{body}");
        assert_eq!(left[0]["reason"], json!("changed_since"), "{body}");
        let undo1 = body["run_id"].as_str().unwrap().to_string();

        let b = all(&s.b, "companies");
        assert_eq!(
            b[&1].fields,
            json!({"name": "株式会社サンプル", "phone": "03-1111-1111", "address": "大阪市"})
                .as_object()
                .cloned()
                .unwrap(),
            "the matched record has its fields from before the run"
        );
        assert!(b[&test_b].deleted, "the created record is deleted again");
        assert!(!b[&yamada_b].deleted, "a record changed since stays");
        assert_eq!(b[&yamada_b].fields["phone"], json!("052-999-9999"));

        // The history tells which run undid which; a second undo is refused.
        let (_, r) = s.hub.get(&format!("/api/runs/{undo1}"));
        assert_eq!(
            (&r["trigger"], &r["status"], &r["undo_of"]),
            (&json!("api"), &json!("success"), &json!(run1)),
            "{r}"
        );
        assert_eq!(r["errors"][0]["code"], json!("changed_since"), "{r}");
        let (_, r) = s.hub.get(&format!("/api/runs/{run1}"));
        assert_eq!(r["undone_by"], json!([undo1]), "{r}");
        let (status, body) = undo(&s, &run1);
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], json!("already_undone"), "{body}");

        // The next run does not write the undone change again.
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 0  updated 0"), "{out}");
        assert_eq!(
            all(&s.b, "companies")[&1].fields["phone"],
            json!("03-1111-1111")
        );
        let (status, body) = undo(&s, &run_id(&out));
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["code"], json!("nothing_to_undo"), "{body}");

        // An update of a linked record is undone to the copy synced before it.
        edit(&s.a, "companies", ids[0], "phone", "03-3333-3333");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 0  updated 1"), "{out}");
        let run3 = run_id(&out);
        assert_eq!(
            all(&s.b, "companies")[&1].fields["phone"],
            json!("03-3333-3333")
        );
        // While the flow has a run queued, no undo starts.
        let (status, queued) = s
            .hub
            .post(&format!("/api/flows/{}/run", s.flow), &json!({}));
        assert_eq!(status, 202, "{queued}");
        let (status, body) = undo(&s, &run3);
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], json!("already_running"), "{body}");
        let (code, out) = s.run(); // takes up the queued run
        assert_eq!(code, 0, "{out}");
        let (status, body) = undo(&s, &run3);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (
                &body["restored"],
                body["left_alone"].as_array().map(Vec::len)
            ),
            (&json!(1), Some(0)),
            "{body}"
        );
        assert_eq!(
            all(&s.b, "companies")[&1].fields["phone"],
            json!("03-1111-1111")
        );
        // A later change of the source still flows as usual.
        edit(&s.a, "companies", ids[0], "phone", "03-4444-4444");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("updated 1"), "{out}");
        assert_eq!(
            all(&s.b, "companies")[&1].fields["phone"],
            json!("03-4444-4444")
        );
        s.hub.stop();
    }
}

#[test]
fn two_way_undo_restores_the_side_the_run_wrote() {
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
                json!({"name": "北海商事株式会社", "phone": "011-111-1111"}),
                json!({"name": "南国物産株式会社", "phone": "098-222-2222"}),
            ],
        );
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 2"), "{out}");
        let (north_b, _) = by_name(&all(&s.b, "companies"), "北海商事株式会社");

        // A change made in B flows back to A; undoing that run restores A only.
        edit(&s.b, "companies", north_b, "phone", "011-999-9999");
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 0  updated 1"), "{out}");
        assert_eq!(
            all(&s.a, "companies")[&ids[0]].fields["phone"],
            json!("011-999-9999")
        );
        let run2 = run_id(&out);
        let (status, body) = undo(&s, &run2);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["restored"], json!(1), "{body}");
        assert_eq!(
            all(&s.a, "companies")[&ids[0]].fields["phone"],
            json!("011-111-1111")
        );
        assert_eq!(
            all(&s.b, "companies")[&north_b].fields["phone"],
            json!("011-999-9999"),
            "the side the run did not write is not touched"
        );
        // The undo's own write is recognised: the next run writes nothing either way.
        let (code, out) = s.run();
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("created 0  updated 0"), "{out}");
        assert_eq!(
            all(&s.a, "companies")[&ids[0]].fields["phone"],
            json!("011-111-1111")
        );
        s.hub.stop();
    }
}

fn zoho_accounts(crm: &str) -> Vec<Value> {
    let v: Value = reqwest::blocking::Client::new()
        .get(format!(
            "{crm}/_sandbox/zoho/orgs/A/modules/Accounts/records"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["data"].as_array().cloned().unwrap_or_default()
}

/// kintone 顧客管理 → Zoho CRM 取引先 through the sandbox: the undo deletes the accounts the run
/// created and gives the matched ones their earlier name and phone back, except an account a
/// user edited in Zoho after the run.
#[test]
fn kintone_to_zoho_run_is_undone_in_zoho() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = support::plugin_dir(&["connector-kintone", "connector-zoho-crm"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let env: &[(&str, &str)] = &[("HUB_RUNNERS", "0")];
    let hub = support::TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &plugin_paths,
        env,
    );
    let a = hub.announcement();
    let crm = a["zoho_crm"].as_str().unwrap().to_string();
    let (_, conns) = hub.get("/api/connections");
    let conns = conns.as_array().unwrap();
    let conn = |connector: &str, part: &str| -> String {
        conns
            .iter()
            .find(|c| c["connector"] == connector && c["name"].as_str().unwrap().contains(part))
            .map(|c| c["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no {connector} connection like {part}: {conns:?}"))
    };
    let (kintone, zoho) = (conn("kintone", "顧客管理"), conn("zoho-crm", ""));
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "kintone 顧客管理 → Zoho 取引先", "source": {"connection": kintone, "object": "1"},
                "target": {"connection": zoho, "object": "Accounts"},
                "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"}],
                "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();
    let before: BTreeMap<String, (Value, Value)> = zoho_accounts(&crm)
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                (r["Account_Name"].clone(), r["Phone"].clone()),
            )
        })
        .collect();

    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    let run = run_id(&out);
    let (_, r) = hub.get(&format!("/api/runs/{run}"));
    let (created, updated) = (
        r["counts"]["created"].as_i64().unwrap(),
        r["counts"]["updated"].as_i64().unwrap(),
    );
    assert!(created > 1, "{r}");
    eprintln!("kintone → Zoho: created {created}, updated {updated}");
    let after = zoho_accounts(&crm);
    let new: Vec<&Value> = after
        .iter()
        .filter(|r| !before.contains_key(r["id"].as_str().unwrap()))
        .collect();
    assert_eq!(new.len() as i64, created, "{r}");

    // A user edits one created account in Zoho after the run (Modified_Time has whole seconds).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let token: Value = reqwest::blocking::Client::new()
        .post(format!(
            "{}/_sandbox/zoho/tokens",
            a["zoho_accounts"].as_str().unwrap()
        ))
        .json(&json!({"org": "A"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let edited = new[0]["id"].as_str().unwrap().to_string();
    let resp = reqwest::blocking::Client::new()
        .put(format!("{crm}/crm/v8/Accounts"))
        .header(
            "Authorization",
            format!(
                "Zoho-oauthtoken {}",
                token["access_token"].as_str().unwrap()
            ),
        )
        .json(&json!({"data": [{"id": edited, "Phone": "03-5555-0101"}]}))
        .send()
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().unwrap());

    let (status, body) = hub.post(&format!("/api/runs/{run}/undo"), &json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["restored"], json!(created + updated - 1), "{body}");
    let left = body["left_alone"].as_array().unwrap();
    assert_eq!(left.len(), 1, "{body}");
    assert_eq!(left[0]["reason"], json!("changed_since"), "{body}");
    assert!(
        left[0]["message"].as_str().unwrap().contains(&edited),
        "{body}"
    );
    let now: BTreeMap<String, Value> = zoho_accounts(&crm)
        .into_iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r))
        .collect();
    for (id, (name, phone)) in &before {
        let r = &now[id];
        assert_eq!((&r["Account_Name"], &r["Phone"]), (name, phone), "{id}");
    }
    let extra: Vec<&String> = now.keys().filter(|id| !before.contains_key(*id)).collect();
    assert_eq!(
        extra,
        vec![&edited],
        "created accounts are deleted, the edited one stays"
    );
    assert_eq!(now[&edited]["Phone"], json!("03-5555-0101"));
    hub.stop();
}
