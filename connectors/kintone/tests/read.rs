//! 接続テスト, objects and reads against the kintone emulator, counting the API calls.

mod common;

use common::{read_all, Env};
use connector_sdk::{Connector, FieldType, ReadRequest, WriteAction, WriteOp, WriteRequest};
use renkei_connector_kintone::Kintone;
use serde_json::json;
use std::collections::HashSet;

const CURSOR_POST: &str = "POST /k/v1/records/cursor.json";
const RECORDS_GET: &str = "GET /k/v1/records.json";

#[test]
fn check_names_the_app_and_how_it_signed_in() {
    let env = Env::start();
    let k = Kintone::new();
    let r = k.check(&env.conn(0)).expect("check");
    assert_eq!(r.account, "kintone app 1 「顧客管理」 (API token)");

    // Password sign-in, two apps at once.
    let mut conn = env.conn(0);
    conn.settings.insert("apps".into(), json!("1, 2"));
    conn.credentials.clear();
    let login = &env.announcement["credentials"]["kintone"]["login"];
    conn.credentials.insert(
        "username".into(),
        connector_sdk::Secret::new(login["username"].as_str().unwrap()),
    );
    conn.credentials.insert(
        "password".into(),
        connector_sdk::Secret::new(login["password"].as_str().unwrap()),
    );
    let r = k.check(&conn).expect("check with password");
    assert_eq!(
        r.account,
        "kintone app 1 「顧客管理」, app 2 「活動履歴」 (user sato)"
    );
}

#[test]
fn objects_keep_japanese_field_codes_types_and_lookups() {
    let env = Env::start();
    let k = Kintone::new();
    let mut conn = env.conn(0);
    conn.settings.insert("apps".into(), json!("1,2"));
    // One token per app, comma-joined.
    let tokens = format!(
        "{},{}",
        env.app(0)["api_token"].as_str().unwrap(),
        env.app(1)["api_token"].as_str().unwrap()
    );
    conn.credentials
        .insert("api_token".into(), connector_sdk::Secret::new(tokens));
    let objects = k.objects(&conn).expect("objects");
    assert_eq!(objects.len(), 2);
    let customers = &objects[0];
    assert_eq!(
        (customers.id.as_str(), customers.name.ja.as_str()),
        ("1", "顧客管理")
    );
    let f = |c: &str| {
        customers
            .field(c)
            .unwrap_or_else(|| panic!("field {c}"))
            .clone()
    };
    let name = f("会社名");
    assert!(name.required && name.unique && !name.read_only);
    assert_eq!(name.field_type, FieldType::Text);
    assert_eq!(f("売上高").field_type, FieldType::Number);
    let pref = f("都道府県");
    assert_eq!(pref.field_type, FieldType::Picklist);
    assert_eq!(pref.options.len(), 47);
    assert_eq!(pref.options[0], "北海道");
    assert_eq!(f("取引開始日").field_type, FieldType::Date);
    for system in ["$id", "$revision", "レコード番号", "更新日時", "作成者"] {
        assert!(f(system).read_only, "{system} is read-only");
    }
    assert_eq!(f("更新日時").field_type, FieldType::DateTime);
    let caps = &customers.capabilities;
    assert!(caps.read && caps.create && caps.update && caps.delete && caps.incremental);

    let activities = &objects[1];
    let lookup = activities.field("顧客レコード番号").expect("lookup field");
    assert_eq!(lookup.field_type, FieldType::Number);
    let target = lookup.lookup.as_ref().expect("lookup ref");
    assert_eq!(
        (target.object.as_str(), target.field.as_str()),
        ("1", "レコード番号")
    );
    assert!(activities.field("活動日").unwrap().required);
}

#[test]
fn full_read_is_one_request_per_500_records_and_opens_no_cursor() {
    let env = Env::start();
    env.generate_customers(1170); // 30 seeded + 1,170 = 1,200 records
    let k = Kintone::new();
    let conn = env.conn(0);
    k.objects(&conn).expect("form cached");
    env.reset_stats();

    let (records, cursor, pages) = read_all(&k, &conn, "1", None, None, 500);
    assert_eq!(records.len(), 1200);
    assert_eq!(pages, 3);
    let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 1200, "no record twice");
    assert_eq!(env.calls(RECORDS_GET), 3); // ceil(1200 / 500)
    assert_eq!(env.total_calls(), 3, "{:?}", env.stats());
    assert_eq!(env.calls(CURSOR_POST), 0);
    assert_eq!(env.live_cursors(), 0);
    // The first listing goes by record number, top down, with versions and flattened values.
    let numbers: Vec<u64> = records.iter().map(|r| r.id.parse().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] > w[1]));
    assert!(records.iter().all(|r| r.modified_at.is_some()));
    let first = records.iter().find(|r| r.id == "1").expect("record 1");
    assert!(first.version.is_some());
    assert_eq!(first.fields["会社名"], json!("株式会社サンプル"));
    assert_eq!(first.fields["売上高"], json!("125000000"));
    assert_eq!(first.fields["作成者"], json!("sato"));
    assert!(
        cursor.unwrap().contains("\"w\""),
        "the final cursor is a watermark"
    );
}

