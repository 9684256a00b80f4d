//! 奉行クラウド 取引先 → Zoho CRM Accounts through the real hub, its plugins and the sandbox:
//! the 奉行 connection is signed in the way a person does it (OBCiD login, 「許可する」, the hub's
//! code exchange), the flow matches by company name in its many forms, the first run copies every
//! live 取引先, two edits in 奉行 update exactly their two Zoho accounts, and a run after the
//! provider expired the access token refreshes it and writes nothing.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
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

/// Zoho calls that change data (POST / PUT / DELETE).
fn zoho_writes(stats: &Value) -> u64 {
    stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

/// Org A's Accounts by id, every field as stored.
fn accounts(crm: &str) -> BTreeMap<String, Value> {
    let v: Value = Client::new()
        .get(format!(
            "{crm}/_sandbox/zoho/orgs/A/modules/Accounts/records"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v.get("data")
        .or(Some(&v))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| (r["id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn hidden_request_id(html: &str) -> String {
    html.split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no request_id in {html}"))
        .to_string()
}

/// The browser's part of the sign-in: the OBCiD login page, then 「許可する」; answers the
/// hub callback's (state, code).
fn consent(authorize_url: &str, obc: &str, creds: &Value) -> (String, String) {
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = browser.get(authorize_url).send().unwrap().text().unwrap();
    assert!(login.contains("OBCiD でログイン"), "{login}");
    let page = browser
        .post(format!("{obc}/oauth2/login"))
        .form(&[
            ("request_id", hidden_request_id(&login).as_str()),
            ("obcid", creds["obcid"]["id"].as_str().unwrap()),
            ("password", creds["obcid"]["password"].as_str().unwrap()),
        ])
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        page.contains("許可する") && page.contains("連携ハブ"),
        "{page}"
    );
    let r = browser
        .post(format!("{obc}/oauth2/consent"))
        .form(&[
            ("request_id", hidden_request_id(&page).as_str()),
            ("decision", "allow"),
        ])
        .send()
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<String, String> = location.query_pairs().into_owned().collect();
    (q["state"].clone(), q["code"].clone())
}

/// `read N  created N  updated N  unchanged N  skipped N  failed N` of `hub run`.
fn counts(out: &str) -> HashMap<String, u64> {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("read "))
        .unwrap_or_else(|| panic!("no counts in {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .chunks(2)
        .map(|kv| (kv[0].to_string(), kv[1].parse().unwrap()))
        .collect()
}

#[test]
fn obc_customers_flow_to_zoho_accounts_differentially() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-obc", "connector-zoho-crm"]);
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
    let obc = a["obc"].as_str().unwrap().to_string();
    let crm = a["zoho_crm"].as_str().unwrap().to_string();
    let oc = a["credentials"]["obc"].clone();

    // `hub serve --sandbox` registered the 奉行 preset, which works at once (fixed token).
    let (_, conns) = hub.get("/api/connections");
    let conns = conns.as_array().unwrap().clone();
    let preset = conns
        .iter()
        .find(|c| c["connector"] == "obc")
        .unwrap_or_else(|| panic!("no 奉行 sandbox connection: {conns:?}"));
    let (_, check) = hub.post(
        &format!("/api/connections/{}/check", preset["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(check["ok"], true, "{check}");
    let zoho = conns
        .iter()
        .find(|c| c["connector"] == "zoho-crm")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .unwrap();

    // A connection of our own, signed in through the OBCiD consent.
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "obc", "name": "奉行クラウド 本社", "registration_number": "OBC-0001", "phone": "03-0000-0000",
                "settings": {"base_url": obc},
                "credentials": {"client_id": oc["client_id"], "client_secret": oc["client_secret"],
                                "subscription_key": oc["subscription_key"]}}),
    );
    assert_eq!(s, 201, "{body}");
    let conn = body["id"].as_str().unwrap().to_string();
    let (_, c) = hub.get(&format!("/api/connections/{conn}"));
    assert_eq!(c["token"]["status"], "none", "{c}");
    let (_, check) = hub.post(&format!("/api/connections/{conn}/check"), &json!({}));
    assert_eq!(check["ok"], false, "not signed in yet: {check}");
    assert_eq!(check["error"]["code"], "not_signed_in", "{check}");

    let (s, auth) = hub.post(
        &format!("/api/connections/{conn}/authorize"),
        &json!({"redirect_uri": "http://127.0.0.1:9/oauth/callback"}),
    );
    assert_eq!(s, 200, "{auth}");
    let url = auth["authorize_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{obc}/oauth2/authorize?")),
        "{url}"
    );
    let (state, code) = consent(url, &obc, &oc);
    let (s, body) = hub.post(
        "/api/oauth/complete",
        &json!({"state": state, "code": code}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["token"]["status"], "valid", "{body}");
    let (_, check) = hub.post(&format!("/api/connections/{conn}/check"), &json!({}));
    assert_eq!(check["ok"], true, "{check}");
    assert!(
        check["account"]
            .as_str()
            .unwrap()
            .contains("OBC商事株式会社"),
        "{check}"
    );

    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "奉行 取引先 → Zoho 取引先", "source": {"connection": conn, "object": "customers"},
                "target": {"connection": zoho, "object": "Accounts"},
                "mapping": [{"from": "name", "to": "Account_Name"}, {"from": "tel", "to": "Phone"},
                            {"from": "postalCode", "to": "Billing_Code"}, {"from": "address1", "to": "Billing_Street"}],
                "match_keys": [{"source": "name", "target": "Account_Name", "normalize": "company_name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();

    // Run 1: every live 取引先 (50 seeded, 2 deleted). 「㈱北海道フーズ」 is the Zoho org's
    // 「北海道フーズ株式会社」: matched and updated; the others are created.
    let before = accounts(&crm);
    reset(&obc);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    let n = counts(&out);
    assert_eq!(
        (n["read"], n["created"], n["updated"], n["failed"]),
        (48, 47, 1, 0),
        "{out}"
    );
    let o = stats(&obc);
    eprintln!(
        "run 1: 奉行 {}; Zoho {}",
        o["requests"],
        stats(&crm)["requests"]
    );
    assert_eq!(
        count(&o, "POST /sdmm/exportCustomer"),
        1,
        "one page of 48: {o}"
    );
    assert_eq!(count(&o, "POST /sdmm/importCustomer"), 0, "{o}");
    assert!(count(&o, "POST /mg/SearchTenant") <= 1, "{o}");
    let after1 = accounts(&crm);
    assert_eq!(after1.len(), before.len() + 47);
    // The matched account kept its id and now carries 奉行's name and address.
    let (id, hokkaido) = after1
        .iter()
        .find(|(_, r)| r["Account_Name"] == "㈱北海道フーズ")
        .unwrap_or_else(|| panic!("{after1:#?}"));
    assert_eq!(before[id]["Account_Name"], "北海道フーズ株式会社");
    assert_eq!(
        hokkaido["Billing_Street"], "北海道札幌市中央区大通西4-1",
        "{hokkaido}"
    );

    // Someone edits two 取引先 in 奉行 (another API user: the fixed token).
    let r: Value = Client::new()
        .post(format!("{obc}/sdmm/importCustomer"))
        .header(
            "X-OBC-SubscriptionKey",
            oc["subscription_key"].as_str().unwrap(),
        )
        .bearer_auth(oc["fixed_access_token"].as_str().unwrap())
        .header("X-OBC-TenantID", oc["tenants"][0]["id"].as_str().unwrap())
        .json(&json!({"mode": "update", "items": [
            {"code": "000004", "address1": "東京都千代田区丸の内9-9-9"},
            {"code": "000020", "tel": "03-9876-5432"}]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(r["successCount"], 2, "{r}");

    // Run 2: exactly the two changes are read and written; no other account moves.
    reset(&obc);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    let n = counts(&out);
    assert_eq!(
        (n["read"], n["created"], n["updated"], n["failed"]),
        (2, 0, 2, 0),
        "{out}"
    );
    let z = stats(&crm);
    assert_eq!(zoho_writes(&z), 1, "one batch for two updates: {z}");
    let after2 = accounts(&crm);
    let changed: Vec<&Value> = after2
        .iter()
        .filter(|(id, r)| after1.get(*id) != Some(*r))
        .map(|(_, r)| r)
        .collect();
    assert_eq!(changed.len(), 2, "{changed:#?}");
    assert!(changed
        .iter()
        .any(|r| r["Billing_Street"] == "東京都千代田区丸の内9-9-9"));
    assert!(changed.iter().any(|r| r["Phone"] == "03-9876-5432"));

    // Run 3, after 奉行クラウド expired the access token: the hub refreshes (rotating the
    // refresh token) and the run writes nothing.
    Client::new()
        .post(format!("{obc}/_sandbox/obc/expire-tokens"))
        .send()
        .unwrap();
    reset(&obc);
    reset(&crm);
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "{out}");
    let n = counts(&out);
    assert_eq!(
        (n["created"], n["updated"], n["failed"]),
        (0, 0, 0),
        "{out}"
    );
    assert!(n["read"] <= 2, "at most the overlap second again: {out}");
    let z = stats(&crm);
    assert_eq!(zoho_writes(&z), 0, "an idle run wrote to Zoho: {z}");
    assert_eq!(accounts(&crm), after2);
    let o = stats(&obc);
    assert_eq!(count(&o, "POST /oauth2/token"), 1, "one refresh: {o}");
    let (_, c) = hub.get(&format!("/api/connections/{conn}"));
    assert_eq!(c["token"]["status"], "valid", "{c}");
    assert!(c["token"]["refreshed_at"].is_string(), "{c}");
}
