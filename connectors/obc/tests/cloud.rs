//! The cloud route against the emulator: 接続テスト and the 法人, what each failure tells the hub
//! (refresh, a person must act, back off), incremental reads, writes, and the CSV route wired in.

mod common;

use common::{op, read_all, read_page, write, Emulator};
use connector_sdk::{
    Connection, Connector, ErrorKind, MatchKey, ReadRequest, WriteAction, WriteOutcome,
};
use renkei_connector_obc::Obc;
use serde_json::{json, Value};

fn err_of<T: std::fmt::Debug>(
    r: Result<T, connector_sdk::ConnectorError>,
) -> connector_sdk::ConnectorError {
    r.expect_err("the call should fail")
}

#[test]
fn check_names_the_company_and_tenant_setting_chooses_it() {
    let emu = Emulator::start();
    let c = Obc::new();
    let conn = emu.connection();
    let ok = c.check(&conn).unwrap();
    assert!(ok.account.contains("OBC商事株式会社"), "{}", ok.account);
    assert!(ok.account.contains("OBCiD"), "{}", ok.account);

    // The second 法人, by name; it holds its own 5 取引先.
    let mut second = conn.clone();
    second
        .settings
        .insert("tenant_id".into(), json!("サンプル工業株式会社"));
    assert!(c.check(&second).unwrap().account.contains("サンプル工業"));
    let (records, _, _) = read_all(&c, &second, "customers", None, 100);
    assert_eq!(records.len(), 5);
    let mut by_id = conn.clone();
    by_id
        .settings
        .insert("tenant_id".into(), emu.tenant(1)["id"].clone());
    assert_eq!(read_all(&c, &by_id, "customers", None, 100).0.len(), 5);

    let mut unknown = conn.clone();
    unknown
        .settings
        .insert("tenant_id".into(), json!("株式会社どこにもない"));
    let e = err_of(c.check(&unknown));
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidSettings, Some("tenant_id"))
    );
    assert!(e.message.contains("OBC商事株式会社"), "{e}");

    // The fixed token of 管理ポータル works without any sign-in.
    let fixed = emu.connection_with(&[("fixed_access_token", &emu.cred("fixed_access_token"))]);
    assert!(c
        .check(&fixed)
        .unwrap()
        .account
        .contains("固定アクセストークン"));
}

#[test]
fn expired_token_asks_the_hub_to_refresh_and_the_refreshed_one_works() {
    let emu = Emulator::start();
    let c = Obc::new();
    let minted = emu.mint();
    let conn = emu.connection_with(&[("access_token", minted["access_token"].as_str().unwrap())]);
    read_page(&c, &conn, "customers", None, 5);
    emu.expire_tokens();
    let e = err_of(c.read(
        &conn,
        &ReadRequest {
            options: Default::default(),
            object: "customers".into(),
            ..Default::default()
        },
    ));
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AuthExpired, "token_expired")
    );
    assert!(e.message.contains("expired"), "{e}");

    // What the hub does next: the refresh grant at the token URL of the manifest, with the
    // client credentials only (no subscription key), then the same call again.
    let t: Value = emu
        .http
        .post(format!("{}/oauth2/token", emu.base()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", minted["refresh_token"].as_str().unwrap()),
            ("client_id", &emu.cred("client_id")),
            ("client_secret", &emu.cred("client_secret")),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let fresh = emu.connection_with(&[("access_token", t["access_token"].as_str().unwrap())]);
    assert_eq!(read_page(&c, &fresh, "customers", None, 5).records.len(), 5);

    // A fixed token cannot be refreshed: a person must issue a new one.
    let bad_fixed = emu.connection_with(&[("fixed_access_token", "no-such-token")]);
    let e = err_of(c.check(&bad_fixed));
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::AuthFailed, Some("fixed_access_token"))
    );
    // Never signed in and no fixed token.
    let none = emu.connection_with(&[]);
    let e = err_of(c.check(&none));
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AuthFailed, "not_signed_in")
    );
}