#[test]
fn incremental_read_returns_only_what_changed() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    k.objects(&conn).expect("form cached");
    let (all, cursor, _) = read_all(&k, &conn, "1", None, None, 500);
    assert_eq!(all.len(), 30);

    // Idle: one records.json call, nothing returned, no cursor opened.
    env.reset_stats();
    let (none, cursor, _) = read_all(&k, &conn, "1", cursor, None, 500);
    assert!(
        none.is_empty(),
        "idle read returned {:?}",
        none.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
    assert_eq!(env.total_calls(), 1, "{:?}", env.stats());
    assert_eq!(env.calls(RECORDS_GET), 1);

    let before = all.iter().find(|r| r.id == "7").unwrap();
    let res = k
        .write(
            &conn,
            &WriteRequest {
                object: "1".into(),
                ops: vec![WriteOp {
                    id: Some("7".into()),
                    ..common::op(
                        "u7",
                        WriteAction::Update,
                        common::fields(&[("備考", json!("増額の相談あり"))]),
                    )
                }],
            },
        )
        .expect("update");
    assert_eq!(res[0].outcome, connector_sdk::WriteOutcome::Updated);

    let (changed, cursor, _) = read_all(&k, &conn, "1", cursor, None, 500);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].id, "7");
    assert_eq!(changed[0].fields["備考"], json!("増額の相談あり"));
    assert_ne!(changed[0].version, before.version);
    let (again, _, _) = read_all(&k, &conn, "1", cursor, None, 500);
    assert!(again.is_empty(), "the change is delivered once");
}

#[test]
fn since_limits_the_first_read_to_recent_changes() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let (all, _, _) = read_all(&k, &conn, "1", None, None, 500);
    // The middle of the seeded update times, with odd seconds so no record sits on it.
    let mut times: Vec<String> = all.iter().filter_map(|r| r.modified_at.clone()).collect();
    times.sort();
    let mid = chrono::DateTime::parse_from_rfc3339(&times[times.len() / 2]).unwrap()
        + chrono::Duration::seconds(17);
    let since = mid.with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    // 更新日時 has minute precision: a record stamped with mid's minute may have changed after
    // mid, so the read starts at that minute.
    let minute = mid - chrono::Duration::seconds(i64::from(chrono::Timelike::second(&mid)));
    let expected: HashSet<String> = all
        .iter()
        .filter(|r| {
            chrono::DateTime::parse_from_rfc3339(r.modified_at.as_deref().unwrap()).unwrap()
                >= minute
        })
        .map(|r| r.id.clone())
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    let (recent, _, _) = read_all(&k, &conn, "1", None, Some(since.to_rfc3339()), 500);
    let got: HashSet<String> = recent.iter().map(|r| r.id.clone()).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_page_read_again_with_the_same_cursor_answers_the_same_records() {
    // A run killed after reading a page but before saving its cursor reads it again.
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let page = |cursor: Option<String>| {
        k.read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                object: "1".into(),
                cursor,
                since: None,
                page_size: Some(7),
                fields: None,
                ..Default::default()
            },
        )
        .expect("page")
    };
    let ids =
        |p: &connector_sdk::ReadPage| p.records.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let first = page(None);
    assert_eq!(first.records.len(), 7);
    assert!(first.has_more);
    let second = page(first.next_cursor.clone());
    let again = page(first.next_cursor.clone());
    assert_eq!(ids(&second), ids(&again));
    assert_eq!(second.next_cursor, again.next_cursor);
    env.advance_clock(11 * 60); // a kintone cursor would have expired by now

    let (rest, _, _) = read_all(&k, &conn, "1", second.next_cursor.clone(), None, 7);
    let mut all: Vec<String> = ids(&first)
        .into_iter()
        .chain(ids(&second))
        .chain(rest.iter().map(|r| r.id.clone()))
        .collect();
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!((n, all.len()), (30, 30), "nothing lost, nothing repeated");
    assert_eq!(env.live_cursors(), 0);
}

