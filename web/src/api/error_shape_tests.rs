//! Every `/api` error is `{"error": {"code", "message"}}` JSON, as the OpenAPI document's
//! `Error` schema says, also when axum itself refuses the request (schemathesis found these
//! as plain text).

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

#[tokio::test]
async fn requests_axum_refuses_still_answer_the_error_shape() {
    let t = crate::test_app::TestApp::start().await;
    let token = t
        .store
        .create_api_token_with("t", "admin", None)
        .await
        .unwrap()
        .token;
    for (method, path, status, code) in [
        ("GET", "/api/runs?limit=1&limit=2", 400, "invalid_input"),
        ("GET", "/api/flows/%ff", 400, "invalid_input"),
        ("PATCH", "/api/flows", 405, "method_not_allowed"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let resp = t.app.clone().oneshot(req).await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::from_u16(status).unwrap(),
            "{method} {path}"
        );
        let content_type = resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{method} {path}: {content_type}"
        );
        if status == 405 {
            assert!(
                resp.headers().contains_key(header::ALLOW),
                "405 keeps Allow"
            );
        }
        let body: Value =
            serde_json::from_slice(&to_bytes(resp.into_body(), 1 << 20).await.unwrap()).unwrap();
        assert_eq!(body["error"]["code"], code, "{method} {path}: {body}");
        assert!(body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
}
