//! Reads: request counts per page, paging past 2,000 with `page_token`, incremental reads
//! from a saved cursor, and deletions as tombstones.

use connector_sdk::{Connector, ReadRequest, WriteAction};
use renkei_connector_zoho_crm::ZohoCrm;
use serde_json::{json, Value};
use std::collections::HashSet;

use crate::common::{op, read_all, write, Emulator};

const LIST: &str = "GET /crm/v8/{module}";

fn accounts(prefix: &str, n: usize, modified: Option<&str>) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let mut r = json!({"Account_Name": format!("{prefix}{i:05}")});
            if let Some(t) = modified {
                r["Created_Time"] = json!(t);
                r["Modified_Time"] = json!(t);
            }
            r
        })
        .collect()
}

fn live_ids(records: &[connector_sdk::Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| !r.deleted)
        .map(|r| r.id.clone())
        .collect()
}

#[test]
fn a_full_read_costs_one_list_request_per_200_records() {
    let emu = Emulator::start();
    emu.insert_raw("A", "Accounts", &accounts("読取テスト", 450, None));
    let total = emu.raw("A", "Accounts").len();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    emu.reset_stats();

    let (records, cursor, _) = read_all(&c, &conn, "Accounts", None);

    let ids = live_ids(&records);
    assert_eq!(ids.len(), total, "every record once");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        total,
        "no record twice"
    );
    assert_eq!(emu.requests(LIST), total.div_ceil(200) as u64);
    let first = &records[0];
    // The version is the stamp and a digest of the content (Modified_Time alone is no revision).
    let stamp = first.modified_at.as_deref().expect("stamp");
    assert!(first
        .version
        .as_deref()
        .is_some_and(|v| v.starts_with(&format!("{stamp}@"))));
    assert!(first.fields.contains_key("Account_Name"));
    assert!(
        first.fields["Owner"].is_string(),
        "lookup value is the related id"
    );
    assert!(first.fields.contains_key("Owner.name"));
    assert!(cursor.is_some());
}

#[test]
fn paging_past_2000_records_switches_to_page_token() {
    let emu = Emulator::start();
    // All stamped in one second: only `page`, then `page_token`, can walk them.
    emu.insert_raw(
        "B",
        "Accounts",
        &accounts("大量", 2_150, Some("2025-05-01T10:00:00+09:00")),
    );
    let total = emu.raw("B", "Accounts").len();
    assert!(total > 2_000);
    let c = ZohoCrm::new();
    let conn = emu.connection("B");
    emu.reset_stats();

    let mut records = Vec::new();
    let mut cursor = None;
    let mut token_pages = 0;
    loop {
        let req = ReadRequest {
            options: Default::default(),
            object: "Accounts".into(),
            cursor: cursor.clone(),
            page_size: Some(200),
            ..Default::default()
        };
        let page = c.read(&conn, &req).unwrap();
        records.extend(page.records);
        cursor = page.next_cursor;
        let saved: Value = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
        if saved
            .pointer("/records/sweep/page_token")
            .is_some_and(Value::is_string)
        {
            token_pages += 1;
        }
        if !page.has_more {
            break;
        }
    }

    assert!(
        token_pages >= 1,
        "the read past 2,000 resumed from a page_token"
    );
    let ids: HashSet<String> = live_ids(&records).into_iter().collect();
    assert_eq!(ids.len(), total);
    assert_eq!(live_ids(&records).len(), total, "no record twice");
    assert_eq!(emu.requests(LIST), total.div_ceil(200) as u64);
}

#[test]
fn an_incremental_read_returns_only_the_changed_record() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let (records, cursor, _) = read_all(&c, &conn, "Contacts", None);
    let target = records[records.len() / 2].id.clone();

    let (again, cursor, _) = read_all(&c, &conn, "Contacts", cursor);
    assert!(again.is_empty(), "nothing changed: {again:?}");

    let mut update = op("u1", WriteAction::Update, json!({"Department": "営業部"}));
    update.id = Some(target.clone());
    let r = write(&c, &conn, "Contacts", vec![update]);
    assert_eq!(r[0].id.as_deref(), Some(target.as_str()), "{r:?}");

    let (changed, cursor, _) = read_all(&c, &conn, "Contacts", cursor);
    assert_eq!(live_ids(&changed), vec![target]);
    assert_eq!(changed[0].fields["Department"], "営業部");
    let (after, _, _) = read_all(&c, &conn, "Contacts", cursor);
    assert!(after.is_empty(), "the change is reported once: {after:?}");
}

#[test]
fn since_limits_the_first_read() {
    let emu = Emulator::start();
    emu.insert_raw(
        "A",
        "Accounts",
        &accounts("古い", 3, Some("2020-01-01T09:00:00+09:00")),
    );
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let page = c
        .read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                object: "Accounts".into(),
                cursor: None,
                since: Some("2024-01-01T00:00:00Z".into()),
                page_size: Some(200),
                fields: Some(vec!["Account_Name".into()]),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(!page.records.is_empty());
    for r in &page.records {
        let name = r.fields["Account_Name"].as_str().unwrap();
        assert!(!name.starts_with("古い"), "{name} is older than since");
        assert!(!r.fields.contains_key("Phone"), "only the asked fields");
    }
}

#[test]
fn deleted_records_come_back_as_tombstones() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let (records, cursor, _) = read_all(&c, &conn, "Leads", None);
    let victim = records[0].id.clone();

    let mut del = op("d1", WriteAction::Delete, json!({}));
    del.id = Some(victim.clone());
    let r = write(&c, &conn, "Leads", vec![del]);
    assert_eq!(r[0].outcome, connector_sdk::WriteOutcome::Deleted, "{r:?}");

    let (after, _, _) = read_all(&c, &conn, "Leads", cursor);
    let gone: Vec<_> = after.iter().filter(|r| r.deleted).collect();
    assert_eq!(gone.len(), 1, "{after:?}");
    assert_eq!(gone[0].id, victim);
    assert!(live_ids(&after).is_empty());
}

#[test]
fn a_saved_page_token_that_expired_restarts_from_the_watermark() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let total = emu.raw("A", "Accounts").len();
    // A cursor saved mid-listing whose page_token the server no longer knows.
    let stale = json!({"v": 1, "phase": "records",
        "records": {"mark": null, "mark_ids": [],
                    "sweep": {"since": null, "per_page": 200, "page": 1, "page_token": "expired-token",
                              "top": null, "top_ids": []}},
        "deleted": {"mark": "2025-01-01T00:00:00+09:00", "mark_ids": [], "sweep": null}});

    emu.reset_stats();

    let (records, _, _) = read_all(&c, &conn, "Accounts", Some(stale.to_string()));

    assert_eq!(live_ids(&records).len(), total);
    assert_eq!(
        emu.requests(LIST),
        2,
        "the refused token, then a fresh listing"
    );
}
