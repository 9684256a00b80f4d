//! Writes: batches of 100, upsert by a unique field, update-only by match key, and per-record
//! errors mapped with the field and both languages.

use connector_sdk::{ErrorKind, MatchKey, WriteAction, WriteOutcome};
use renkei_connector_zoho_crm::ZohoCrm;
use serde_json::json;

use crate::common::{op, write, Emulator};

#[test]
fn creates_go_out_100_per_call() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let before = emu.raw("A", "Contacts").len();
    let ops = (0..250)
        .map(|i| {
            op(
                &format!("c{i}"),
                WriteAction::Create,
                json!({"Last_Name": format!("一括{i}"), "First_Name": "太郎"}),
            )
        })
        .collect();
    emu.reset_stats();

    let results = write(&c, &conn, "Contacts", ops);

    assert_eq!(results.len(), 250);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r.op_id, format!("c{i}"), "results in op order");
        assert_eq!(r.outcome, WriteOutcome::Created, "{r:?}");
        assert!(r.id.is_some() && r.modified_at.is_some());
        assert!(
            r.version.is_none(),
            "a write's answer carries no content to version"
        );
    }
    assert_eq!(emu.requests("POST /crm/v8/{module}"), 3);
    assert_eq!(emu.raw("A", "Contacts").len(), before + 250);
}

fn upsert_by_name(name: &str, phone: &str) -> connector_sdk::WriteOp {
    let mut o = op("up", WriteAction::Upsert, json!({"Phone": phone}));
    o.match_key = Some(MatchKey {
        field: "Account_Name".into(),
        value: json!(name),
    });
    o
}

#[test]
fn upsert_by_account_name_is_idempotent() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("B");
    let before = emu.raw("B", "Accounts").len();

    let first = write(
        &c,
        &conn,
        "Accounts",
        vec![upsert_by_name("株式会社冪等テスト", "03-1111-2222")],
    );
    let second = write(
        &c,
        &conn,
        "Accounts",
        vec![upsert_by_name("株式会社冪等テスト", "03-3333-4444")],
    );

    assert_eq!(first[0].outcome, WriteOutcome::Created, "{first:?}");
    assert_eq!(second[0].outcome, WriteOutcome::Updated, "{second:?}");
    assert_eq!(first[0].id, second[0].id);
    let raw = emu.raw("B", "Accounts");
    assert_eq!(raw.len(), before + 1);
    let rec = raw
        .iter()
        .find(|r| r["Account_Name"] == "株式会社冪等テスト")
        .unwrap();
    assert_eq!(rec["Phone"], "03-3333-4444");
    assert_eq!(emu.requests("POST /crm/v8/{module}/upsert"), 2);
}

#[test]
fn update_by_match_key_never_creates() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let existing = emu.raw("A", "Accounts")[0].clone();
    let name = existing["Account_Name"].as_str().unwrap();
    let mut found = upsert_by_name(name, "06-0000-1111");
    found.action = WriteAction::Update;
    let mut missing = upsert_by_name("存在しない株式会社", "06-0000-2222");
    missing.action = WriteAction::Update;
    missing.op_id = "missing".into();
    let before = emu.raw("A", "Accounts").len();

    let r = write(&c, &conn, "Accounts", vec![found, missing]);

    assert_eq!(r[0].outcome, WriteOutcome::Updated, "{r:?}");
    assert_eq!(r[0].id.as_deref(), existing["id"].as_str());
    assert_eq!(r[1].outcome, WriteOutcome::Error);
    assert_eq!(r[1].error.as_ref().unwrap().kind, ErrorKind::NotFound);
    assert_eq!(emu.raw("A", "Accounts").len(), before);
}

#[test]
fn per_record_errors_name_the_field_in_both_languages() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    // Customer_Code is a unique field of the emulated orgs' Accounts.
    let taken = emu.raw("A", "Accounts")[0]["Customer_Code"].clone();
    assert!(taken.is_string());

    let contacts = write(
        &c,
        &conn,
        "Contacts",
        vec![
            op("ok", WriteAction::Create, json!({"Last_Name": "正常"})),
            op(
                "no-name",
                WriteAction::Create,
                json!({"First_Name": "名だけ"}),
            ),
        ],
    );
    assert_eq!(contacts[0].outcome, WriteOutcome::Created, "{contacts:?}");
    assert_eq!(contacts[1].outcome, WriteOutcome::Error);
    let e = contacts[1].error.as_ref().unwrap();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::InvalidData, "MANDATORY_NOT_FOUND")
    );
    assert_eq!(e.field.as_deref(), Some("Last_Name"));
    assert!(e.message.contains("Last_Name"), "{}", e.message);
    assert!(e
        .message_ja
        .as_deref()
        .unwrap()
        .contains("必須項目「Last_Name」"));

    let accounts = write(
        &c,
        &conn,
        "Accounts",
        vec![
            op(
                "dup",
                WriteAction::Create,
                json!({"Account_Name": "重複", "Customer_Code": taken}),
            ),
            op(
                "bad",
                WriteAction::Create,
                json!({"Account_Name": "数値違い", "Employees": "たくさん"}),
            ),
        ],
    );
    let dup = accounts[0].error.as_ref().expect("duplicate refused");
    assert_eq!(
        (dup.kind, dup.code.as_str()),
        (ErrorKind::Conflict, "DUPLICATE_DATA")
    );
    assert_eq!(dup.field.as_deref(), Some("Customer_Code"));
    let bad = accounts[1].error.as_ref().expect("bad number refused");
    assert_eq!(
        (bad.kind, bad.code.as_str()),
        (ErrorKind::InvalidData, "INVALID_DATA")
    );
    assert_eq!(bad.field.as_deref(), Some("Employees"));
}
