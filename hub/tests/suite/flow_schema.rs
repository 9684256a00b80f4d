//! A flow's mapping is checked against both objects' real schemas (kintone and Zoho CRM through
//! their plugins, against the sandbox) when it is saved: unknown fields and objects, type
//! mismatches, transforms that do not fit, unmapped required fields, unknown match keys and a
//! two-way flow's way back are refused with 422 naming the field and the object, in Japanese
//! and English. A connection whose objects cannot be listed refuses the save
//! (`connection_unreachable`), except for an update that changes nothing the check looks at.

use crate::support;

use serde_json::{json, Value};
use support::{plugin_dir, TestHub};

struct Env {
    hub: TestHub,
    _plugins: tempfile::TempDir,
    kintone: String,
    zoho_a: String,
    zoho_b: String,
}

fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-kintone", "connector-zoho-crm"]);
    let hub = TestHub::start_env(
        &db,
        dir,
        &["--sandbox"],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "0")],
    );
    hub.announcement();
    let (_, conns) = hub.get("/api/connections");
    let find = |part: &str| -> String {
        conns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().contains(part))
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no connection named like {part}: {conns}"))
            .to_string()
    };
    let (kintone, zoho_a, zoho_b) = (find("顧客管理"), find("組織A"), find("組織B"));
    Env {
        hub,
        _plugins: plugins,
        kintone,
        zoho_a,
        zoho_b,
    }
}

