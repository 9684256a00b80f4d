//! Writes against the emulator: documents and events created, updated (unchanged ones left
//! alone) and deleted; stale versions as `conflict` (412); and the change_password action.

mod common;

use common::{fields, op, read_all, text, write, Env};
use connector_sdk::{Connector, ErrorKind, MatchKey, WriteAction, WriteOutcome};
use renkei_connector_notes::Notes;
use reqwest::Method;
use serde_json::json;

#[test]
fn documents_are_created_updated_and_deleted() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();
    let r = write(
        &n,
        &conn,
        "contacts",
        vec![op(
            "c",
            WriteAction::Create,
            None,
            fields(&[
                ("LastName", json!("新井")),
                ("FirstName", json!("和子")),
                ("MailAddress", json!("k.arai@example.jp")),
                ("OfficePhoneNumber", json!("03-1111-2222")),
            ]),
        )],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Created, "{r:?}");
    let id = r[0].id.clone().unwrap();
    let doc = env.document(&id);
    assert_eq!(doc["@form"], "Person");
    assert_eq!(doc["FullName"], "新井 和子", "the form computed its items");
    assert_eq!(r[0].version.as_deref(), doc["@modified"].as_str());

    // By match key: the same values are left alone, a change is a PATCH of that item only.
    let mut same = op(
        "s",
        WriteAction::Upsert,
        None,
        fields(&[("OfficePhoneNumber", json!("03-1111-2222"))]),
    );
    same.match_key = Some(MatchKey {
        field: "MailAddress".into(),
        value: json!("k.arai@example.jp"),
    });
    let r = write(&n, &conn, "contacts", vec![same.clone()]);
    assert_eq!(
        (r[0].outcome, r[0].id.as_deref()),
        (WriteOutcome::Unchanged, Some(id.as_str()))
    );
    same.fields = fields(&[("JobTitle", json!("主任")), ("Comment", json!(null))]);
    let r = write(&n, &conn, "contacts", vec![same]);
    assert_eq!(r[0].outcome, WriteOutcome::Updated, "{r:?}");
    let doc = env.document(&id);
    assert_eq!(
        (doc["JobTitle"].as_str(), doc["OfficePhoneNumber"].as_str()),
        (Some("主任"), Some("03-1111-2222"))
    );

    // Per-record refusals name the field; the others in the batch still happen.
    let r = write(
        &n,
        &conn,
        "todos",
        vec![
            op(
                "bad",
                WriteAction::Create,
                None,
                fields(&[("Importance", json!("High"))]),
            ),
            op(
                "missing",
                WriteAction::Create,
                None,
                fields(&[("Body", json!("x"))]),
            ),
            op(
                "ok",
                WriteAction::Create,
                None,
                fields(&[
                    ("Subject", json!("電話を折り返す")),
                    ("DueDateTime", json!("2025-05-01")),
                ]),
            ),
        ],
    );
    let e = r[0].error.as_ref().unwrap();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidData, Some("Importance"))
    );
    assert_eq!(
        r[1].error.as_ref().unwrap().field.as_deref(),
        Some("Subject")
    );
    assert_eq!(r[2].outcome, WriteOutcome::Created);
    let todo = env.document(r[2].id.as_deref().unwrap());
    assert_eq!(
        todo["DueDateTime"], "2025-04-30T15:00:00Z",
        "a local date is local midnight"
    );

    let r = write(
        &n,
        &conn,
        "contacts",
        vec![op("d", WriteAction::Delete, Some(&id), fields(&[]))],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Deleted);
    let (s, _) = env.das(Method::GET, &format!("/api/data/documents/unid/{id}"), None);
    assert_eq!(s, 404);
    let r = write(
        &n,
        &conn,
        "contacts",
        vec![op(
            "u",
            WriteAction::Update,
            Some(&id),
            fields(&[("JobTitle", json!("x"))]),
        )],
    );
    assert_eq!(
        r[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::NotFound)
    );
}

#[test]
fn a_stale_expected_version_is_a_conflict() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();
    let (contacts, _, _) = read_all(&n, &conn, "contacts", None, 50);
    let rec = contacts
        .iter()
        .find(|r| text(r, "LastName") == "吉田")
        .unwrap();
    let seen = rec.version.clone().unwrap();

    // Someone edits the contact in Notes after the hub read it.
    env.touch(&rec.id);
    let mut update = op(
        "u",
        WriteAction::Update,
        Some(&rec.id),
        fields(&[("JobTitle", json!("課長"))]),
    );
    update.expected_version = Some(seen.clone());
    let r = write(&n, &conn, "contacts", vec![update.clone()]);
    assert_eq!(r[0].outcome, WriteOutcome::Conflict, "{r:?}");
    assert_eq!(
        r[0].error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Conflict)
    );
    assert_eq!(
        env.document(&rec.id)["JobTitle"],
        "営業部",
        "nothing written"
    );

    // The server's own check: DELETE with the stale If-Unmodified-Since answers 412.
    let mut delete = op("d", WriteAction::Delete, Some(&rec.id), fields(&[]));
    delete.expected_version = Some(seen);
    let r = write(&n, &conn, "contacts", vec![delete]);
    assert_eq!(r[0].outcome, WriteOutcome::Conflict, "{r:?}");
    assert_eq!(
        r[0].error.as_ref().map(|e| e.code.as_str()),
        Some("HTTP_412")
    );

    // With the current version the write goes through and answers the new one.
    let current = env.document(&rec.id)["@modified"]
        .as_str()
        .unwrap()
        .to_string();
    update.expected_version = Some(current);
    let r = write(&n, &conn, "contacts", vec![update]);
    assert_eq!(r[0].outcome, WriteOutcome::Updated, "{r:?}");
    assert_eq!(
        r[0].version.as_deref(),
        env.document(&rec.id)["@modified"].as_str()
    );

    // A delete that races another user's edit (409) is a conflict too.
    let s = env.control(
        Method::POST,
        "/_sandbox/domino/delete-conflict",
        json!({"count": 1}),
    );
    assert_eq!(s, 200);
    let r = write(
        &n,
        &conn,
        "contacts",
        vec![op("d2", WriteAction::Delete, Some(&rec.id), fields(&[]))],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Conflict, "{r:?}");
}

