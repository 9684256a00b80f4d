//! The run's page (処理履歴 → 処理結果) through the real router: what a person reads there.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use hub_domain::{RunCounts, RunStatus, RunWarning, Trigger};
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};
use hub_store::pending::PendingUpdate::Keep;
use hub_store::runs::Finished;

fn finished<'a>(counts: &'a RunCounts, warning: &'a RunWarning) -> Finished<'a> {
    Finished {
        status: RunStatus::Success,
        counts,
        message: None,
        errors: &[],
        warnings: std::slice::from_ref(warning),
    }
}

async fn page(h: &TestApp, path: &str, sid: &str) -> String {
    let req = Request::get(path)
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::empty())
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// A 外字 in a 奉行 CSV: the run succeeded, and its page says where the character is and what
/// to fix, in Japanese and in English, from the catalogue (not the connector's text).
#[tokio::test]
async fn a_successful_run_shows_each_warning_and_their_count() {
    let h = TestApp::start().await;
    let (sid, _) = session_for(&h.store, "viewer", "read_only").await;
    let conn = h
        .store
        .insert_connection(&hub_domain::NewConnection {
            connector_id: "obc".into(),
            name: "奉行 CSV".into(),
            settings: Default::default(),
            registration_number: "1234-5678-9012".into(),
            phone: "03-1234-5678".into(),
            credentials: Default::default(),
            refresh_token: None,
        })
        .await
        .unwrap();
    let spec: hub_domain::FlowSpec = serde_json::from_value(serde_json::json!({
        "name": "取引先", "source": {"connection": conn, "object": "csv_customers"},
        "target": {"connection": conn, "object": "Accounts"}, "mapping": []
    }))
    .unwrap();
    let flow = h.store.insert_flow(&spec, None).await.unwrap();
    let run = h
        .store
        .enqueue_run(&flow, Trigger::Manual, None)
        .await
        .unwrap();
    let warning = RunWarning {
        record: "000002".into(),
        side: "source".into(),
        code: "gaiji".into(),
        params: [
            ("file", "取引先.csv"),
            ("line", "3"),
            ("column", "2"),
            ("header", "取引先名"),
            ("char_code", "0xF040"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        message: "connector's own words".into(),
        ..Default::default()
    };
    let counts = RunCounts {
        read: 2,
        created: 2,
        warnings: 1,
        ..Default::default()
    };
    h.store
        .finish_run_settling(&run, &finished(&counts, &warning), &Keep)
        .await
        .unwrap();

    let ja = page(&h, &format!("/runs/{run}"), &sid).await;
    assert!(ja.contains(">SUCCESS<"), "{ja}");
    assert!(ja.contains("id=\"run-warning-count\">1<"), "{ja}");
    assert!(ja.contains("警告（1件）"), "{ja}");
    assert!(
        ja.contains("外字（ユーザー定義文字）があります: ファイル 取引先.csv 行 3 列 2「取引先名」(0xF040)。"),
        "{ja}"
    );
    assert!(
        ja.contains("奉行で取引先名を標準の文字に直してください"),
        "{ja}"
    );
    assert!(!ja.contains("connector&#x27;s own words"), "{ja}");
    // 処理履歴 (the list) says there is something to look at.
    let list = page(&h, "/runs", &sid).await;
    assert!(list.contains("失敗 0件 &#x2f; 警告 1件"), "{list}");
    let en = page(&h, &format!("/runs/{run}?lang=en"), &sid).await;
    assert!(
        en.contains("User-defined character (gaiji) 0xF040 in file 取引先.csv, line 3, column 2"),
        "{en}"
    );

    // A code the catalogue does not know is shown in the connector's words.
    let run2 = h
        .store
        .enqueue_run(&flow, Trigger::Manual, None)
        .await
        .unwrap();
    let other = RunWarning {
        code: "something_new".into(),
        params: Default::default(),
        message: "新しい種類の警告 / a new kind of warning".into(),
        ..warning
    };
    h.store
        .finish_run_settling(&run2, &finished(&counts, &other), &Keep)
        .await
        .unwrap();
    let ja = page(&h, &format!("/runs/{run2}"), &sid).await;
    assert!(
        ja.contains("新しい種類の警告 &#x2f; a new kind of warning"),
        "{ja}"
    );
}
