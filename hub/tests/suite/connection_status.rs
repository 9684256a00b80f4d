//! One connection status (issue 20): a kintone connection saved without an API token is
//! `unchecked` (never `ok` without a check); 接続テスト makes it `error` with its time and reason;
//! a new token makes it `unchecked` again; a good check `ok`. The same status in the list and
//! the connection's own answer.

use crate::support;

use serde_json::{json, Value};
use support::{plugin_dir, TestHub};

fn status_of(hub: &TestHub, id: &str) -> Value {
    let (s, one) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(s, 200, "{one}");
    let (_, all) = hub.get("/api/connections");
    let listed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {all}"));
    assert_eq!(
        listed["status_detail"], one["status_detail"],
        "{listed} / {one}"
    );
    assert_eq!(one["status"], one["status_detail"]["state"], "{one}");
    one["status_detail"].clone()
}

#[test]
fn a_kintone_connection_without_a_token_is_unchecked_then_error_then_ok() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-kintone"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &plugin_paths,
        &[("HUB_RUNNERS", "0")],
    );
    let a = hub.announcement();
    let kintone = a["kintone"].as_str().unwrap().to_string();
    let app = &a["credentials"]["kintone"]["apps"][0];
    let token = app["api_token"].as_str().unwrap().to_string();
    let app_id = app["id"].to_string().trim_matches('"').to_string();

    // The sandbox's own presets were never checked either.
    let (_, all) = hub.get("/api/connections");
    for c in all.as_array().unwrap() {
        assert_eq!(c["status_detail"]["state"], "unchecked", "{c}");
    }

    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "kintone", "name": "トークンなし", "registration_number": "1234-5678-9012",
                "phone": "03-1234-5678", "settings": {"base_url": kintone, "apps": app_id}}),
    );
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let st = status_of(&hub, &id);
    assert_eq!(st["state"], "unchecked", "{st}");
    assert_eq!(st["checked_at"], Value::Null, "{st}");

    // 接続テスト fails: error, with when and why.
    let (s, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["ok"], false, "{check}");
    let st = status_of(&hub, &id);
    assert_eq!(st["state"], "error", "{st}");
    assert!(st["checked_at"].is_string(), "{st}");
    assert!(
        st["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{st}"
    );

    // A valid token: unchecked again until checked.
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"credentials": {"api_token": token}})),
    );
    assert_eq!(s, 200, "{body}");
    let st = status_of(&hub, &id);
    assert_eq!(st["state"], "unchecked", "{st}");
    assert_eq!(
        (&st["checked_at"], &st["message"]),
        (&Value::Null, &Value::Null)
    );

    // 接続テスト passes: ok, checked now.
    let (s, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["ok"], true, "{check}");
    let st = status_of(&hub, &id);
    assert_eq!(st["state"], "ok", "{st}");
    assert!(st["checked_at"].is_string(), "{st}");

    // A run is a check too: refused credentials make the connection `error` with the run's
    // reason; a run that reads and writes makes it `ok` again.
    let (_, all) = hub.get("/api/connections");
    let activities = all
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap_or("").contains("活動履歴"))
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no 活動履歴 preset: {all}"))
        .to_string();
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "活動履歴の会社 → 顧客管理", "source": {"connection": activities, "object": "2"},
                "target": {"connection": id, "object": app_id},
                "mapping": [{"from": "会社名", "to": "会社名"}],
                "match_keys": [{"source": "会社名", "target": "会社名"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"credentials": {"api_token": "not-a-valid-token"}})),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(status_of(&hub, &id)["state"], "unchecked");
    let env: &[(&str, &str)] = &[("HUB_RUNNERS", "0")];
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_ne!(code, 0, "{out}");
    let st = status_of(&hub, &id);
    assert_eq!(st["state"], "error", "{st}\n{out}");
    assert!(st["checked_at"].is_string(), "{st}");
    assert!(st["message"].is_string(), "{st}");
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"credentials": {"api_token": token}})),
    );
    assert_eq!(s, 200, "{body}");
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    assert_eq!(status_of(&hub, &id)["state"], "ok", "{out}");

    // A moved endpoint (with the token again, as it must): unchecked.
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(
            &json!({"settings": {"base_url": format!("{kintone}/"), "apps": app_id},
                     "credentials": {"api_token": token}}),
        ),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(status_of(&hub, &id)["state"], "unchecked");
    hub.stop();
}
