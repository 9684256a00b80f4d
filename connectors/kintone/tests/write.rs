//! Writes against the kintone emulator: call counts, upserts, conflicts and refused records.

mod common;

use common::{fields, op, read_all, Env};
use connector_sdk::{
    Connector, ErrorKind, MatchKey, WriteAction, WriteOp, WriteOutcome, WriteRequest,
};
use renkei_connector_kintone::Kintone;
use serde_json::json;

const BULK: &str = "POST /k/v1/bulkRequest.json";
const RECORDS_POST: &str = "POST /k/v1/records.json";

fn activity(n: usize) -> connector_sdk::Fields {
    fields(&[
        ("活動日", json!("2025-04-01")),
        ("件名", json!(format!("議事録 {n}"))),
        ("対応方法", json!("Web会議")),
        ("内容", json!("Front Agent から書き込み")),
    ])
}

fn write(
    k: &Kintone,
    conn: &connector_sdk::Connection,
    object: &str,
    ops: Vec<WriteOp>,
) -> Vec<connector_sdk::WriteResult> {
    let n = ops.len();
    let r = k
        .write(
            conn,
            &WriteRequest {
                object: object.into(),
                ops,
            },
        )
        .expect("write call");
    assert_eq!(r.len(), n, "one result per op");
    r
}

fn by_key(field: &str, value: &str, action: WriteAction, f: connector_sdk::Fields) -> WriteOp {
    WriteOp {
        match_key: Some(MatchKey {
            field: field.into(),
            value: json!(value),
        }),
        ..op(value, action, f)
    }
}

#[test]
fn writes_use_the_fewest_calls() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(1);
    k.objects(&conn).expect("form cached");

    env.reset_stats();
    let ops: Vec<WriteOp> = (0..100)
        .map(|n| op(&format!("a{n}"), WriteAction::Create, activity(n)))
        .collect();
    let r = write(&k, &conn, "2", ops);
    assert!(r
        .iter()
        .all(|r| r.outcome == WriteOutcome::Created && r.id.is_some()));
    assert_eq!(env.total_calls(), 1, "{:?}", env.stats());
    assert_eq!(env.calls(RECORDS_POST), 1);

    env.reset_stats();
    let ops: Vec<WriteOp> = (0..1250)
        .map(|n| op(&format!("b{n}"), WriteAction::Create, activity(n)))
        .collect();
    let r = write(&k, &conn, "2", ops);
    assert!(r.iter().all(|r| r.outcome == WriteOutcome::Created));
    assert_eq!(
        env.total_calls(),
        1,
        "1,250 records = 13 calls in one bulkRequest: {:?}",
        env.stats()
    );
    assert_eq!(env.calls(BULK), 1);

    // Creates, updates and deletes of one batch go in one bulkRequest.
    env.reset_stats();
    let (a, b, c) = (r[0].id.clone(), r[1].id.clone(), r[2].id.clone());
    let mut ops = vec![op("new", WriteAction::Create, activity(9000))];
    for (i, id) in [a, b].into_iter().enumerate() {
        ops.push(WriteOp {
            id,
            ..op(
                &format!("upd{i}"),
                WriteAction::Upsert,
                fields(&[("件名", json!("更新済み"))]),
            )
        });
    }
    ops.push(WriteOp {
        id: c.clone(),
        ..op("del", WriteAction::Delete, Default::default())
    });
    let r = write(&k, &conn, "2", ops);
    let outcomes: Vec<WriteOutcome> = r.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        [
            WriteOutcome::Created,
            WriteOutcome::Updated,
            WriteOutcome::Updated,
            WriteOutcome::Deleted
        ]
    );
    assert_eq!(env.total_calls(), 1, "{:?}", env.stats());
    assert_eq!(env.calls(BULK), 1);
    // Deleting again is not an error: the record is gone either way.
    let r = write(
        &k,
        &conn,
        "2",
        vec![WriteOp {
            id: c,
            ..op("del2", WriteAction::Delete, Default::default())
        }],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Deleted);
}

