//! A kintone app's records copied into Zoho Accounts and back through `hub run`, against the
//! sandbox, with each API's request counters checked against the minimum it allows: a kintone
//! full read is floor(N/500) + 1 records.json pages, Zoho writes ceil(N/100) upserts, a Zoho read
//! ceil(N/200) pages, and kintone writes ceil(N/100) record calls grouped 20 to a bulkRequest.
//! Each connector may also read its metadata (form fields) once per run.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use support::{plugin_dir, TestHub};

fn stats(base: &str) -> Value {
    Client::new()
        .get(format!("{base}/_sandbox/stats"))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn reset(base: &str) {
    Client::new()
        .post(format!("{base}/_sandbox/stats/reset"))
        .send()
        .unwrap();
}

fn count(stats: &Value, key: &str) -> u64 {
    stats["requests"][key].as_u64().unwrap_or(0)
}

fn ceil(n: u64, d: u64) -> u64 {
    n.div_ceil(d)
}

#[test]
fn thousand_records_kintone_to_zoho_and_back_with_minimum_calls() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-kintone", "connector-zoho-crm"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let env: &[(&str, &str)] = &[("HUB_RUNNERS", "0")];
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &plugin_paths,
        env,
    );
    let a = hub.announcement();
    let (kintone, crm) = (
        a["kintone"].as_str().unwrap().to_string(),
        a["zoho_crm"].as_str().unwrap().to_string(),
    );

    // 1,000 more customers in 顧客管理 (app 1), added outside the API.
    let r: Value = Client::new()
        .post(format!("{kintone}/_sandbox/kintone/apps/1/records"))
        .json(&json!({"records": [], "generate": 1000}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let summary: Value = Client::new()
        .get(format!("{kintone}/_sandbox/kintone/apps/1"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let n = summary["count"]
        .as_u64()
        .or_else(|| summary["records"].as_u64())
        .unwrap_or_else(|| panic!("{summary} / {r}"));
    assert!(n >= 1000, "{summary}");

    let (_, conns) = hub.get("/api/connections");
    let conns = conns.as_array().unwrap();
    let find = |connector: &str, name_part: &str| -> String {
        conns
            .iter()
            .find(|c| {
                c["connector"] == connector && c["name"].as_str().unwrap().contains(name_part)
            })
            .map(|c| c["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| {
                panic!("no {connector} connection named like {name_part}: {conns:?}")
            })
    };
    let kintone_conn = find("kintone", "顧客管理");
    let zoho_conn = conns
        .iter()
        .find(|c| c["connector"] == "zoho-crm")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .unwrap();

    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "kintone 顧客管理 → Zoho 取引先", "source": {"connection": kintone_conn, "object": "1"},
                "target": {"connection": zoho_conn, "object": "Accounts"},
                "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"},
                            {"from": "郵便番号", "to": "Billing_Code"}, {"from": "住所", "to": "Billing_Street"}],
                "match_keys": [{"source": "会社名", "target": "Account_Name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let to_zoho = body["id"].as_str().unwrap().to_string();
    reset(&kintone);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &to_zoho], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("read {n} ")), "{out}");
    let (k, z) = (stats(&kintone), stats(&crm));
    eprintln!(
        "kintone → Zoho, {n} records: kintone {}; Zoho {}",
        k["requests"], z["requests"]
    );
    // Pages of 500 by seek; a last full page needs one more call to see that nothing follows.
    let pages = n / 500 + 1;
    assert_eq!(count(&k, "GET /k/v1/records.json"), pages, "{k}");
    assert_eq!(count(&k, "POST /k/v1/records/cursor.json"), 0, "{k}");
    // Beyond the records, each connector may read its metadata once per run (form / fields).
    assert!(count(&k, "GET /k/v1/app/form/fields.json") <= 1, "{k}");
    assert_eq!(
        k["total"].as_u64().unwrap(),
        pages + count(&k, "GET /k/v1/app/form/fields.json"),
        "kintone calls beyond the minimum: {k}"
    );
    assert!(count(&z, "GET /crm/v8/settings/fields") <= 1, "{z}");
    assert_eq!(
        count(&z, "POST /crm/v8/{module}/upsert"),
        ceil(n, 100),
        "{z}"
    );
    let zoho_writes: u64 = z["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("POST") || k.starts_with("PUT"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum();
    assert_eq!(
        zoho_writes,
        ceil(n, 100),
        "Zoho write calls beyond the minimum: {z}"
    );

    // Idle: a second run reads from the watermark and writes nothing.
    reset(&kintone);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &to_zoho], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("read 0  created 0  updated 0"), "{out}");
    let idle_zoho = stats(&crm)["total"].as_u64().unwrap();
    assert_eq!(idle_zoho, 0, "an idle run wrote to Zoho: {}", stats(&crm));
    eprintln!(
        "idle run: kintone {} calls, Zoho {idle_zoho}",
        stats(&kintone)["total"]
    );

    // And back: every Zoho account into 顧客管理, matched by 会社名 (updateKey upsert).
    let zoho_total: Value = Client::new()
        .get(format!(
            "{crm}/_sandbox/zoho/orgs/A/modules/Accounts/records"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let m = zoho_total
        .get("data")
        .or(Some(&zoho_total))
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap() as u64;
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "Zoho 取引先 → kintone 顧客管理", "source": {"connection": zoho_conn, "object": "Accounts"},
                "target": {"connection": kintone_conn, "object": "1"},
                "mapping": [{"from": "Account_Name", "to": "会社名"}, {"from": "Phone", "to": "電話番号"}, {"from": "Billing_Street", "to": "住所"}],
                "match_keys": [{"source": "Account_Name", "target": "会社名"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let back = body["id"].as_str().unwrap().to_string();
    reset(&kintone);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &back], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("read {m} ")), "{out}");
    let (k, z) = (stats(&kintone), stats(&crm));
    eprintln!(
        "Zoho → kintone, {m} records: Zoho {}; kintone {}",
        z["requests"], k["requests"]
    );
    assert_eq!(
        count(&z, "GET /crm/v8/{module}"),
        ceil(m, 200),
        "Zoho list pages: {z}"
    );
    assert_eq!(
        count(&k, "POST /k/v1/bulkRequest.json"),
        ceil(m, 2000),
        "kintone bulkRequests: {k}"
    );
    let summary: Value = Client::new()
        .get(format!("{kintone}/_sandbox/kintone/apps/1"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    eprintln!("kintone app 1 after the copy back: {summary}");
}
