//! The SDK's conformance kit and the sandbox presets, against the kintone emulator.

mod common;

use common::Env;
use connector_sdk::conformance::{assert_conformance, Suite};
use connector_sdk::{Connection, Connector, Secret};
use renkei_connector_kintone::Kintone;
use serde_json::{json, Value};

#[test]
fn kintone_conforms_on_the_customer_app() {
    let env = Env::start();
    let k = Kintone::new();
    let suite = Suite::new(&k, env.conn(0), "1", |n| {
        let mut f = connector_sdk::Fields::new();
        f.insert("会社名".into(), json!(format!("適合テスト株式会社 {n}")));
        f.insert("売上高".into(), json!(format!("{n}.5")));
        f
    })
    .match_field("会社名");
    // API tokens do not expire, so the kit's auth_expired check is reported skipped.
    assert_conformance(suite);
}

/// `{/json/pointer}` templates filled from the announcement, as `hub serve --sandbox` does.
fn fill(template: &str, announcement: &Value) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{/") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}')? + start;
        match announcement.pointer(&rest[start + 1..end])? {
            Value::String(s) => out.push_str(s),
            Value::Null => return None,
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[test]
fn every_sandbox_preset_connects() {
    let env = Env::start();
    let k = Kintone::new();
    let presets = k.manifest().sandbox;
    assert_eq!(presets.len(), 3);
    for p in presets {
        let mut conn = Connection::default();
        for (key, t) in &p.settings {
            let v = fill(t, &env.announcement).unwrap_or_else(|| panic!("{t} is announced"));
            conn.settings.insert(key.clone(), json!(v));
        }
        for (key, t) in &p.credentials {
            let v = fill(t, &env.announcement).unwrap_or_else(|| panic!("{t} is announced"));
            conn.credentials.insert(key.clone(), Secret::new(v));
        }
        let r = k
            .check(&conn)
            .unwrap_or_else(|e| panic!("{}: {e}", p.name.ja));
        assert!(r.account.contains("(API token)"), "{}", r.account);
    }
}

#[test]
fn manifest_declares_the_kintone_limits() {
    let m = Kintone::new().manifest();
    assert_eq!(m.id, "kintone");
    assert_eq!(m.auth.kind_name(), "api_token");
    assert_eq!(m.limits.read_page_size, 500);
    let q = m.limits.daily_quota.expect("daily quota");
    assert_eq!(
        (q.requests, q.per.as_str(), q.resets_at.as_deref()),
        (10_000, "app", Some("09:00+09:00"))
    );
    let keys: Vec<&str> = m.settings.iter().map(|s| s.key.as_str()).collect();
    assert!(keys.starts_with(&["base_url", "apps", "guest_space_id"]));
    let creds: Vec<&str> = m.credentials.iter().map(|s| s.key.as_str()).collect();
    assert!(creds.starts_with(&["api_token", "username", "password"]));
}
