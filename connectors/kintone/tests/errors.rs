//! What a user sees when kintone refuses: the error kind the hub acts on, and the message.

mod common;

use common::{fields, op, Env};
use connector_sdk::{Connector, ErrorKind, ReadRequest, Secret, WriteAction, WriteRequest};
use renkei_connector_kintone::Kintone;
use serde_json::json;

fn read_req(object: &str) -> ReadRequest {
    ReadRequest {
        options: Default::default(),
        object: object.into(),
        cursor: None,
        since: None,
        page_size: Some(100),
        fields: None,
        ..Default::default()
    }
}

#[test]
fn bad_token_asks_to_check_the_api_token() {
    let env = Env::start();
    let k = Kintone::new();
    let mut conn = env.conn(0);
    conn.credentials.insert(
        "api_token".into(),
        Secret::new("0123456789abcdef0123456789abcdef01234567"),
    );
    let e = k.check(&conn).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AuthFailed);
    assert!(e
        .message_ja
        .as_deref()
        .unwrap()
        .contains("APIトークンを確認してください"));
    assert!(
        !e.message.contains("0123456789abcdef"),
        "never the token: {}",
        e.message
    );

    // Another app's token.
    conn.credentials.insert(
        "api_token".into(),
        Secret::new(env.app(1)["api_token"].as_str().unwrap()),
    );
    assert_eq!(
        k.read(&conn, &read_req("1")).unwrap_err().kind,
        ErrorKind::AuthFailed
    );

    // None at all.
    conn.credentials.clear();
    let e = k.check(&conn).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::AuthFailed, Some("api_token"))
    );
}

#[test]
fn a_view_only_token_cannot_write() {
    let env = Env::start();
    let k = Kintone::new();
    let mut conn = env.conn(0);
    let ro = env.app(0)["readonly_api_token"]
        .as_str()
        .expect("seeded read-only token");
    conn.credentials.insert("api_token".into(), Secret::new(ro));
    assert!(k.read(&conn, &read_req("1")).is_ok());
    let r = k
        .write(
            &conn,
            &WriteRequest {
                object: "1".into(),
                ops: vec![op(
                    "c",
                    WriteAction::Create,
                    fields(&[("会社名", json!("株式会社読むだけ"))]),
                )],
            },
        )
        .expect("per-op result");
    let e = r[0].error.as_ref().expect("refused");
    assert_eq!(e.kind, ErrorKind::PermissionDenied);
    assert!(e.message_ja.as_deref().unwrap().contains("権限"));
}

#[test]
fn unknown_app_and_wrong_settings_point_at_the_setting() {
    let env = Env::start();
    let k = Kintone::new();
    let login = &env.announcement["credentials"]["kintone"]["login"];
    let mut conn = env.conn(0);
    conn.credentials.clear();
    conn.credentials.insert(
        "username".into(),
        Secret::new(login["username"].as_str().unwrap()),
    );
    conn.credentials.insert(
        "password".into(),
        Secret::new(login["password"].as_str().unwrap()),
    );
    conn.settings.insert("apps".into(), json!("99"));
    let e = k.check(&conn).unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str(), e.field.as_deref()),
        (ErrorKind::InvalidSettings, "GAIA_AP01", Some("apps"))
    );

    conn.credentials
        .insert("password".into(), Secret::new("wrong"));
    conn.settings.insert("apps".into(), json!("1"));
    assert_eq!(k.check(&conn).unwrap_err().kind, ErrorKind::AuthFailed);

    conn.settings.insert("apps".into(), json!("顧客管理"));
    let e = k.check(&conn).unwrap_err();
    assert_eq!(
        (e.kind, e.field.as_deref()),
        (ErrorKind::InvalidSettings, Some("apps"))
    );

    // Nothing listens there: the hub may retry.
    conn.settings.insert("apps".into(), json!("1"));
    conn.settings
        .insert("base_url".into(), json!("http://localhost:1"));
    assert_eq!(k.check(&conn).unwrap_err().kind, ErrorKind::Transient);
}

#[test]
fn rate_limits_and_server_errors_are_retryable() {
    let env = Env::start();
    let k = Kintone::new();
    let conn = env.conn(0);
    k.objects(&conn).expect("form cached");

    env.faults(json!({"kinds": ["too_many"], "fail_next": 1, "retry_after_s": 7}));
    let e = k.read(&conn, &read_req("1")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after_ms, Some(7000));
    assert_eq!(env.live_cursors(), 0, "no cursor left behind");

    env.faults(json!({"kinds": ["unavailable"], "fail_next": 1}));
    let e = k.read(&conn, &read_req("1")).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    assert!(e.is_retryable());

    // A retried page asks for the same records again: nothing lost, nothing repeated.
    let page = |cursor: Option<String>| {
        k.read(
            &conn,
            &ReadRequest {
                options: Default::default(),
                cursor,
                page_size: Some(20),
                ..read_req("1")
            },
        )
    };
    let first = page(None).expect("page 1");
    env.faults(json!({"kinds": ["server_error"], "fail_next": 1}));
    let e = page(first.next_cursor.clone()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    env.reset_stats();
    let second = page(first.next_cursor.clone()).expect("retried page 2");
    assert_eq!(env.total_calls(), 1, "{:?}", env.stats());
    assert_eq!(first.records.len() + second.records.len(), 30);
    assert!(!second.has_more);
    assert_eq!(env.live_cursors(), 0);

    // A write whose call is refused as a whole writes nothing and says so with the call's error.
    env.faults(json!({"kinds": ["too_many"], "fail_next": 1, "retry_after_s": 2}));
    let e = k
        .write(
            &conn,
            &WriteRequest {
                object: "1".into(),
                ops: vec![op(
                    "c",
                    WriteAction::Create,
                    fields(&[("会社名", json!("株式会社再試行"))]),
                )],
            },
        )
        .unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after_ms),
        (ErrorKind::RateLimited, Some(2000))
    );
}
