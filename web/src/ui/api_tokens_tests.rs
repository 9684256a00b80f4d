//! システム設定 → APIトークン through the real router: admins only (operators get 403 like on
//! the other admin pages), a token made there is shown once and works, revoking it ends it;
//! and a read-only web user may look but not run.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hub_store::Store;
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn app() -> (Router, Store, TestApp) {
    let t = TestApp::start().await;
    (t.app.clone(), t.store.clone(), t)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, String) {
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

fn post(path: &str, sid: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::from(body))
        .unwrap()
}

fn api_get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn admins_list_create_and_revoke_api_tokens_operators_get_403() {
    let (app, store, _dir) = app().await;
    let (admin, csrf) = session_for(&store, "admin", "admin").await;
    let (op, op_csrf) = session_for(&store, "op", "operator").await;
    store
        .create_api_token_with("夜間バッチ", "operator", None)
        .await
        .unwrap();

    let (s, page) = send(&app, get("/settings/api-tokens", &op)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(page.contains("管理者のみ"), "{page}");
    let (s, _) = send(
        &app,
        post(
            "/settings/api-tokens",
            &op,
            format!("name=x&role=admin&expires=&_csrf={op_csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(store.list_api_tokens().await.unwrap().len(), 1);
    // The settings navigation links it for admins only.
    let (_, tokens_page) = send(&app, get("/settings/tokens", &op)).await;
    assert!(!tokens_page.contains("/settings/api-tokens"));
    let (_, tokens_page) = send(&app, get("/settings/tokens", &admin)).await;
    assert!(tokens_page.contains("href=\"/settings/api-tokens\""));

    let (s, page) = send(&app, get("/settings/api-tokens", &admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("夜間バッチ") && page.contains("オペレーター") && page.contains("無期限"),
        "{page}"
    );

    // A bad lifetime is refused, naming the field; nothing is made.
    for bad in ["0d", "soon"] {
        let (s, page) = send(
            &app,
            post(
                "/settings/api-tokens",
                &admin,
                format!("name=mon&role=read_only&expires={bad}&_csrf={csrf}"),
            ),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.contains("data-error-for=\"expires\""), "{page}");
    }
    assert_eq!(store.list_api_tokens().await.unwrap().len(), 1);

    let (s, page) = send(
        &app,
        post(
            "/settings/api-tokens",
            &admin,
            format!("name=mon&role=read_only&expires=90d&_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let token = page
        .split("id=\"token-value\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap()
        .to_string();
    assert!(token.starts_with("rkh_"), "{page}");
    let made = store.list_api_tokens().await.unwrap().pop().unwrap();
    assert_eq!(
        (made.name.as_str(), made.role.as_str()),
        ("mon", "read_only")
    );
    assert!(made.expires_at.is_some());
    let (s, _) = send(&app, api_get("/api/flows", &token)).await;
    assert_eq!(s, StatusCode::OK);
    // Shown once: the list does not show it again.
    let (_, page) = send(&app, get("/settings/api-tokens", &admin)).await;
    assert!(!page.contains(&token) && page.contains("閲覧のみ"));

    let (s, _) = send(
        &app,
        post(
            &format!("/settings/api-tokens/{}/revoke", made.id),
            &op,
            format!("_csrf={op_csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app,
        post(
            &format!("/settings/api-tokens/{}/revoke", made.id),
            &admin,
            format!("_csrf={csrf}"),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _) = send(&app, api_get("/api/flows", &token)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (_, page) = send(&app, get("/settings/api-tokens", &admin)).await;
    assert!(
        page.contains("無効化済み") && page.contains("APIトークン「mon」を無効化しました"),
        "{page}"
    );
}

#[tokio::test]
async fn a_read_only_user_may_look_but_not_run() {
    let (app, store, _dir) = app().await;
    let (ro, csrf) = session_for(&store, "viewer", "read_only").await;
    let (s, _) = send(&app, get("/runs", &ro)).await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/flows/does-not-exist/run",
        "/flows/does-not-exist/preview",
        "/runs/does-not-exist/undo",
        "/runs/does-not-exist/retry-failed",
        "/connections/does-not-exist/refresh",
    ] {
        let (s, page) = send(&app, post(path, &ro, format!("_csrf={csrf}"))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("オペレーター以上"), "{path}: {page}");
    }
    let (s, _) = send(&app, get("/settings/api-tokens", &ro)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