/// kintone 顧客管理 (app 1) → Zoho Accounts, with `patch` applied to the flow JSON.
fn flow(e: &Env, patch: Value) -> Value {
    let mut f = json!({"name": "顧客管理 → 取引先", "source": {"connection": e.kintone, "object": "1"},
        "target": {"connection": e.zoho_a, "object": "Accounts"},
        "mapping": [{"from": "会社名", "to": "Account_Name", "transform": "nfkc"},
                    {"from": "電話番号", "to": "Phone"}, {"from": "売上高", "to": "Annual_Revenue"}],
        "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}]});
    for (k, v) in patch.as_object().cloned().unwrap_or_default() {
        f[k] = v;
    }
    f
}

/// Saves and expects a 422 with `code` at `field`; answers the message.
fn refused(e: &Env, body: &Value, code: &str, field: &str) -> String {
    let (s, answer) = e.hub.post("/api/flows", body);
    assert_eq!(
        (
            s,
            answer["error"]["code"].as_str(),
            answer["error"]["field"].as_str()
        ),
        (422, Some(code), Some(field)),
        "{answer}"
    );
    answer["error"]["message"].as_str().unwrap().to_string()
}

#[test]
fn mappings_are_checked_against_both_schemas_when_saved() {
    let e = start();
    let (s, body) = e.hub.post("/api/flows", &flow(&e, json!({})));
    assert_eq!(s, 201, "a fitting mapping is saved: {body}");

    let m = refused(
        &e,
        &flow(
            &e,
            json!({"mapping": [{"from": "会社", "to": "Account_Name"}]}),
        ),
        "invalid_mapping",
        "mapping[0].from",
    );
    assert!(
        m.contains("source object '1' has no field '会社'") && m.contains("送信元「顧客管理」(1)"),
        "named in both languages: {m}"
    );
    let m = refused(
        &e,
        &flow(
            &e,
            json!({"mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "住所", "to": "Street"}]}),
        ),
        "invalid_mapping",
        "mapping[1].to",
    );
    assert!(
        m.contains("target object 'Accounts' has no field 'Street'"),
        "{m}"
    );

    // A date into a number, a date format on a number, a write into a read-only field.
    let m = refused(
        &e,
        &flow(
            &e,
            json!({"mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "取引開始日", "to": "Employees"}]}),
        ),
        "invalid_mapping",
        "mapping[1].to",
    );
    assert!(
        m.contains("Type mismatch: field '取引開始日' (date)")
            && m.contains("'Employees' (number)"),
        "{m}"
    );
    let m = refused(
        &e,
        &flow(
            &e,
            json!({"mapping": [{"from": "会社名", "to": "Account_Name"},
                               {"from": "売上高", "to": "Account_Number", "transform": {"date_format": "%Y/%m/%d"}}]}),
        ),
        "invalid_mapping",
        "mapping[1].transform",
    );
    assert!(m.contains("Transform 'date_format' takes a date"), "{m}");
    refused(
        &e,
        &flow(
            &e,
            json!({"mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "備考", "to": "Created_Time"}]}),
        ),
        "invalid_mapping",
        "mapping[1].to",
    );

    // The required Account_Name is not written: refused when records are created, not otherwise.
    let only_phone = json!([{"from": "電話番号", "to": "Phone"}]);
    let m = refused(
        &e,
        &flow(&e, json!({"mapping": only_phone})),
        "invalid_mapping",
        "mapping",
    );
    assert!(
        m.contains("'Account_Name'") && m.contains("必須項目「Account_Name」"),
        "{m}"
    );
    let (s, body) = e.hub.post(
        "/api/flows",
        &flow(
            &e,
            json!({"mapping": only_phone, "options": {"create_missing": false}}),
        ),
    );
    assert_eq!(s, 201, "{body}");

    // Match keys and objects.
    refused(
        &e,
        &flow(
            &e,
            json!({"match_keys": [{"source": "会社名", "target": "Company"}]}),
        ),
        "invalid_mapping",
        "match_keys[0].target",
    );
    let m = refused(
        &e,
        &flow(
            &e,
            json!({"target": {"connection": e.zoho_a, "object": "Companies"}}),
        ),
        "unknown_object",
        "target.object",
    );
    assert!(m.contains("Companies") && m.contains("Accounts"), "{m}");

    // Two-way: the way back must hold too (kintone's record number is read-only).
    let two_way = |mapping: Value| {
        flow(
            &e,
            json!({"direction": "two_way", "mapping": mapping, "match_keys": []}),
        )
    };
    let m = refused(
        &e,
        &two_way(json!([{"from": "会社名", "to": "Account_Name"},
                        {"from": "レコード番号", "to": "Account_Number"}])),
        "invalid_mapping",
        "mapping[1].from",
    );
    assert!(m.contains("read-only"), "{m}");
    let orgs = json!({"name": "組織A ⇄ 組織B", "direction": "two_way",
        "source": {"connection": e.zoho_a, "object": "Accounts"}, "target": {"connection": e.zoho_b, "object": "Accounts"},
        "mapping": [{"from": "Account_Name", "to": "Account_Name"}, {"from": "Phone", "to": "Phone"}]});
    let (s, body) = e.hub.post("/api/flows", &orgs);
    assert_eq!(s, 201, "{body}");
}

#[test]
fn a_connection_that_cannot_list_its_objects_refuses_the_save_but_not_a_pause() {
    let e = start();
    let (s, body) = e.hub.post("/api/flows", &flow(&e, json!({})));
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    // kintone now points at a port nobody listens on.
    let (_, conn) = e.hub.get(&format!("/api/connections/{}", e.kintone));
    let mut settings = conn["settings"].clone();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    settings["base_url"] = json!(format!("http://127.0.0.1:{port}"));
    // A new endpoint needs the secrets again (nobody listens there: any value does).
    let credentials: serde_json::Map<String, Value> = conn["credentials_set"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k.as_str().unwrap().to_string(), json!("re-entered")))
        .collect();
    let (s, body) = e.hub.send(
        "PUT",
        &format!("/api/connections/{}", e.kintone),
        Some(&json!({"settings": settings, "credentials": credentials})),
    );
    assert_eq!(s, 200, "{body}");

    let m = refused(
        &e,
        &flow(&e, json!({})),
        "connection_unreachable",
        "source.connection",
    );
    assert!(
        m.contains("サンドボックス kintone 顧客管理") && m.contains("/check"),
        "names the connection and what to do: {m}"
    );
    // Pausing the saved flow changes nothing the check looks at: allowed.
    let (s, body) = e.hub.send(
        "PUT",
        &format!("/api/flows/{id}"),
        Some(&flow(&e, json!({"enabled": false}))),
    );
    assert_eq!((s, body["enabled"].as_bool()), (200, Some(false)), "{body}");
    // Changing its mapping needs the schemas.
    let (s, body) = e.hub.send(
        "PUT",
        &format!("/api/flows/{id}"),
        Some(&flow(
            &e,
            json!({"enabled": false, "mapping": [{"from": "会社名", "to": "Account_Name"}]}),
        )),
    );
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (422, Some("connection_unreachable")),
        "{body}"
    );
}
