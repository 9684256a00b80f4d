//! Removing users through the page: the hub keeps an admin (the rule is core's,
//! `Hub::delete_user`), and the page says so in its language.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn send(t: &TestApp, req: Request<Body>) -> (StatusCode, String) {
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn delete_then_read(t: &TestApp, sid: &str, csrf: &str, id: &str) -> String {
    let req = Request::post(format!("/settings/users/{id}/delete"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::from(format!("_csrf={csrf}")))
        .unwrap();
    let (status, _) = send(t, req).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let req = Request::get("/settings/users")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .body(Body::empty())
        .unwrap();
    let (status, page) = send(t, req).await;
    assert_eq!(status, StatusCode::OK);
    page
}

#[tokio::test]
async fn an_admin_cannot_delete_themselves_or_the_last_admin_but_may_delete_others() {
    let t = TestApp::start().await;
    let (sid, csrf) = session_for(&t.store, "kanri", "admin").await;
    let me = t.hub.list_users().await.unwrap()[0].id.clone();
    let page = delete_then_read(&t, &sid, &csrf, &me).await;
    assert!(
        page.contains("自分自身と最後の管理者は削除できません"),
        "{page}"
    );
    assert_eq!(t.hub.count_users().await.unwrap(), 1);

    session_for(&t.store, "tanaka", "operator").await;
    let users = t.hub.list_users().await.unwrap();
    let tanaka = users.iter().find(|u| u.username == "tanaka").unwrap();
    let page = delete_then_read(&t, &sid, &csrf, &tanaka.id).await;
    assert!(page.contains("ユーザーを削除しました"), "{page}");
    assert!(!page.contains("tanaka"), "{page}");
    assert_eq!(t.hub.count_users().await.unwrap(), 1);
}

/// The progress bar's JSON without a session: 401, worded in the page's language.
#[tokio::test]
async fn the_progress_json_asks_to_sign_in_in_the_page_s_language() {
    let t = TestApp::start().await;
    for (lang, words) in [("ja", "サインインしてから"), ("en", "Sign in first")] {
        let req = Request::get(format!("/ui/runs/x/status?lang={lang}"))
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .unwrap();
        let (status, body) = send(&t, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "unauthorized", "{body}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(words),
            "{lang}: {body}"
        );
    }
}
