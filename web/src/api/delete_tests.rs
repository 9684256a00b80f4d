//! Deleting connections and flows goes through core's rules, by the API and by the UI alike: a
//! connection a flow uses is refused (409 `in_use`, the same words on the page), a flow with a
//! queued run is refused (409 `already_running`), and both go once nothing holds them.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hub_domain::{Endpoint, FlowSpec, NewConnection, RunStatus, Trigger};
use hub_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn delete(path: &str, token: &str) -> Request<Body> {
    Request::delete(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn connection(store: &Store, name: &str) -> String {
    store
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
        .unwrap()
}

async fn flow_between(store: &Store, source: &str, target: &str) -> String {
    let spec: FlowSpec = serde_json::from_value(json!({
        "name": "顧客を同期",
        "source": Endpoint { connection: source.into(), object: "customers".into() },
        "target": Endpoint { connection: target.into(), object: "Accounts".into() },
    }))
    .unwrap();
    store.insert_flow(&spec, None).await.unwrap()
}

#[tokio::test]
async fn the_api_refuses_to_delete_what_is_in_use_and_deletes_it_once_free() {
    let t = TestApp::start().await;
    let token = t.store.create_api_token("admin").await.unwrap();
    let (a, b) = (
        connection(&t.store, "kintone 本社").await,
        connection(&t.store, "Zoho").await,
    );
    let flow = flow_between(&t.store, &a, &b).await;

    let (status, body) = send(&t.app, delete(&format!("/api/connections/{a}"), &token)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "in_use", "{body}");
    assert!(t.store.get_connection(&a).await.is_ok());

    let run = t
        .store
        .enqueue_run(&flow, Trigger::Api, None)
        .await
        .unwrap();
    let (status, body) = send(&t.app, delete(&format!("/api/flows/{flow}"), &token)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "already_running", "{body}");
    t.store
        .finish_run(&run, RunStatus::Success, &Default::default(), None, &[])
        .await
        .unwrap();

    let (status, body) = send(&t.app, delete(&format!("/api/flows/{flow}"), &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = send(&t.app, delete(&format!("/api/connections/{a}"), &token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(t.store.get_connection(&a).await.is_err());
}

#[tokio::test]
async fn the_page_says_a_connection_in_use_cannot_be_deleted() {
    let t = TestApp::start().await;
    let (sid, csrf) = session_for(&t.store, "yamada", "admin").await;
    let (a, b) = (
        connection(&t.store, "kintone 本社").await,
        connection(&t.store, "Zoho").await,
    );
    flow_between(&t.store, &a, &b).await;

    let req = Request::post(format!("/connections/{a}/delete"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::from(format!("_csrf={csrf}")))
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(t.store.get_connection(&a).await.is_ok());

    let req = Request::get("/")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let page = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    let page = String::from_utf8_lossy(&page);
    assert!(
        page.contains("この接続は連携サービスで使われているため削除できません"),
        "{page}"
    );
}
