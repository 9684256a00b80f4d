//! Write-back with a lookup through another flow's links, through `hub run` with the file-backed
//! connector on both sides: people copied from A to B get, in `company`, the id B gave the
//! company that the companies flow linked (`lookup`), and back from B to A the other way
//! (`lookup_reverse`); a value without a link fails its record (`lookup_missing`, naming the
//! value and the flow) and is not written; an empty one stays empty. Saving refuses a lookup
//! through a flow that does not exist, or in a two-way flow.

use crate::support;

use serde_json::{json, Value};
use support::filestore::{all, pair, put, Pair, ENV};

fn run(s: &Pair, flow: &str) -> (i32, String) {
    s.hub
        .cli(&["run", flow], &[s.plugins.path().to_path_buf()], ENV)
}

fn last_run(s: &Pair, flow: &str) -> Value {
    let (_, runs) = s.hub.get(&format!("/api/runs?flow={flow}&limit=1"));
    let id = runs[0]["id"].as_str().unwrap().to_string();
    s.hub.get(&format!("/api/runs/{id}")).1
}

/// The value of `field` of B's (or A's) record whose `name` is `name`.
fn field_of(dir: &std::path::Path, object: &str, name: &str, field: &str) -> Option<Value> {
    all(dir, object)
        .values()
        .find(|r| r.fields["name"] == name)
        .map(|r| r.fields.get(field).cloned().unwrap_or(Value::Null))
}

fn id_of(dir: &std::path::Path, object: &str, name: &str) -> String {
    all(dir, object)
        .iter()
        .find(|(_, r)| r.fields["name"] == name)
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("no {object} named {name}"))
}