#[test]
fn subscription_key_errors_name_the_key() {
    let emu = Emulator::start();
    let c = Obc::new();
    let mut conn = emu.connection();
    conn.credentials.insert(
        "subscription_key".into(),
        connector_sdk::Secret::new("00000000000000000000000000000000"),
    );
    let e = err_of(c.check(&conn));
    assert_eq!(
        (e.kind, e.code.as_str(), e.field.as_deref()),
        (
            ErrorKind::AuthFailed,
            "invalid_subscription_key",
            Some("subscription_key")
        )
    );
    assert!(e.message_ja.unwrap().contains("サブスクリプションキー"));
    // The key value is never echoed.
    assert!(!e.message.contains("00000000000000000000000000000000"));

    conn.credentials.remove("subscription_key");
    let e = err_of(c.read(
        &conn,
        &ReadRequest {
            options: Default::default(),
            object: "customers".into(),
            ..Default::default()
        },
    ));
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AuthFailed, "missing_subscription_key")
    );
}

#[test]
fn rate_limit_is_retryable_with_the_wait_the_api_gives() {
    let emu = Emulator::start();
    let c = Obc::new();
    let conn = emu.connection();
    // The tenant's bucket holds 2: the third call in the same second is refused.
    emu.rate_limit(Some((60, 2)));
    read_page(&c, &conn, "customers", None, 5);
    read_page(&c, &conn, "customers", None, 5);
    let e = err_of(c.read(
        &conn,
        &ReadRequest {
            options: Default::default(),
            object: "customers".into(),
            page_size: Some(5),
            ..Default::default()
        },
    ));
    assert_eq!(e.kind, ErrorKind::RateLimited, "{e}");
    assert!(e.is_retryable());
    let wait = e.retry_after_ms.expect("retry_after_ms");
    assert!((1000..=60_000).contains(&wait), "{wait}");

    // The manifest paces the hub under the bucket's refill rate.
    let limits = c.manifest().limits;
    assert!(limits.requests_per_second.unwrap() <= 1.0);
    assert_eq!(limits.max_concurrency, 1);

    // Gateway faults: 429 with Retry-After, and 5xx, are retryable too.
    emu.rate_limit(None);
    emu.fail_next(1, "too_many");
    let e = err_of(c.check(&conn));
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::RateLimited, Some(4000))
    );
    emu.fail_next(1, "unavailable");
    let e = err_of(c.check(&conn));
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(c.check(&conn).is_ok());
}

#[test]
fn incremental_reads_return_changes_and_soft_deletes() {
    let emu = Emulator::start();
    emu.rate_limit(None);
    let c = Obc::new();
    let conn = emu.connection();
    let (all, cursor, pages) = read_all(&c, &conn, "customers", None, 20);
    // 50 seeded, 2 of them deleted: a full read lists the live ones, in code order, once each.
    assert_eq!(all.len(), 48);
    assert_eq!(pages, 3);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    assert!(all.iter().all(|r| !r.deleted && r.version.is_some()));
    let first = &all[0];
    assert_eq!(first.id, "000001");
    assert_eq!(first.fields["code"], "000001");
    assert!(
        first.fields["closingDay"].is_string(),
        "numbers are decimal strings"
    );

    // The next pass starts from the server's clock (its Date header), a second early.
    let c0: Value = serde_json::from_str(cursor.as_deref().unwrap()).unwrap();
    let since = chrono::DateTime::parse_from_rfc3339(c0["since"].as_str().unwrap()).unwrap();
    let age = chrono::Utc::now().signed_duration_since(since);
    assert!(
        age.num_seconds() < 30,
        "watermark {since} is not from the server's clock"
    );

    // Idle: nothing changed, nothing read.
    let (idle, cursor, _) = read_all(&c, &conn, "customers", cursor, 20);
    assert!(idle.is_empty(), "{idle:?}");

    // Someone edits two 取引先 in 奉行; the hub soft-deletes a third.
    emu.api(
        "/sdmm/importCustomer",
        0,
        json!({"mode": "update", "items": [
            {"code": "000003", "tel": "03-9999-0003"},
            {"code": "000030", "address1": "東京都港区芝公園4-2-8"}]}),
    );
    let mut del = op("del", WriteAction::Delete, json!({}));
    del.id = Some("000005".into());
    let r = write(&c, &conn, "customers", vec![del]);
    assert_eq!(r[0].outcome, WriteOutcome::Deleted, "{r:?}");
    assert_eq!(emu.customer("000005").unwrap()["deleted"], true);

    let (changed, cursor, _) = read_all(&c, &conn, "customers", cursor, 20);
    let ids: Vec<(&str, bool)> = changed.iter().map(|r| (r.id.as_str(), r.deleted)).collect();
    assert_eq!(
        ids,
        [("000003", false), ("000005", true), ("000030", false)]
    );
    assert_eq!(changed[0].fields["tel"], "03-9999-0003");
    // Read again from the final cursor: at most the overlap second comes back, nothing else.
    let (again, _, _) = read_all(&c, &conn, "customers", cursor, 20);
    assert!(again.len() <= 3, "{again:?}");

    // 社員 have no deleted flag: retired is a field, and delete is refused.
    let (emps, _, _) = read_all(&c, &conn, "employees", None, 100);
    assert_eq!(emps.len(), 20);
    assert_eq!(
        emps.iter().filter(|r| r.fields["retired"] == true).count(),
        2
    );
    let mut del = op("del", WriteAction::Delete, json!({}));
    del.id = Some("00001".into());
    let r = write(&c, &conn, "employees", vec![del]);
    assert_eq!(r[0].error.as_ref().unwrap().kind, ErrorKind::Unsupported);
}

