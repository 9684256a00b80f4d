//! Reads against the emulator's seeded mail file: private entries flagged, the events window,
//! incremental reads from a saved cursor, and DAS switched off.

mod common;

use common::{read_all, text, Env};
use connector_sdk::{Connector, ErrorKind, ReadRequest, Record};
use renkei_connector_notes::Notes;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;

fn by<'a>(records: &'a [Record], field: &str, value: &str) -> Option<&'a Record> {
    records.iter().find(|r| text(r, field) == value)
}

#[test]
fn private_entries_come_back_flagged_and_hidden_ones_not_at_all() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();

    let (contacts, _, pages) = read_all(&n, &conn, "contacts", None, 5);
    assert!(pages >= 3, "12+ contacts in pages of 5: {pages}");
    let flag = |last: &str| by(&contacts, "LastName", last).map(|r| r.private);
    assert_eq!(flag("山田"), Some(false));
    assert_eq!(flag("加藤"), Some(true), "OrgConfidential = 1");
    assert_eq!(flag("山本"), Some(true), "a Readers item naming the owner");
    assert_eq!(
        flag("松本"),
        None,
        "Readers without the owner: not readable at all"
    );
    let yamada = by(&contacts, "LastName", "山田").unwrap();
    assert_eq!(text(yamada, "CompanyName"), "株式会社サンプル");
    assert_eq!(text(yamada, "OfficeCity"), "新宿区");
    assert!(yamada.version.as_deref().is_some_and(|v| v.ends_with('Z')));

    let (todos, _, _) = read_all(&n, &conn, "todos", None, 50);
    let flag = |s: &str| by(&todos, "Subject", s).map(|r| r.private);
    assert_eq!(flag("株式会社サンプル 見積書を送付"), Some(false));
    assert_eq!(flag("健康診断の予約"), Some(true));
    assert_eq!(flag("人事評価シートの提出"), Some(true));
    let quote = by(&todos, "Subject", "株式会社サンプル 見積書を送付").unwrap();
    assert!(
        text(quote, "Body").contains("値引き条件"),
        "rich text as plain text"
    );
    assert!(text(quote, "DueDateTime").ends_with("T17:00:00+09:00"));
    assert_eq!(text(quote, "Importance"), "1");

    let (events, _, _) = read_all(&n, &conn, "events", None, 50);
    let flag = |s: &str| by(&events, "summary", s).map(|r| r.private);
    assert_eq!(flag("定例会議"), Some(false));
    assert_eq!(flag("歯医者"), Some(true), "class private");
    assert_eq!(flag("人事面談"), Some(true), "class confidential");
    assert_eq!(flag("休暇"), Some(true));
    assert_eq!(
        flag("役員報酬の検討"),
        Some(true),
        "Readers on the entry's document"
    );
    let expo = by(&events, "summary", "展示会（東京ビッグサイト）").unwrap();
    assert_eq!(expo.fields["all_day"], json!(true));
    let meeting = by(&events, "summary", "定例会議").unwrap();
    assert_eq!(meeting.fields["all_day"], json!(false));
    assert!(text(meeting, "attendees").contains("n.yoshida@sample.example.jp"));
}

fn summaries(records: &[Record]) -> BTreeSet<String> {
    records.iter().map(|r| text(r, "summary")).collect()
}

#[test]
fn the_events_window_chooses_the_calendar_range() {
    let env = Env::start();
    let n = Notes::new();
    let (today, today_cursor, _) = read_all(&n, &env.conn_with("today"), "events", None, 50);
    assert_eq!(
        summaries(&today),
        ["朝会", "歯医者"].map(String::from).into()
    );
    let (month, _, _) = read_all(&n, &env.conn_with("past_month"), "events", None, 50);
    let month = summaries(&month);
    for s in [
        "定例会議",
        "株式会社サンプル 打ち合わせ",
        "展示会（東京ビッグサイト）",
        "朝会",
    ] {
        assert!(month.contains(s), "{s} is in the past month: {month:?}");
    }
    for s in ["(株)テスト商事 来社", "経営会議"] {
        assert!(!month.contains(s), "{s} is ahead: {month:?}");
    }
    let (all, _, _) = read_all(&n, &env.conn_with("all"), "events", None, 50);
    assert!(summaries(&all).contains("経営会議"));
    assert!(all.len() > month.len());

    // The window grew (as "today" moves on): what entered it is reported although unchanged;
    // what the last sweep already covered and did not change is not.
    let (entered, _, _) = read_all(&n, &env.conn_with("past_month"), "events", today_cursor, 50);
    let entered = summaries(&entered);
    assert!(entered.contains("定例会議"), "{entered:?}");
    assert!(!entered.contains("朝会"), "{entered:?}");

    let mut bad = env.conn();
    bad.settings
        .insert("events_window".into(), json!("next_week"));
    let e = n
        .read(
            &bad,
            &ReadRequest {
                options: Default::default(),
                object: "events".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidSettings, Some("events_window"))
    );
}