#[test]
fn people_follow_their_company_through_the_companies_flow_links() {
    let dir = tempfile::tempdir().unwrap();
    for db in support::databases(dir.path()) {
        let s = pair(&db, json!({}));
        let companies = s.flow.clone();
        let (_, f) = s.hub.get(&format!("/api/flows/{companies}"));
        let (conn_a, conn_b) = (
            f["source"]["connection"].as_str().unwrap().to_string(),
            f["target"]["connection"].as_str().unwrap().to_string(),
        );
        // B already holds two companies, so B's ids differ from A's.
        put(
            &s.b,
            "companies",
            vec![json!({"name": "先客株式会社"}), json!({"name": "別件商事"})],
        );
        let a_ids = put(
            &s.a,
            "companies",
            vec![
                json!({"name": "株式会社サンプル"}),
                json!({"name": "テスト商事株式会社"}),
            ],
        );
        let (code, out) = run(&s, &companies);
        assert_eq!(code, 0, "{out}");
        let b_sample = id_of(&s.b, "companies", "株式会社サンプル");
        let b_test = id_of(&s.b, "companies", "テスト商事株式会社");
        assert_ne!(
            b_sample,
            a_ids[0].to_string(),
            "the ids must differ for the test to mean anything"
        );

        let people_spec = |lookup: Value| {
            json!({"name": "担当者 A → B", "source": {"connection": conn_a, "object": "people"},
                   "target": {"connection": conn_b, "object": "people"},
                   "mapping": [{"from": "name", "to": "name"}, {"from": "company", "to": "company", "transform": lookup},
                               {"from": "email", "to": "email"}],
                   "match_keys": [{"source": "name", "target": "name"}]})
        };

        // Saving checks the lookup: the flow must exist, the format is the object form, and
        // lookups are for one-way flows.
        let (st, body) = s.hub.post(
            "/api/flows",
            &people_spec(json!({"lookup": "no-such-flow"})),
        );
        assert_eq!(
            (
                st,
                body["error"]["code"].as_str(),
                body["error"]["field"].as_str()
            ),
            (422, Some("invalid_mapping"), Some("mapping[1].transform")),
            "{body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no-such-flow"),
            "{body}"
        );
        let (st, body) = s.hub.post(
            "/api/flows",
            &people_spec(json!(format!("lookup:{companies}"))),
        );
        assert_eq!(
            (st, body["error"]["field"].as_str()),
            (422, Some("mapping[1].transform")),
            "{body}"
        );
        let mut two_way = people_spec(json!({"lookup": companies}));
        two_way["direction"] = json!("two_way");
        let (st, body) = s.hub.post("/api/flows", &two_way);
        assert_eq!(
            (
                st,
                body["error"]["code"].as_str(),
                body["error"]["field"].as_str()
            ),
            (422, Some("invalid_mapping"), Some("mapping[1].transform")),
            "{body}"
        );

        let (st, body) = s
            .hub
            .post("/api/flows", &people_spec(json!({"lookup": companies})));
        assert_eq!(st, 201, "{body}");
        let people = body["id"].as_str().unwrap().to_string();
        put(
            &s.a,
            "people",
            vec![
                json!({"name": "山田 太郎", "company": a_ids[0].to_string(), "email": "t.yamada@sample.example.jp"}),
                json!({"name": "佐々木 美穂", "company": a_ids[1].to_string()}),
                json!({"name": "個人 客", "company": ""}),
                json!({"name": "不明 氏", "company": "99"}),
            ],
        );
        // The preview resolves the same way and writes nothing.
        let (st, plan) = s
            .hub
            .post(&format!("/api/flows/{people}/preview"), &json!({}));
        assert_eq!(st, 200, "{plan}");
        let c = &plan["counts"];
        assert_eq!(
            c["created"].as_i64().unwrap() + c["updated"].as_i64().unwrap(),
            3,
            "{plan}"
        );
        assert!(
            plan["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["code"] == "lookup_missing"),
            "{plan}"
        );
        assert!(all(&s.b, "people").is_empty());

        let (code, out) = run(&s, &people);
        assert_eq!(code, 1, "a failed record makes a partial run: {out}");
        let r = last_run(&s, &people);
        assert_eq!(
            (
                r["status"].as_str(),
                r["counts"]["created"].as_i64(),
                r["counts"]["failed"].as_i64()
            ),
            (Some("partial"), Some(3), Some(1)),
            "{r}"
        );
        let e = &r["errors"][0];
        assert_eq!(e["code"], "lookup_missing", "{r}");
        let msg = e["message"].as_str().unwrap();
        assert!(
            msg.contains("'99'") && msg.contains(&companies) && msg.contains("会社 A → B"),
            "the error names the value and the flow: {msg}"
        );
        assert_eq!(
            field_of(&s.b, "people", "山田 太郎", "company"),
            Some(json!(b_sample))
        );
        assert_eq!(
            field_of(&s.b, "people", "佐々木 美穂", "company"),
            Some(json!(b_test))
        );
        assert_eq!(
            field_of(&s.b, "people", "個人 客", "company"),
            Some(Value::Null)
        );
        assert_eq!(
            field_of(&s.b, "people", "不明 氏", "name"),
            None,
            "never written with an empty company"
        );

        // Idle: nothing changed, nothing written (the resolved id is part of the fingerprint);
        // the record without a link is tried again and is still no success.
        let (code, out) = run(&s, &people);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("前回失敗した1件を再試行（0件成功）"), "{out}");
        assert_eq!(Pair::writes(&out), (0, 0), "{out}");

        // And back: people entered in B point at B's companies; `lookup_reverse` gives A's ids.
        put(
            &s.b,
            "people",
            vec![json!({"name": "高橋 修", "company": b_test.clone()})],
        );
        let (st, body) = s.hub.post(
            "/api/flows",
            &json!({"name": "担当者 B → A", "source": {"connection": conn_b, "object": "people"},
                    "target": {"connection": conn_a, "object": "people"},
                    "mapping": [{"from": "name", "to": "name"},
                                {"from": "company", "to": "company", "transform": {"lookup_reverse": companies}}],
                    "match_keys": [{"source": "name", "target": "name"}]}),
        );
        assert_eq!(st, 201, "{body}");
        let back = body["id"].as_str().unwrap().to_string();
        let (code, out) = run(&s, &back);
        assert_eq!(code, 0, "{out}");
        assert_eq!(
            field_of(&s.a, "people", "高橋 修", "company"),
            Some(json!(a_ids[1].to_string()))
        );

        // The flow a lookup goes through is deleted: the run fails and says why.
        let (st, _) = s
            .hub
            .send("DELETE", &format!("/api/flows/{companies}"), None);
        assert_eq!(st, 204);
        put(
            &s.a,
            "people",
            vec![json!({"name": "新人 一", "company": a_ids[0].to_string()})],
        );
        let (code, out) = run(&s, &people);
        assert_ne!(code, 0, "{out}");
        let r = last_run(&s, &people);
        assert_eq!(r["status"], "failed", "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap_or_default()
                .contains(&companies),
            "{r}"
        );
    }
}