#[test]
fn writes_report_created_updated_unchanged_and_row_errors() {
    let emu = Emulator::start();
    emu.rate_limit(None);
    let c = Obc::new();
    let conn = emu.connection();
    let new = |id: &str, code: &str, name: &str| {
        op(
            id,
            WriteAction::Upsert,
            json!({"code": code, "name": name, "nameKana": "テスト", "closingDay": "25"}),
        )
    };
    let with_key = |mut o: connector_sdk::WriteOp, field: &str, value: &str| {
        o.match_key = Some(MatchKey {
            field: field.into(),
            value: json!(value),
        });
        o
    };
    emu.reset_stats();
    let r = write(
        &c,
        &conn,
        "customers",
        vec![
            with_key(new("a", "900001", "株式会社テスト一"), "code", "900001"),
            with_key(new("b", "900002", "株式会社テスト二"), "code", "900002"),
            // Unchanged: the stored 000001 with its own name.
            with_key(
                op(
                    "c",
                    WriteAction::Upsert,
                    json!({"name": "株式会社サンプル"}),
                ),
                "code",
                "000001",
            ),
            // Updated through a match on the name.
            with_key(
                op("d", WriteAction::Upsert, json!({"tel": "06-1111-2222"})),
                "name",
                "テスト商事株式会社",
            ),
            // Refused by 奉行: 締日 out of range, kana not katakana.
            op(
                "e",
                WriteAction::Upsert,
                json!({"code": "900003", "name": "x", "closingDay": "40"}),
            ),
            op(
                "f",
                WriteAction::Create,
                json!({"code": "000002", "name": "重複"}),
            ),
            {
                let mut u = op("g", WriteAction::Update, json!({"name": "ない"}));
                u.id = Some("999999".into());
                u
            },
            op(
                "h",
                WriteAction::Upsert,
                json!({"code": "900004", "colour": "red"}),
            ),
        ],
    );
    let outcomes: Vec<(&str, WriteOutcome)> =
        r.iter().map(|x| (x.op_id.as_str(), x.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            ("a", WriteOutcome::Created),
            ("b", WriteOutcome::Created),
            ("c", WriteOutcome::Unchanged),
            ("d", WriteOutcome::Updated),
            ("e", WriteOutcome::Error),
            ("f", WriteOutcome::Error),
            ("g", WriteOutcome::Error),
            ("h", WriteOutcome::Error),
        ],
        "{r:#?}"
    );
    // One scan for the name key, one read of the touched codes, one update, one insert.
    assert_eq!(emu.requests("POST /sdmm/exportCustomer"), 2);
    assert_eq!(emu.requests("POST /sdmm/importCustomer"), 2);
    assert_eq!(r[0].id.as_deref(), Some("900001"));
    assert_eq!(r[3].id.as_deref(), Some("000002"));
    let e = r[4].error.as_ref().unwrap();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidData, Some("closingDay"))
    );
    assert!(e.message.contains("closingDay"), "{e}");
    assert_eq!(r[5].error.as_ref().unwrap().kind, ErrorKind::Conflict);
    assert_eq!(r[6].error.as_ref().unwrap().kind, ErrorKind::NotFound);
    let e = r[7].error.as_ref().unwrap();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidData, Some("colour"))
    );
    assert_eq!(emu.customer("900001").unwrap()["closingDay"], 25);
    assert_eq!(emu.customer("000002").unwrap()["tel"], "06-1111-2222");
    assert!(emu.customer("900003").is_none());

    // Optimistic lock: a stale expected version is a conflict, the current one writes.
    let stamp = emu.customer("900001").unwrap()["updatedAt"]
        .as_str()
        .unwrap()
        .to_string();
    let mut stale = op("s", WriteAction::Upsert, json!({"tel": "03-1"}));
    stale.id = Some("900001".into());
    stale.expected_version = Some("2000-01-01T00:00:00Z".into());
    let mut current = stale.clone();
    current.op_id = "t".into();
    current.expected_version = Some(stamp);
    let r = write(&c, &conn, "customers", vec![stale]);
    assert_eq!(r[0].outcome, WriteOutcome::Conflict);
    let r = write(&c, &conn, "customers", vec![current]);
    assert_eq!(r[0].outcome, WriteOutcome::Updated);

    // The code is the key: it cannot be changed by a write.
    let mut rename = op("r", WriteAction::Upsert, json!({"code": "900099"}));
    rename.id = Some("900001".into());
    let e = write(&c, &conn, "customers", vec![rename])[0]
        .error
        .clone()
        .unwrap();
    assert_eq!(e.field.as_deref(), Some("code"));

    // 社員: a department that does not exist is refused by 奉行, naming the field.
    let r = write(
        &c,
        &conn,
        "employees",
        vec![op(
            "x",
            WriteAction::Upsert,
            json!({"code": "90001", "name": "新人 一郎", "departmentCode": "999", "joinDate": "2025/04/01"}),
        )],
    );
    let e = r[0].error.as_ref().expect("refused");
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidData, Some("departmentCode"))
    );
}

