//! A connection's status reason reads in the page's language only (not 「日本語 / English」
//! side by side), on the connection's page and the token page; the API, which has no page
//! language, gives both.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use axum::Router;
use connector_sdk::{ConnectorError, ErrorKind};
use hub_domain::NewConnection;
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

const JA: &str = "APIトークンが無効です";
const EN: &str = "the API token was refused";

async fn page(app: &Router, path: &str, sid: &str, lang: &str) -> String {
    let req = Request::get(path)
        .header(header::COOKIE, format!("renkei_session={sid}; lang={lang}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn a_refused_connection_says_why_in_the_page_language_only() {
    let t = TestApp::start().await;
    let id = t
        .store
        .insert_connection(&NewConnection {
            connector_id: "kintone".into(),
            name: "kintone 本社".into(),
            settings: Default::default(),
            registration_number: String::new(),
            phone: String::new(),
            credentials: Default::default(),
            refresh_token: None,
        })
        .await
        .unwrap();
    let refused = ConnectorError::new(ErrorKind::AuthFailed, EN)
        .with_code("GAIA_IA02")
        .with_ja(JA);
    t.hub.connection_failed(&id, &refused).await;
    let (sid, _) = session_for(&t.store, "admin", "admin").await;

    for path in [format!("/connections/{id}"), "/settings/tokens".to_string()] {
        let ja = page(&t.app, &path, &sid, "ja").await;
        assert!(ja.contains(JA), "{path} in Japanese names the reason: {ja}");
        assert!(!ja.contains(EN), "{path} in Japanese has no English reason");
        let en = page(&t.app, &path, &sid, "en").await;
        assert!(en.contains(EN), "{path} in English names the reason: {en}");
        assert!(!en.contains(JA), "{path} in English has no Japanese reason");
    }

    let token = t.store.create_api_token("admin").await.unwrap();
    let req = Request::get(format!("/api/connections/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let message = v["status_detail"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(JA) && message.contains(EN) && message.contains("GAIA_IA02"),
        "the API gives both languages and the code: {v}"
    );
    assert!(
        !message.contains('\u{1}'),
        "no stored marker leaks: {message:?}"
    );
}
