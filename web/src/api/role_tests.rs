//! API tokens' roles through the real router: every route of the table (`openapi::ROUTES`, the
//! one that also makes the OpenAPI document) with a token of each role answers 403 `forbidden`
//! exactly when the token's role is below the route's; expired and revoked tokens get 401; and
//! every route the router declares is in the table, so a new route cannot escape it.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hub_core::accounts::Role;
use hub_domain::now_ms;
use hub_store::Store;
use serde_json::Value;
use tower::ServiceExt;

use crate::openapi::{route, ROUTES};

async fn app() -> (Router, Store, crate::test_app::TestApp) {
    let t = crate::test_app::TestApp::start().await;
    (t.app.clone(), t.store.clone(), t)
}

async fn call(app: &Router, method: &str, path: &str, token: &str) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A concrete path for a route of the table: each `{placeholder}` filled with a thing that
/// does not exist, so no call changes anything.
fn concrete(path: &str) -> String {
    path.replace("{id}", "does-not-exist")
        .replace("{action}", "no_such_action")
        .replace("{object}", "no_such_object")
        .replace("{name}", "x.csv")
}

#[tokio::test]
async fn every_route_refuses_exactly_the_roles_below_its_own() {
    let (app, store, _dir) = app().await;
    let mut tokens = vec![];
    for role in Role::ALL {
        let t = store
            .create_api_token_with(role.as_str(), role.as_str(), None)
            .await
            .unwrap();
        tokens.push((role, t.token));
    }
    let mut refused = 0;
    for r in ROUTES {
        let path = concrete(r.path);
        for (role, token) in &tokens {
            let (status, body) = call(&app, &r.method.to_uppercase(), &path, token).await;
            let what = format!(
                "{} {} with a {} token: {status} {body}",
                r.method,
                r.path,
                role.as_str()
            );
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}");
            if role.allows(r.role) {
                assert_ne!(status, StatusCode::FORBIDDEN, "{what}");
            } else {
                refused += 1;
                assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                assert_eq!(body["error"]["code"], "forbidden", "{what}");
                let msg = body["error"]["message"].as_str().unwrap();
                assert!(
                    msg.contains(role.as_str()) && msg.contains(r.role.as_str()),
                    "{what}"
                );
            }
        }
    }
    assert!(
        refused > 20,
        "only {refused} refusals: the walk did not run"
    );
    // Nothing was changed by the calls that were let through (all name missing things).
    assert!(store.list_connections().await.unwrap().is_empty());
    assert!(store.list_inquiries(10).await.unwrap().is_empty());
}

/// The table says what the UI says: reading is read-only; running is operator; changing is
/// admin. A route added with a weaker role than this fails here.
#[test]
fn the_role_table_follows_the_ui() {
    let operator = [
        "/api/connections/{id}/check",
        "/api/connections/{id}/token/refresh",
        "/api/flows/{id}/run",
        "/api/flows/{id}/preview",
        "/api/runs/{id}/undo",
        "/api/runs/{id}/retry-failed",
        "/api/flows/{id}/pending/dismiss",
    ];
    for r in ROUTES {
        let expected = match (r.method, r.path) {
            ("get", _) | ("post", "/api/inquiries") => Role::ReadOnly,
            ("post", p) if operator.contains(&p) => Role::Operator,
            _ => Role::Admin,
        };
        assert_eq!(r.role, expected, "{} {}", r.method, r.path);
    }
    // ユーザー連携: everyone reads it, only an administrator changes it.
    assert_eq!(
        route("get", "/api/connections/{id}/user-map").map(|r| r.role),
        Some(Role::ReadOnly)
    );
    assert_eq!(
        route("put", "/api/connections/{id}/user-map").map(|r| r.role),
        Some(Role::Admin)
    );
    // 全件を取り込む: anyone sees the estimate, only an administrator starts it.
    assert_eq!(
        route("get", "/api/flows/{id}/full-import").map(|r| r.role),
        Some(Role::ReadOnly)
    );
    assert_eq!(
        route("post", "/api/flows/{id}/full-import").map(|r| r.role),
        Some(Role::Admin)
    );
    // Each (method, path) once, and the lookup finds it (HEAD as GET).
    for r in ROUTES {
        let n = ROUTES
            .iter()
            .filter(|o| (o.method, o.path) == (r.method, r.path))
            .count();
        assert_eq!(n, 1, "{} {} listed {n} times", r.method, r.path);
        assert_eq!(route(r.method, r.path).unwrap().role, r.role);
    }
    assert_eq!(route("head", "/api/flows").unwrap().role, Role::ReadOnly);
    assert!(route("patch", "/api/flows").is_none());
}

/// Every `.route("PATH", METHOD(…)…)` of the router (this folder's mod.rs) is in the table.
#[test]
fn every_routed_method_is_in_the_table() {
    let src = include_str!("mod.rs");
    let body = &src[src.find("Router::new()").unwrap()..src.find(".layer(middleware").unwrap()];
    let method = regex::Regex::new(r"\b(get|post|put|delete|patch)\(").unwrap();
    let mut seen = 0;
    for chunk in body.split(".route(").skip(1) {
        let path = chunk.split('"').nth(1).unwrap();
        for m in method.captures_iter(chunk) {
            seen += 1;
            assert!(
                route(&m[1], path).is_some(),
                "{} {path} is routed but missing from openapi::ROUTES (give it a role there)",
                &m[1]
            );
        }
    }
    assert_eq!(
        seen,
        ROUTES.len(),
        "the router and the table differ in size"
    );
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_401() {
    let (app, store, _dir) = app().await;
    let live = store
        .create_api_token_with("live", "read_only", Some(now_ms() + 60_000))
        .await
        .unwrap();
    let (s, _) = call(&app, "GET", "/api/flows", &live.token).await;
    assert_eq!(s, StatusCode::OK);
    let old = store
        .create_api_token_with("old", "admin", Some(now_ms() - 1))
        .await
        .unwrap();
    let (s, body) = call(&app, "GET", "/api/flows", &old.token).await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    store.revoke_api_token("live").await.unwrap();
    let (s, _) = call(&app, "GET", "/api/flows", &live.token).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A role the code does not know counts as read-only.
    let odd = store
        .create_api_token_with("odd", "root", None)
        .await
        .unwrap();
    let (s, _) = call(&app, "GET", "/api/flows", &odd.token).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(&app, "DELETE", "/api/flows/does-not-exist", &odd.token).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}
