//! The hub's OAuth against the Zoho sandbox: authorization code with a checked state, the
//! connector reaching the CRM with the access token, refresh after the provider expired the
//! token (single-flight when many calls see it at once), and a revoked grant turning the
//! connection to "re-authorize" until a new sign-in.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::HashMap;
use support::{plugin_dir, TestHub};

fn token_calls(accounts: &str) -> u64 {
    let stats: Value = reqwest::blocking::get(format!("{accounts}/_sandbox/stats"))
        .unwrap()
        .json()
        .unwrap();
    stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("POST /oauth/v2/token"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum()
}

/// Signs in through the consent page like a browser; answers (state, code).
fn consent(authorize_url: &str, org: &Value, accounts: &str) -> (String, String) {
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = browser.get(authorize_url).send().unwrap().text().unwrap();
    assert!(page.contains("承認する"), "{page}");
    let rid = page
        .split("name=\"request_id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let r = browser
        .post(format!("{accounts}/oauth/v2/auth"))
        .form(&[
            ("request_id", rid.as_str()),
            ("email", org["user"]["email"].as_str().unwrap()),
            ("password", org["user"]["password"].as_str().unwrap()),
            ("decision", "allow"),
        ])
        .send()
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let q: HashMap<String, String> = url_query(&location);
    (q["state"].clone(), q["code"].clone())
}

fn url_query(u: &str) -> HashMap<String, String> {
    let parsed = reqwest::Url::parse(u).unwrap();
    parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn authorization_code_refresh_single_flight_and_reauthorize() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-zoho-crm"]);
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "0")],
    );
    let a = hub.announcement();
    let accounts = a["zoho_accounts"].as_str().unwrap().to_string();
    let org = a["credentials"]["zoho"]["orgs"][0].clone();

    // A connection with client credentials only: it needs the consent step.
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "zoho-crm", "name": "Zoho 本社 (OAuth test)", "registration_number": "TEST-0002", "phone": "03-0000-0000",
                "settings": {"accounts_url": accounts, "api_domain": a["zoho_crm"]},
                "credentials": {"client_id": org["client_id"], "client_secret": org["client_secret"]}}),
    );
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["token"]["status"], "none");

    let (s, auth) = hub.post(
        &format!("/api/connections/{id}/authorize"),
        &json!({"redirect_uri": "http://127.0.0.1:9/cb"}),
    );
    assert_eq!(s, 200, "{auth}");
    let (state, code) = consent(auth["authorize_url"].as_str().unwrap(), &org, &accounts);
    // A forged state is refused; the real one is accepted once.
    let (s, body) = hub.post(
        "/api/oauth/complete",
        &json!({"state": "forged", "code": code}),
    );
    assert_eq!(
        (s, body["error"]["field"].as_str()),
        (400, Some("state")),
        "{body}"
    );
    let (s, body) = hub.post(
        "/api/oauth/complete",
        &json!({"state": state, "code": code}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["token"]["status"], "valid");
    let (s, body) = hub.post(
        "/api/oauth/complete",
        &json!({"state": state, "code": code}),
    );
    assert_eq!(s, 400, "a state is single-use: {body}");

    let (_, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(check["ok"], true, "{check}");

    // The provider expires the token; five checks at once make exactly one refresh.
    reqwest::blocking::Client::new()
        .post(format!("{accounts}/_sandbox/zoho/expire-tokens"))
        .send()
        .unwrap();
    let before = token_calls(&accounts);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..5)
            .map(|_| s.spawn(|| hub.post(&format!("/api/connections/{id}/check"), &json!({}))))
            .collect();
        for h in handles {
            let (status, check) = h.join().unwrap();
            assert_eq!(status, 200);
            assert_eq!(check["ok"], true, "{check}");
        }
    });
    assert_eq!(
        token_calls(&accounts) - before,
        1,
        "the refresh was not single-flight"
    );
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["token"]["status"], "valid");
    assert!(c["token"]["refreshed_at"].is_string());

    // 連携トークンの更新 on demand.
    let (s, t) = hub.post(&format!("/api/connections/{id}/token/refresh"), &json!({}));
    assert_eq!((s, t["status"].as_str()), (200, Some("valid")), "{t}");

    // The grant is revoked: refresh fails, the connection needs a person (再認証が必要).
    let http = reqwest::blocking::Client::new();
    http.post(format!("{accounts}/_sandbox/zoho/revoke"))
        .send()
        .unwrap();
    http.post(format!("{accounts}/_sandbox/zoho/expire-tokens"))
        .send()
        .unwrap();
    let (_, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(check["error"]["kind"], "auth_failed", "{check}");
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["status"], "reauthorize");
    assert_eq!(c["token"]["status"], "reauthorize");

    // Signing in again gives it new tokens: 未確認 (unchecked) until checked, then ok.
    let (_, auth) = hub.post(
        &format!("/api/connections/{id}/authorize"),
        &json!({"redirect_uri": "http://127.0.0.1:9/cb"}),
    );
    let (state, code) = consent(auth["authorize_url"].as_str().unwrap(), &org, &accounts);
    let (s, body) = hub.post(
        "/api/oauth/complete",
        &json!({"state": state, "code": code}),
    );
    assert_eq!(s, 200, "{body}");
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(
        (c["status"].as_str(), c["token"]["status"].as_str()),
        (Some("unchecked"), Some("valid"))
    );
    let (_, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(check["ok"], true, "{check}");
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["status"], "ok", "{c}");
    assert!(c["status_detail"]["checked_at"].is_string(), "{c}");
    let logs = hub.stop();
    for secret in [org["client_secret"].as_str().unwrap(), code.as_str()] {
        assert!(
            !logs
                .lines()
                .filter(|l| !l.starts_with('{'))
                .any(|l| l.contains(secret)),
            "a secret reached the logs"
        );
    }
}