#[test]
fn records_updated_while_a_listing_is_read_are_delivered_with_their_new_revision() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let first = k
        .read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                object: "1".into(),
                cursor: None,
                since: None,
                page_size: Some(10),
                fields: None,
                ..Default::default()
            },
        )
        .expect("page 1");
    let delivered = first.records[0].clone();
    // What is still to come (reading it moves nothing: the saved cursor is a value).
    let (to_come, _, _) = read_all(&k, &conn, "1", first.next_cursor.clone(), None, 10);
    let pending = to_come.last().expect("a record still to read").clone();
    assert_ne!(pending.id, delivered.id);
    for r in [&delivered, &pending] {
        k.write(
            &conn,
            &WriteRequest {
                object: "1".into(),
                ops: vec![WriteOp {
                    id: Some(r.id.clone()),
                    ..common::op(
                        &format!("u{}", r.id),
                        WriteAction::Update,
                        common::fields(&[("備考", json!("読み取り中に更新"))]),
                    )
                }],
            },
        )
        .expect("update");
    }
    let (rest, cursor, _) = read_all(&k, &conn, "1", first.next_cursor.clone(), None, 10);
    let (later, _, _) = read_all(&k, &conn, "1", cursor, None, 10);
    let after: Vec<_> = rest.iter().chain(&later).collect();
    for r in [&delivered, &pending] {
        let got: Vec<_> = after.iter().filter(|x| x.id == r.id).collect();
        assert_eq!(got.len(), 1, "record {} delivered once more", r.id);
        assert_eq!(got[0].fields["備考"], json!("読み取り中に更新"));
        assert_ne!(got[0].version, r.version);
    }
    let mut ids: Vec<&str> = first
        .records
        .iter()
        .chain(&rest)
        .map(|r| r.id.as_str())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every record delivered");
}

#[test]
fn asked_fields_only_and_unknown_fields_refused() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    let req = |fields: Vec<&str>| ReadRequest {
        options: Default::default(),
        object: "1".into(),
        cursor: None,
        since: None,
        page_size: Some(500),
        fields: Some(fields.into_iter().map(String::from).collect()),
        ..Default::default()
    };
    let p = k.read(&conn, &req(vec!["会社名"])).expect("read");
    assert_eq!(p.records.len(), 30);
    let keys: HashSet<&str> = p.records[0].fields.keys().map(String::as_str).collect();
    assert!(
        keys.contains("会社名") && !keys.contains("住所"),
        "{keys:?}"
    );
    assert!(p.records[0].modified_at.is_some());

    let e = k.read(&conn, &req(vec!["無いフィールド"])).unwrap_err();
    assert_eq!(e.kind, connector_sdk::ErrorKind::InvalidData);
    assert_eq!(e.field.as_deref(), Some("無いフィールド"));
    let e = k
        .read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                object: "2".into(),
                ..req(vec![])
            },
        )
        .unwrap_err();
    assert_eq!(
        e.kind,
        connector_sdk::ErrorKind::NotFound,
        "app 2 is not configured"
    );
}

#[test]
fn guest_space_apps_need_their_space_id() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(2);
    let r = k.check(&conn).expect("check guest app");
    assert!(r.account.contains("問い合わせ管理"), "{}", r.account);
    let (recs, _, _) = read_all(&k, &conn, "3", None, None, 500);
    assert!(!recs.is_empty());

    let mut without = conn.clone();
    without.settings.remove("guest_space_id");
    let e = k.check(&without).unwrap_err();
    assert_eq!(e.kind, connector_sdk::ErrorKind::InvalidSettings);
    assert_eq!(e.field.as_deref(), Some("guest_space_id"));
}

/// A capped first run reads its window newest first (`order by 更新日時 desc, $id desc`), by
/// seek, one records.json call per page; `count` answers kintone's `totalCount`.
#[test]
fn newest_first_walks_the_window_down_by_seek_and_counts() {
    let env = Env::start();
    env.generate_customers(1200);
    let k = Kintone::new();
    let conn = env.conn(0);
    let since = (chrono::Utc::now() - chrono::Duration::days(60)).to_rfc3339();
    env.reset_stats();
    let mut cursor = None;
    let mut got = Vec::new();
    let mut total = None;
    loop {
        let page = k
            .read(
                &conn,
                &ReadRequest {
                    object: "1".into(),
                    cursor: cursor.clone(),
                    since: cursor.is_none().then(|| since.clone()),
                    page_size: Some(500),
                    fields: Some(vec!["会社名".into()]),
                    newest_first: true,
                    count: cursor.is_none(),
                    ..Default::default()
                },
            )
            .expect("page");
        assert!(page.newest_first);
        if cursor.is_none() {
            total = page.total;
        }
        got.extend(page.records);
        if got.len() >= 1000 || !page.has_more {
            break;
        }
        cursor = page.next_cursor;
    }
    assert_eq!(env.calls(RECORDS_GET), 2);
    let key =
        |r: &connector_sdk::Record| (r.modified_at.clone().unwrap(), r.id.parse::<u64>().unwrap());
    assert!(
        got.windows(2).all(|w| key(&w[0]) > key(&w[1])),
        "newest first, each once"
    );
    let total = total.expect("totalCount");
    assert!(total >= 1000 && got.len() == 1000, "{total} {}", got.len());
}