#[test]
fn a_flow_s_read_option_overrides_the_connection_s_window() {
    let env = Env::start();
    let n = Notes::new();
    let schema = n
        .objects(&env.conn())
        .unwrap()
        .into_iter()
        .find(|o| o.id == "events")
        .unwrap();
    assert_eq!(
        schema
            .read_options
            .iter()
            .map(|o| o.key.as_str())
            .collect::<Vec<_>>(),
        ["events_window"]
    );
    let read = |window: &str| -> Result<Vec<Record>, connector_sdk::ConnectorError> {
        let mut req = ReadRequest {
            object: "events".into(),
            page_size: Some(50),
            ..Default::default()
        };
        req.options.insert("events_window".into(), window.into());
        let mut out = Vec::new();
        loop {
            let p = n.read(&env.conn_with("all"), &req)?;
            out.extend(p.records);
            if !p.has_more {
                return Ok(out);
            }
            req.cursor = p.next_cursor.or(req.cursor);
        }
    };
    let today = read("today").unwrap();
    assert_eq!(
        summaries(&today),
        ["朝会", "歯医者"].map(String::from).into()
    );
    let e = read("next_week").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("events_window"));
}

#[test]
fn a_saved_cursor_returns_only_what_changed_since() {
    let env = Env::start();
    let n = Notes::new();
    let conn = env.conn();
    let (first, cursor, _) = read_all(&n, &conn, "contacts", None, 50);
    let sato = by(&first, "LastName", "佐藤").unwrap().id.clone();

    // Idle: nothing to report. The first read after the sweep looks at the other documents
    // changed since (their form only); from then on it is one listing and nothing else.
    let (idle, cursor, _) = read_all(&n, &conn, "contacts", cursor, 50);
    assert!(idle.is_empty(), "{idle:?}");
    env.reset_stats();
    let (idle, cursor, _) = read_all(&n, &conn, "contacts", cursor, 50);
    assert!(idle.is_empty(), "{idle:?}");
    let stats = env.stats();
    assert_eq!(stats["total"], json!(1), "one listing of changes: {stats}");

    // A Notes user edits one contact and adds another; a to-do changes too.
    env.edit(&sato, json!({"JobTitle": "総務部 部長"}));
    let (s, _) = env.das(
        Method::POST,
        "/api/data/documents?form=Person",
        Some(json!({"LastName": "新規", "FirstName": "太郎", "MailAddress": "shinki@example.jp"})),
    );
    assert_eq!(s, 201);
    let (todos, _, _) = read_all(&n, &conn, "todos", None, 50);
    env.edit(&todos[0].id, json!({"Importance": "3"}));

    let (changed, cursor, _) = read_all(&n, &conn, "contacts", cursor, 50);
    let names: BTreeSet<String> = changed.iter().map(|r| text(r, "LastName")).collect();
    assert_eq!(names, ["佐藤", "新規"].map(String::from).into());
    assert_eq!(
        text(by(&changed, "LastName", "佐藤").unwrap(), "JobTitle"),
        "総務部 部長"
    );
    let (again, _, _) = read_all(&n, &conn, "contacts", cursor, 50);
    assert!(again.is_empty(), "{again:?}");

    let e = n
        .read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                object: "todos".into(),
                cursor: Some(changed_cursor_of(&n, &conn)),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "bad_cursor");
}

/// A contacts cursor (refused for another object).
fn changed_cursor_of(n: &Notes, conn: &connector_sdk::Connection) -> String {
    n.read(
        conn,
        &ReadRequest {
            options: Default::default(),
            object: "contacts".into(),
            page_size: Some(1),
            ..Default::default()
        },
    )
    .unwrap()
    .next_cursor
    .unwrap()
}

#[test]
fn das_switched_off_or_a_wrong_database_is_named() {
    let env = Env::start();
    let n = Notes::new();
    let mut wrong = env.conn();
    wrong
        .settings
        .insert("database".into(), json!("mail/nobody.nsf"));
    let e = n.check(&wrong).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidSettings, Some("database"))
    );

    let s = env.control(
        Method::PUT,
        "/_sandbox/domino/access",
        json!({"database": env.database, "views": {"($Contacts)": false}}),
    );
    assert_eq!(s, 200);
    let e = n
        .read(
            &env.conn(),
            &ReadRequest {
                options: Default::default(),
                object: "contacts".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert!(e.message_ja.unwrap().contains("ビュー"), "{}", e.message);

    let s = env.control(
        Method::PUT,
        "/_sandbox/domino/access",
        json!({"database": env.database, "allow": 0}),
    );
    assert_eq!(s, 200);
    let e = n.check(&env.conn()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert!(e.message.contains("mail database"), "{}", e.message);
}
