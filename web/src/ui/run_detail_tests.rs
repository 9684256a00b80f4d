//! A run's page words what happened to each refused record from the catalogue (by the error's
//! code) in the page's language, keeps the remote system's own text apart under 詳細, and shows
//! a coded run message in Japanese or English.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use hub_domain::{Endpoint, FlowSpec, NewConnection, RunCounts, RunError, RunStatus, Trigger};
use hub_messages::Message;
use serde_json::json;
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn page(t: &TestApp, path: &str, sid: &str, lang: &str) -> String {
    let req = Request::get(path)
        .header(header::COOKIE, format!("renkei_session={sid}; lang={lang}"))
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

async fn partial_run(t: &TestApp) -> String {
    let mut ids = vec![];
    for name in ["kintone 本社", "Zoho"] {
        let id = t
            .store
            .insert_connection(&NewConnection {
                connector_id: "kintone".into(),
                name: name.into(),
                settings: Default::default(),
                registration_number: String::new(),
                phone: String::new(),
                credentials: Default::default(),
                refresh_token: None,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let spec: FlowSpec = serde_json::from_value(json!({
        "name": "顧客を同期",
        "source": Endpoint { connection: ids[0].clone(), object: "customers".into() },
        "target": Endpoint { connection: ids[1].clone(), object: "Accounts".into() },
    }))
    .unwrap();
    let flow = t.store.insert_flow(&spec, None).await.unwrap();
    let run = t
        .store
        .enqueue_run(&flow, Trigger::Manual, None)
        .await
        .unwrap();
    let refused = RunError {
        record: "19".into(),
        side: "target".into(),
        code: "invalid_data".into(),
        message: "INVALID_DATA: invalid value for Email (expected email)".into(),
        ..Default::default()
    };
    let counts = RunCounts {
        read: 2,
        created: 1,
        failed: 1,
        ..Default::default()
    };
    let note = Message::new("run.retried_pending")
        .with("count", 28)
        .with("ok", 27)
        .to_stored();
    t.store
        .finish_run(&run, RunStatus::Partial, &counts, Some(&note), &[refused])
        .await
        .unwrap();
    run
}

#[tokio::test]
async fn a_refused_record_reads_in_the_page_language_with_the_remote_text_under_details() {
    let t = TestApp::start().await;
    let (sid, _) = session_for(&t.store, "yamada", "admin").await;
    let run = partial_run(&t).await;

    let ja = page(&t, &format!("/runs/{run}"), &sid, "ja").await;
    assert!(
        ja.contains("相手システムが項目の値を受け付けませんでした"),
        "{ja}"
    );
    assert!(ja.contains("<summary>詳細</summary>"), "{ja}");
    assert!(ja.contains("invalid value for Email"), "{ja}");
    assert!(ja.contains("前回失敗した28件を再試行（27件成功）"), "{ja}");
    assert!(
        !ja.contains("msg:"),
        "a stored message is never shown raw: {ja}"
    );

    let en = page(&t, &format!("/runs/{run}"), &sid, "en").await;
    assert!(
        en.contains("The other system refused a value of the record"),
        "{en}"
    );
    assert!(en.contains("<summary>Details</summary>"), "{en}");
    assert!(
        en.contains("Retried the 28 records that failed before (27 written)"),
        "{en}"
    );
    assert!(!en.contains("前回失敗"), "{en}");
}

#[tokio::test]
async fn refused_records_are_listed_in_record_order_a_page_at_a_time() {
    let t = TestApp::start().await;
    let (sid, _) = session_for(&t.store, "yamada", "admin").await;
    let run = partial_run(&t).await;
    // 120 more refusals, recorded out of order.
    let more: Vec<RunError> = (1..=120)
        .rev()
        .map(|i| RunError {
            record: (i * 10).to_string(),
            side: "target".into(),
            code: "invalid_data".into(),
            message: format!("INVALID_DATA {i}"),
            ..Default::default()
        })
        .collect();
    let counts = RunCounts {
        failed: 121,
        ..Default::default()
    };
    t.store
        .finish_run(&run, RunStatus::Partial, &counts, None, &more)
        .await
        .unwrap();

    let first = page(&t, &format!("/runs/{run}"), &sid, "ja").await;
    assert!(first.contains("全 121 件中 1〜50 件を表示"), "{first}");
    let ids: Vec<&str> = first
        .split("<tr><td class=\"record\"><span class=\"mono\">")
        .skip(1)
        .map(|r| r.split('<').next().unwrap())
        .collect();
    assert_eq!(&ids[..4], ["10", "19", "20", "30"], "sorted by number");
    assert_eq!(ids.len(), 50);
    assert!(
        first.contains("?page=2#run-errors"),
        "a link to the next page"
    );

    let last = page(&t, &format!("/runs/{run}?page=3"), &sid, "en").await;
    assert!(last.contains("Showing 101–121 of 121"), "{last}");
    assert!(
        last.contains("INVALID_DATA 120"),
        "the last record is on the last page"
    );
    assert!(last.contains("rel=\"prev\""), "{last}");
}

#[tokio::test]
async fn a_refused_record_shows_its_title_a_link_to_it_and_the_refused_value() {
    let t = TestApp::start().await;
    let (sid, _) = session_for(&t.store, "yamada", "admin").await;
    let run = partial_run(&t).await;
    let named = RunError {
        record: "28".into(),
        side: "target".into(),
        code: "invalid_data".into(),
        message: "INVALID_DATA".into(),
        title: Some("株式会社サンプル商事".into()),
        url: Some("https://example.cybozu.com/k/3/show#record=28".into()),
        field: Some("Email".into()),
        value: Some("sample@".into()),
    };
    // A page that is no web page is never linked.
    let unsafe_link = RunError {
        record: "29".into(),
        title: Some("有限会社テスト".into()),
        url: Some("javascript:alert(1)".into()),
        ..named.clone()
    };
    let counts = RunCounts {
        failed: 3,
        ..Default::default()
    };
    t.store
        .finish_run(
            &run,
            RunStatus::Partial,
            &counts,
            None,
            &[named, unsafe_link],
        )
        .await
        .unwrap();

    let ja = page(&t, &format!("/runs/{run}"), &sid, "ja").await;
    assert!(ja.contains("株式会社サンプル商事"), "{ja}");
    // The page escapes `/` in attributes (`&#x2f;`), which a browser reads back as `/`.
    let ja_links = ja.replace("&#x2f;", "/");
    assert!(
        ja_links.contains(r#"href="https://example.cybozu.com/k/3/show#record=28" target="_blank" rel="noopener">28"#),
        "{ja}"
    );
    assert!(ja.contains("項目「Email」の値「sample@」"), "{ja}");
    assert!(ja.contains("有限会社テスト"), "{ja}");
    assert!(!ja.contains("javascript:"), "{ja}");
    let en = page(&t, &format!("/runs/{run}"), &sid, "en").await;
    assert!(
        en.replace("&quot;", "\"")
            .contains(r#"Field "Email", value "sample@""#),
        "{en}"
    );

    let api = crate::views::run_error(&t.store.run_errors(&run, 10).await.unwrap()[1]);
    assert_eq!(api["title"], "株式会社サンプル商事", "{api}");
    assert_eq!(api["field"], "Email", "{api}");
}