/// One page of app 1 at `cursor`, `size` records at most, of the `fields` asked (all: `None`).
fn page_at(
    k: &Kintone,
    conn: &connector_sdk::Connection,
    cursor: Option<String>,
    (size, fields): (u32, Option<&[&str]>),
) -> connector_sdk::ReadPage {
    k.read(
        conn,
        &ReadRequest {
            object: "1".into(),
            cursor,
            page_size: Some(size),
            fields: fields.map(|f| f.iter().map(|c| c.to_string()).collect()),
            ..Default::default()
        },
    )
    .expect("page")
}

#[test]
fn a_first_listing_foretells_its_pages_and_each_foretold_cursor_answers_the_next_page() {
    let env = Env::start();
    env.generate_customers(1170); // 1,200 records
    let k = Kintone::new();
    let conn = env.conn(0);
    k.objects(&conn).expect("form cached");
    env.reset_stats();

    let first = page_at(&k, &conn, None, (100, None));
    assert_eq!(first.total, Some(1200), "the first page counts the app");
    assert_eq!(
        first.ahead.len(),
        11,
        "the eleven windows below the top page"
    );
    assert_eq!(first.ahead.first(), first.next_cursor.as_ref());
    // Read as the hub reads them: every foretold cursor at once, from the first page alone.
    let pages: Vec<_> = first
        .ahead
        .iter()
        .map(|c| page_at(&k, &conn, Some(c.clone()), (100, None)))
        .collect();
    for (i, p) in pages.iter().enumerate() {
        match first.ahead.get(i + 1) {
            Some(after) => assert_eq!(p.next_cursor.as_ref(), Some(after), "page {i}"),
            None => assert!(!p.has_more, "the last window ends the listing"),
        }
    }
    let mut ids: Vec<&str> = std::iter::once(&first)
        .chain(&pages)
        .flat_map(|p| p.records.iter().map(|r| r.id.as_str()))
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((n, ids.len()), (1200, 1200), "each record once");
    assert_eq!(
        env.calls(RECORDS_GET),
        12,
        "one call a page: ceil(1200 / 100)"
    );
}

#[test]
fn a_first_listing_over_numbers_left_sparse_by_deletions_still_reads_every_record() {
    let env = Env::start();
    env.generate_customers(70); // 100 records, numbered 1..=100
    let k = Kintone::new();
    let conn = env.conn(0);
    // Delete 11..=60: the count (50) then says the windows below the top page reach 30, and
    // the records numbered 1..=10 lie below that.
    let ops = (11..=60)
        .map(|n: u32| WriteOp {
            id: Some(n.to_string()),
            ..common::op(&format!("d{n}"), WriteAction::Delete, Default::default())
        })
        .collect();
    k.write(
        &conn,
        &WriteRequest {
            object: "1".into(),
            ops,
        },
    )
    .expect("delete");
    let (records, cursor, _) = read_all(&k, &conn, "1", None, None, 10);
    let mut ids: Vec<u64> = records.iter().map(|r| r.id.parse().unwrap()).collect();
    ids.sort();
    let expected: Vec<u64> = (1..=10).chain(61..=100).collect();
    assert_eq!(ids, expected, "each remaining record once");
    let (again, _, _) = read_all(&k, &conn, "1", cursor, None, 10);
    assert!(again.is_empty(), "the listing after has nothing new");
}

#[test]
fn a_first_listing_asks_for_no_form_and_keeps_to_the_asked_fields() {
    let env = Env::start();
    env.generate_customers(1170); // 1,200 records
    let k = Kintone::new();
    let conn = env.conn(0);
    let page = |cursor| page_at(&k, &conn, cursor, (500, Some(&["会社名"])));
    let first = page(None);
    assert_eq!(first.ahead.len(), 2);
    let rest: Vec<_> = first.ahead.iter().map(|c| page(Some(c.clone()))).collect();
    assert_eq!(rest[0].next_cursor.as_ref(), first.ahead.get(1));
    assert!(!rest[1].has_more);
    let records: Vec<_> = std::iter::once(&first)
        .chain(&rest)
        .flat_map(|p| &p.records)
        .collect();
    assert_eq!(records.len(), 1200);
    for r in &records {
        let keys: HashSet<&str> = r.fields.keys().map(String::as_str).collect();
        assert!(
            keys.contains("会社名") && !keys.contains("住所"),
            "{keys:?}"
        );
        assert!(r.modified_at.is_some() && r.version.is_some());
    }
    assert_eq!(
        env.total_calls(),
        3,
        "records.json only, no form: {:?}",
        env.stats()
    );
}
