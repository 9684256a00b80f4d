//! The SDK's conformance kit on the three objects of the emulator's mail file, and the
//! sandbox preset.

mod common;

use common::Env;
use connector_sdk::conformance::{assert_conformance, Outcome, Report, Suite, AUTH_EXPIRED};
use connector_sdk::{Connection, Connector, Fields, Secret};
use renkei_connector_notes::Notes;
use reqwest::Method;
use serde_json::{json, Value};

/// Every check ran and passed, except `auth_expired`: passwords do not expire.
fn insist(report: Report) {
    eprintln!("{report}");
    for c in &report.checks {
        if c.name != AUTH_EXPIRED {
            assert_eq!(c.outcome, Outcome::Passed, "{}: {report}", c.name);
        }
    }
}

/// Marks documents private as a Notes user does ("Mark Private").
fn mark_private_docs(env: &Env, ids: &[String]) -> Result<(), String> {
    for id in ids {
        let (s, v) = env.das(
            Method::PATCH,
            &format!("/api/data/documents/unid/{id}"),
            Some(json!({"OrgConfidential": "1"})),
        );
        if s != 200 {
            return Err(format!("PATCH {id}: {s} {v}"));
        }
    }
    Ok(())
}

#[test]
fn contacts_conform() {
    let env = Env::start();
    let n = Notes::new();
    let suite = Suite::new(&n, env.conn(), "contacts", |i| {
        let mut f = Fields::new();
        f.insert("LastName".into(), json!(format!("適合{i}")));
        f.insert("FirstName".into(), json!("テスト"));
        f.insert(
            "MailAddress".into(),
            json!(format!("conformance{i}@example.jp")),
        );
        f
    })
    .match_field("MailAddress")
    .mark_private(|_, ids| mark_private_docs(&env, ids));
    insist(assert_conformance(suite));
}

#[test]
fn todos_conform() {
    let env = Env::start();
    let n = Notes::new();
    let suite = Suite::new(&n, env.conn(), "todos", |i| {
        let mut f = Fields::new();
        f.insert("Subject".into(), json!(format!("適合テストのToDo {i}")));
        f.insert("DueDateTime".into(), json!("2025-05-01T17:00:00+09:00"));
        f.insert("Importance".into(), json!("2"));
        f
    })
    .match_field("Subject")
    .mark_private(|_, ids| mark_private_docs(&env, ids));
    insist(assert_conformance(suite));
}

#[test]
fn events_conform() {
    let env = Env::start();
    let n = Notes::new();
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let suite = Suite::new(&n, env.conn(), "events", |i| {
        let mut f = Fields::new();
        f.insert("summary".into(), json!(format!("適合テストの予定 {i}")));
        f.insert("start".into(), json!(format!("{tomorrow}T10:00:00+09:00")));
        f.insert("end".into(), json!(format!("{tomorrow}T11:00:00+09:00")));
        f
    })
    .match_field("summary")
    .mark_private(|_, ids| {
        // The calendar's own way: the event's class.
        for id in ids {
            let (s, v) = env.das(Method::GET, &format!("/api/calendar/events/{id}"), None);
            if s != 200 {
                return Err(format!("GET {id}: {s}"));
            }
            let mut ev = v["events"][0].clone();
            ev["class"] = json!("private");
            let (s, v) = env.das(
                Method::PUT,
                &format!("/api/calendar/events/{id}"),
                Some(json!({"events": [ev]})),
            );
            if s != 200 {
                return Err(format!("PUT {id}: {s} {v}"));
            }
        }
        Ok(())
    });
    insist(assert_conformance(suite));
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
fn the_sandbox_preset_connects_and_lists_the_objects() {
    let env = Env::start();
    let n = Notes::new();
    let presets = n.manifest().sandbox;
    assert_eq!(presets.len(), 1);
    let p = &presets[0];
    let mut conn = Connection::default();
    for (key, t) in &p.settings {
        let v = fill(t, &env.announcement).unwrap_or_else(|| panic!("{t} is announced"));
        conn.settings.insert(key.clone(), json!(v));
    }
    for (key, t) in &p.credentials {
        let v = fill(t, &env.announcement).unwrap_or_else(|| panic!("{t} is announced"));
        conn.credentials.insert(key.clone(), Secret::new(v));
    }
    let r = n
        .check(&conn)
        .unwrap_or_else(|e| panic!("{}: {e}", p.name.ja));
    assert!(
        r.account.contains("mail/tyamada.nsf") && r.account.contains("tyamada"),
        "{}",
        r.account
    );
    assert!(!r.account.contains(&env.password));
    let ids: Vec<String> = n
        .objects(&conn)
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, ["contacts", "todos", "events"]);
}
