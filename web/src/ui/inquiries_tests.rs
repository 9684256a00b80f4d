//! システム設定 → お問い合わせ through the real router: admins only; with no support address
//! the page says so (「送信先が設定されていません」), inquiries stay 未送信 and 再送 says why.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use hub_domain::NewInquiry;
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, sid: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn with_no_support_address_admins_are_told_and_inquiries_stay_pending() {
    // `t` keeps the database's folder for the whole test.
    let t = TestApp::start().await;
    let (app, store, hub) = (t.app.clone(), t.store.clone(), t.hub.clone());
    let id = hub
        .submit_inquiry(&NewInquiry {
            company: "株式会社みどり".into(),
            name: "鈴木 一郎".into(),
            email: "ichiro@example.co.jp".into(),
            registration_number: "1234-5678".into(),
            connector_name: "kintone".into(),
        })
        .await
        .unwrap();

    let (op, _) = session_for(&store, "op", "operator").await;
    let (status, _) = send(&app, get("/settings/inquiries", &op)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (admin, csrf) = session_for(&store, "admin", "admin").await;
    let (status, page) = send(&app, get("/settings/inquiries", &admin)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("送信先が設定されていません"), "{page}");
    assert!(
        page.contains("株式会社みどり") && page.contains("未送信"),
        "{page}"
    );
    assert!(page.contains("HUB_SUPPORT_EMAIL"), "{page}");

    let retry = Request::post(format!("/settings/inquiries/{id}/retry"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("renkei_session={admin}"))
        .body(Body::from(format!("_csrf={csrf}")))
        .unwrap();
    let (status, _) = send(&app, retry).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = send(&app, get("/settings/inquiries", &admin)).await;
    assert!(page.contains("id=\"flash\""), "{page}");
    let i = store.get_inquiry(&id).await.unwrap().unwrap();
    assert_eq!(i.delivery_status, "pending");
    assert_eq!(i.delivery_attempts, 0);
}