#[test]
fn upsert_by_unique_key_is_idempotent() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let f = fields(&[
        ("会社名", json!("株式会社連携テスト")),
        ("担当者名", json!("連携 太郎")),
    ]);
    let first = write(
        &k,
        &conn,
        "1",
        vec![by_key(
            "会社名",
            "株式会社連携テスト",
            WriteAction::Upsert,
            f.clone(),
        )],
    );
    assert_eq!(
        first[0].outcome,
        WriteOutcome::Created,
        "{:?}",
        first[0].error
    );
    let second = write(
        &k,
        &conn,
        "1",
        vec![by_key(
            "会社名",
            "株式会社連携テスト",
            WriteAction::Upsert,
            f,
        )],
    );
    assert_eq!(second[0].outcome, WriteOutcome::Updated);
    assert_eq!(first[0].id, second[0].id);
    let (all, _, _) = read_all(&k, &conn, "1", None, None, 500);
    let same: Vec<_> = all
        .iter()
        .filter(|r| r.fields["会社名"] == json!("株式会社連携テスト"))
        .collect();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0].fields["担当者名"], json!("連携 太郎"));

    // Update never creates: a key nothing has is not_found, the others are written.
    let r = write(
        &k,
        &conn,
        "1",
        vec![
            by_key(
                "会社名",
                "株式会社どこにもない",
                WriteAction::Update,
                fields(&[("備考", json!("x"))]),
            ),
            by_key(
                "会社名",
                "株式会社サンプル",
                WriteAction::Update,
                fields(&[("備考", json!("更新"))]),
            ),
        ],
    );
    assert_eq!(r[0].outcome, WriteOutcome::Error);
    assert_eq!(r[0].error.as_ref().unwrap().kind, ErrorKind::NotFound);
    assert_eq!(r[1].outcome, WriteOutcome::Updated);

    // A match key kintone cannot use (not unique) is refused before any call.
    env.reset_stats();
    let r = write(
        &k,
        &conn,
        "1",
        vec![by_key(
            "担当者名",
            "山田 太郎",
            WriteAction::Upsert,
            Default::default(),
        )],
    );
    let e = r[0].error.as_ref().expect("refused");
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidSettings, Some("担当者名"))
    );
    assert!(e
        .message_ja
        .as_deref()
        .unwrap()
        .contains("値の重複を禁止する"));
    assert_eq!(env.total_calls(), 0);
}

#[test]
fn stale_revision_is_a_conflict_and_the_rest_is_written() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let (all, _, _) = read_all(&k, &conn, "1", None, None, 500);
    let rec = |id: &str| all.iter().find(|r| r.id == id).unwrap().clone();
    let (r1, r2) = (rec("1"), rec("2"));
    let stale = (r2.version.as_deref().unwrap().parse::<u64>().unwrap() - 1).to_string();
    let update = |r: &connector_sdk::Record, version: Option<String>, note: &str| WriteOp {
        id: Some(r.id.clone()),
        expected_version: version,
        ..op(&r.id, WriteAction::Update, fields(&[("備考", json!(note))]))
    };
    let res = write(
        &k,
        &conn,
        "1",
        vec![
            update(&r1, r1.version.clone(), "最新版から更新"),
            update(&r2, Some(stale), "古い版から更新"),
            op(
                "c",
                WriteAction::Create,
                fields(&[("会社名", json!("株式会社あとから"))]),
            ),
        ],
    );
    assert_eq!(res[0].outcome, WriteOutcome::Updated);
    assert_eq!(res[1].outcome, WriteOutcome::Conflict);
    assert_eq!(res[1].error.as_ref().unwrap().code, "GAIA_CO02");
    assert_eq!(res[2].outcome, WriteOutcome::Created);
    let (after, _, _) = read_all(&k, &conn, "1", None, None, 500);
    let note = |id: &str| after.iter().find(|r| r.id == id).unwrap().fields["備考"].clone();
    assert_eq!(note("1"), json!("最新版から更新"));
    assert_eq!(
        note("2"),
        r2.fields["備考"],
        "the conflicting record is untouched"
    );
    assert_eq!(after.len(), 31);
}

