//! A full run through the real hub, plugins and sandbox — the seed scenario "keep two Zoho CRM
//! orgs in step" (two-way, Accounts ⇄ Accounts, matched by company name in its many forms) —
//! and then the secret check: no client secret or refresh token is found in the database files
//! or in the hub's log (its announcement line carries the sandbox's demo credentials by contract).

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

fn run_and_wait(hub: &TestHub, flow: &str) -> Value {
    let (s, body) = hub.post(&format!("/api/flows/{flow}/run"), &json!({}));
    assert_eq!(s, 202, "{body}");
    let run = body["run_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (_, r) = hub.get(&format!("/api/runs/{run}"));
        if !matches!(r["status"].as_str(), Some("queued" | "running")) {
            return r;
        }
        assert!(Instant::now() < deadline, "run did not finish: {r}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn accounts(crm: &str, org: &str) -> Vec<Value> {
    let v: Value = Client::new()
        .get(format!(
            "{crm}/_sandbox/zoho/orgs/{org}/modules/Accounts/records"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v.get("data")
        .or(Some(&v))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[test]
fn two_orgs_sync_both_ways_and_no_secret_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-zoho-crm"]);
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "1")],
    );
    let a = hub.announcement();
    let crm = a["zoho_crm"].as_str().unwrap().to_string();
    let (_, conns) = hub.get("/api/connections");
    let conns: Vec<Value> = conns
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["connector"] == "zoho-crm")
        .cloned()
        .collect();
    assert_eq!(conns.len(), 2, "one sandbox connection per org: {conns:?}");
    let (org_a, org_b) = (
        conns[0]["id"].as_str().unwrap(),
        conns[1]["id"].as_str().unwrap(),
    );

    let mapping: Vec<Value> = [
        "Account_Name",
        "Phone",
        "Website",
        "Billing_State",
        "Billing_City",
        "Billing_Street",
    ]
    .iter()
    .map(|f| json!({"from": f, "to": f}))
    .collect();
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "Zoho 本社 ⇄ Zoho 販売 取引先", "direction": "two_way", "conflict": "newest_wins",
                "source": {"connection": org_a, "object": "Accounts"}, "target": {"connection": org_b, "object": "Accounts"},
                "mapping": mapping, "match_keys": [{"source": "Account_Name", "target": "Account_Name", "normalize": "company_name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();

    let first = run_and_wait(&hub, &flow);
    assert_eq!(first["status"], "success", "{first}");
    assert!(first["counts"]["created"].as_i64().unwrap() > 0, "{first}");
    let names = |org: &str| -> BTreeSet<String> {
        accounts(&crm, org)
            .iter()
            .filter_map(|r| r["Account_Name"].as_str().map(String::from))
            .collect()
    };
    let (na, nb) = (names("A"), names("B"));
    assert_eq!(
        na.len(),
        accounts(&crm, "A").len(),
        "org A has duplicate names after the sync"
    );
    assert_eq!(na, nb, "the two orgs differ after a two-way sync");

    // Idle: nothing is written back (no echo).
    let idle = run_and_wait(&hub, &flow);
    assert_eq!(
        (
            idle["status"].as_str(),
            idle["counts"]["created"].as_i64(),
            idle["counts"]["updated"].as_i64()
        ),
        (Some("success"), Some(0), Some(0)),
        "{idle}"
    );

    // A user edits a company's phone in org B: it reaches org A.
    let token: Value = Client::new()
        .post(format!(
            "{}/_sandbox/zoho/tokens",
            a["zoho_accounts"].as_str().unwrap()
        ))
        .json(&json!({"org": "B"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let access = token["access_token"].as_str().unwrap().to_string();
    let target = accounts(&crm, "B").into_iter().next().unwrap();
    let r = Client::new()
        .put(format!("{crm}/crm/v8/Accounts"))
        .header("Authorization", format!("Zoho-oauthtoken {access}"))
        .json(&json!({"data": [{"id": target["id"], "Phone": "03-5555-0101"}]}))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let edit = run_and_wait(&hub, &flow);
    assert_eq!(
        (edit["status"].as_str(), edit["counts"]["updated"].as_i64()),
        (Some("success"), Some(1)),
        "{edit}"
    );
    let name = target["Account_Name"].as_str().unwrap();
    assert!(
        accounts(&crm, "A")
            .iter()
            .any(|r| r["Account_Name"] == name && r["Phone"] == "03-5555-0101"),
        "the edit did not reach org A"
    );

    // No secret in the database files or the log.
    let logs = hub.stop();
    let mut secrets = Vec::new();
    for org in a["credentials"]["zoho"]["orgs"].as_array().unwrap() {
        for k in ["client_secret", "refresh_token"] {
            secrets.push(org[k].as_str().unwrap().to_string());
        }
    }
    assert!(secrets.iter().all(|s| s.len() >= 8));
    for line in logs.lines().filter(|l| !l.starts_with('{')) {
        for s in &secrets {
            assert!(!line.contains(s.as_str()), "a secret is in the log: {line}");
        }
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "a secret is stored in plaintext in {}",
                path.display()
            );
        }
    }
}