#[test]
fn events_keep_what_the_fields_do_not_name() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();
    let r = write(
        &n,
        &conn,
        "events",
        vec![op(
            "c",
            WriteAction::Create,
            None,
            fields(&[
                ("summary", json!("見積説明")),
                ("start", json!("2025-06-02T10:00:00+09:00")),
                ("end", json!("2025-06-02T11:30:00+09:00")),
                ("location", json!("本社 2F")),
            ]),
        )],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Created, "{r:?}");
    let id = r[0].id.clone().unwrap();
    let (_, v) = env.das(Method::GET, &format!("/api/calendar/events/{id}"), None);
    let ev = &v["events"][0];
    assert_eq!(
        ev["start"],
        json!({"date": "2025-06-02", "time": "10:00:00", "tzid": "Asia/Tokyo"})
    );
    assert_eq!(r[0].version.as_deref(), ev["last-modified"].as_str());

    // A private entry stays private when the hub changes its title.
    let (events, _, _) = read_all(&n, &conn, "events", None, 50);
    let dentist = events
        .iter()
        .find(|r| text(r, "summary") == "歯医者")
        .unwrap();
    let mut rename = op(
        "u",
        WriteAction::Update,
        Some(&dentist.id),
        fields(&[("summary", json!("歯科検診"))]),
    );
    rename.expected_version = dentist.version.clone();
    let r = write(&n, &conn, "events", vec![rename.clone()]);
    assert_eq!(r[0].outcome, WriteOutcome::Updated, "{r:?}");
    let (_, v) = env.das(
        Method::GET,
        &format!("/api/calendar/events/{}", dentist.id),
        None,
    );
    assert_eq!(
        (
            v["events"][0]["summary"].as_str(),
            v["events"][0]["class"].as_str()
        ),
        (Some("歯科検診"), Some("private"))
    );
    let r = write(&n, &conn, "events", vec![rename.clone()]);
    assert_eq!(
        r[0].outcome,
        WriteOutcome::Conflict,
        "the version moved with the first update: {r:?}"
    );
    rename.expected_version = None;
    let r = write(&n, &conn, "events", vec![rename]);
    assert_eq!(r[0].outcome, WriteOutcome::Unchanged, "{r:?}");

    let r = write(
        &n,
        &conn,
        "events",
        vec![op(
            "x",
            WriteAction::Update,
            Some(&id),
            fields(&[("organizer", json!("a@b"))]),
        )],
    );
    assert_eq!(
        r[0].error.as_ref().and_then(|e| e.field.as_deref()),
        Some("organizer")
    );
    let r = write(
        &n,
        &conn,
        "events",
        vec![op("d", WriteAction::Delete, Some(&id), fields(&[]))],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Deleted);
    let (s, _) = env.das(Method::GET, &format!("/api/calendar/events/{id}"), None);
    assert_eq!(s, 404);
}

#[test]
fn change_password_checks_the_new_password_before_handing_it_over() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();
    n.check(&conn).expect("the announced password works");

    // The user changes the Internet password in Domino: the stored one stops working.
    let s = env.control(
        Method::PUT,
        &format!("/_sandbox/domino/users/{}/password", env.user),
        json!({"password": "new-Notes-pass-2"}),
    );
    assert_eq!(s, 204);
    let e = n.check(&conn).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::AuthFailed, Some("password"))
    );
    assert!(e.message_ja.as_deref().unwrap().contains("パスワード変更"));

    let e = n
        .action(&conn, "change_password", &json!({"new_password": "a-typo"}))
        .unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::AuthFailed, Some("new_password"))
    );
    assert!(!e.message.contains("a-typo"));
    let e = n.action(&conn, "change_password", &json!({})).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidData);

    let out = n
        .action(
            &conn,
            "change_password",
            &json!({"new_password": "new-Notes-pass-2"}),
        )
        .unwrap();
    assert_eq!(out["changed"], json!(true));
    assert_eq!(
        out["store_credentials"],
        json!({"password": "new-Notes-pass-2"})
    );
    assert!(out["message"]["ja"].is_string());

    let mut updated = conn.clone();
    updated.credentials.insert(
        "password".into(),
        connector_sdk::Secret::new("new-Notes-pass-2"),
    );
    n.check(&updated).expect("the new password works");
    assert_eq!(
        n.action(&conn, "no_such", &json!({})).unwrap_err().kind,
        ErrorKind::Unsupported
    );
}