#[test]
fn csv_route_and_cloud_share_the_connection() {
    let emu = Emulator::start();
    let c = Obc::new();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().display().to_string();

    // CSV only: no base URL, no token.
    let mut csv = Connection::default();
    csv.settings.insert("csv_root".into(), json!(root));
    let objects = c.objects(&csv).unwrap();
    assert!(!objects.is_empty());
    assert!(
        objects.iter().all(|o| o.id.starts_with("csv_")),
        "{objects:?}"
    );
    assert!(c.check(&csv).unwrap().account.contains("CSV"));

    // Both: the cloud masters and the CSV objects; 接続テスト names both.
    let mut both = emu.connection();
    both.settings.insert("csv_root".into(), json!(root));
    let ids: Vec<String> = c
        .objects(&both)
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect();
    assert!(ids.contains(&"customers".to_string()) && ids.contains(&"employees".to_string()));
    assert!(ids.iter().any(|i| i.starts_with("csv_")), "{ids:?}");
    let account = c.check(&both).unwrap().account;
    assert!(
        account.contains("OBC商事") && account.contains("CSV"),
        "{account}"
    );

    // Neither: say what to set.
    let e = err_of(c.check(&Connection::default()));
    assert_eq!(e.kind, ErrorKind::InvalidSettings);
    let e = err_of(c.objects(&Connection::default()));
    assert_eq!(e.kind, ErrorKind::InvalidSettings);

    // Cloud only: exactly the two masters, with code as the unique key.
    let cloud = c.objects(&emu.connection()).unwrap();
    let ids: Vec<&str> = cloud.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["customers", "employees"]);
    let code = cloud[0].field("code").unwrap();
    assert!(code.unique && code.required);
    assert!(cloud[0].field("updatedAt").unwrap().read_only);
    assert!(cloud[0].capabilities.delete && !cloud[1].capabilities.delete);

    // Actions: the CSV route's, anything else is unsupported.
    let manifest = c.manifest();
    assert!(manifest.actions.iter().any(|a| a.id == "import_history"));
    let e = err_of(c.action(&both, "no_such_action", &json!({})));
    assert_eq!(e.kind, ErrorKind::Unsupported);
}