#[test]
fn refused_records_are_named_and_the_others_written() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let res = write(
        &k,
        &conn,
        "1",
        vec![
            op(
                "ok1",
                WriteAction::Create,
                fields(&[("会社名", json!("株式会社いち"))]),
            ),
            // 会社名 is required.
            op(
                "bad",
                WriteAction::Create,
                fields(&[("担当者名", json!("名無し"))]),
            ),
            // 会社名 must be unique.
            op(
                "dup",
                WriteAction::Create,
                fields(&[("会社名", json!("株式会社サンプル"))]),
            ),
            op(
                "ok2",
                WriteAction::Create,
                fields(&[("会社名", json!("株式会社に"))]),
            ),
            // Not a number: refused before any call.
            op(
                "nan",
                WriteAction::Create,
                fields(&[("会社名", json!("株式会社さん")), ("売上高", json!("12万"))]),
            ),
            // A field code the app does not have.
            op(
                "unknown",
                WriteAction::Create,
                fields(&[
                    ("会社名", json!("株式会社よん")),
                    ("存在しない", json!("x")),
                ]),
            ),
        ],
    );
    let kinds: Vec<(WriteOutcome, Option<&str>)> = res
        .iter()
        .map(|r| (r.outcome, r.error.as_ref().and_then(|e| e.field.as_deref())))
        .collect();
    assert_eq!(
        kinds,
        [
            (WriteOutcome::Created, None),
            (WriteOutcome::Error, Some("会社名")),
            (WriteOutcome::Error, Some("会社名")),
            (WriteOutcome::Created, None),
            (WriteOutcome::Error, Some("売上高")),
            (WriteOutcome::Error, Some("存在しない")),
        ],
        "{res:#?}"
    );
    for r in &res[1..3] {
        let e = r.error.as_ref().unwrap();
        assert_eq!(e.kind, ErrorKind::InvalidData);
        assert!(!e.is_retryable());
    }
    let (all, _, _) = read_all(&k, &conn, "1", None, None, 500);
    assert_eq!(all.len(), 32);
}

#[test]
fn numbers_and_japanese_text_are_exact() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let big = "12345678901234567890.123";
    let res = write(
        &k,
        &conn,
        "1",
        vec![op(
            "n",
            WriteAction::Create,
            fields(&[
                ("会社名", json!("ＡＢＣ㈱　テスト")),
                ("売上高", json!(big)),
                ("都道府県", json!("沖縄県")),
                ("取引開始日", json!("2025-04-01")),
            ]),
        )],
    );
    let id = res[0].id.clone().expect("created id");
    let (all, _, _) = read_all(&k, &conn, "1", None, None, 500);
    let r = all.iter().find(|r| r.id == id).expect("read back");
    assert_eq!(r.fields["売上高"], json!(big));
    assert_eq!(r.fields["会社名"], json!("ＡＢＣ㈱　テスト"));
    assert_eq!(r.fields["都道府県"], json!("沖縄県"));
    assert_eq!(r.fields["取引開始日"], json!("2025-04-01"));
    assert_eq!(r.version, res[0].version);
}

#[test]
fn a_refusal_kintone_does_not_pin_is_found_by_halving() {
    let env = Env::start();
    let k = Kintone::new();
    let mut conn = env.conn(1);
    // A lookup reads the related app (顧客管理): its token goes along.
    let tokens = format!(
        "{},{}",
        env.app(1)["api_token"].as_str().unwrap(),
        env.app(0)["api_token"].as_str().unwrap()
    );
    conn.credentials
        .insert("api_token".into(), connector_sdk::Secret::new(tokens));
    let ops: Vec<WriteOp> = (0..8)
        .map(|n| {
            let mut f = activity(n);
            f.insert(
                "顧客レコード番号".into(),
                json!(if n == 5 { "9999" } else { "1" }),
            );
            op(&format!("a{n}"), WriteAction::Create, f)
        })
        .collect();
    let r = write(&k, &conn, "2", ops);
    for (n, r) in r.iter().enumerate() {
        if n == 5 {
            let e = r.error.as_ref().expect("the bad lookup is refused");
            assert_eq!(r.outcome, WriteOutcome::Error);
            assert!(e.message.contains("顧客レコード番号"), "{}", e.message);
            assert!(!e.is_retryable());
        } else {
            assert_eq!(r.outcome, WriteOutcome::Created, "op {n}: {:?}", r.error);
        }
    }
    let (all, _, _) = read_all(&k, &conn, "2", None, None, 500);
    let copied = all
        .iter()
        .filter(|r| r.fields["件名"] == json!("議事録 0"))
        .count();
    assert_eq!(copied, 1);
    let looked_up = all
        .iter()
        .find(|r| r.fields["件名"] == json!("議事録 0"))
        .unwrap();
    assert_eq!(
        looked_up.fields["会社名"],
        json!("株式会社サンプル"),
        "the lookup copied the name"
    );
}
