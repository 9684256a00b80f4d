//! The UI's guards through the real router: CSRF refusal, the session cookie's flags, the
//! setup → login redirects, the operator role, escaping of user input and the language switch.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use hub_core::plugins::{HostConfig, PluginHost};
use hub_core::Hub;
use hub_store::{Cipher, Store};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

use crate::AppState;

struct TestHub {
    app: Router,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn hub() -> TestHub {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/hub.db", dir.path().display());
    let store = Store::open(&url, Cipher::from_key(&[9u8; 32]))
        .await
        .unwrap();
    let plugins = PluginHost::discover(HostConfig {
        worker_exe: "/bin/false".into(),
        plugin_dirs: vec![],
        call_timeout: Duration::from_secs(5),
        memory_limit: None,
    })
    .await;
    let state = AppState {
        hub: Hub::new(store.clone(), plugins),
        runs_queued: Arc::default(),
        login_limit: Arc::default(),
    };
    TestHub {
        app: crate::router(state),
        store,
        _dir: dir,
    }
}

/// A signed-in session for a user with `role`, made directly in the store (no slow hashing).
async fn session_for(store: &Store, name: &str, role: &str) -> (String, String) {
    let id = store
        .insert_user(name, "$argon2id$unused", role)
        .await
        .unwrap();
    let (sid, s) = store.create_session(Some(&id), 60_000).await.unwrap();
    (sid, s.csrf_token)
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Vec<String>, String) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let cookies = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .chain(
            resp.headers()
                .get(header::LOCATION)
                .map(|l| format!("location:{}", l.to_str().unwrap())),
        )
        .collect();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    (status, cookies, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str, sid: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(s) = sid {
        b = b.header(header::COOKIE, format!("renkei_session={s}"));
    }
    b.body(Body::empty()).unwrap()
}

fn post(path: &str, sid: Option<&str>, body: &str) -> Request<Body> {
    let mut b =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(s) = sid {
        b = b.header(header::COOKIE, format!("renkei_session={s}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn a_post_without_the_session_csrf_token_is_refused() {
    let h = hub().await;
    let (sid, csrf) = session_for(&h.store, "admin", "admin").await;
    let form = "company=a&name=b&email=c%40example.jp&registration_number=1234&connector_name=x";
    for body in [
        form.to_string(),
        format!("{form}&_csrf=wrong"),
        format!("{form}&_csrf="),
    ] {
        let (status, _, page) = send(&h.app, post("/contact", Some(&sid), &body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(page.contains("フォームの有効期限が切れたか"), "{page}");
    }
    assert!(h.store.list_inquiries(10).await.unwrap().is_empty());
    // Another session's token does not work either.
    let (_, other_csrf) = session_for(&h.store, "op", "operator").await;
    let (status, _, _) = send(
        &h.app,
        post(
            "/contact",
            Some(&sid),
            &format!("{form}&_csrf={other_csrf}"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without any session (a forged login form) as well.
    let (status, _, _) = send(
        &h.app,
        post("/login", None, "username=a&password=b&_csrf=x"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The right token passes: the inquiry is saved and the browser sent back to the form.
    let (status, headers, _) = send(
        &h.app,
        post("/contact", Some(&sid), &format!("{form}&_csrf={csrf}")),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    assert_eq!(h.store.list_inquiries(10).await.unwrap().len(), 1);
    // The header form (used by scripts) works too.
    let req = Request::post("/flows/nope/run")
        .header(header::COOKIE, format!("renkei_session={sid}"))
        .header("x-csrf-token", &csrf)
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn setup_then_login_redirects_and_the_session_cookie_is_httponly_lax() {
    let h = hub().await;
    let (status, headers, _) = send(&h.app, get("/", None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers.contains(&"location:/setup".to_string()),
        "{headers:?}"
    );

    let (status, headers, page) = send(&h.app, get("/setup", None)).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers
        .iter()
        .find(|c| c.starts_with("renkei_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.contains("Secure"), "plain http must not set Secure");
    let anon = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("renkei_session=")
        .to_string();
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    // Behind a TLS proxy the cookie is Secure.
    let req = Request::get("/setup")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let (_, headers, _) = send(&h.app, req).await;
    assert!(headers
        .iter()
        .any(|c| c.starts_with("renkei_session=") && c.contains("; Secure")));

    // A mistyped confirmation keeps the form, with the error next to the field.
    let body =
        format!("_csrf={csrf}&username=admin&password=long+enough+pw&password_confirm=other");
    let (status, _, page) = send(&h.app, post("/setup", Some(&anon), &body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("パスワードが一致しません"));
    assert_eq!(h.store.count_users().await.unwrap(), 0);

    let body = format!(
        "_csrf={csrf}&username=admin&password=long+enough+pw&password_confirm=long+enough+pw"
    );
    let (status, headers, _) = send(&h.app, post("/setup", Some(&anon), &body)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    let signed = headers
        .iter()
        .find(|c| c.starts_with("renkei_session="))
        .unwrap();
    let sid = signed
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("renkei_session=");
    assert_ne!(sid, anon, "signing in must start a new session");
    assert!(h.store.get_session(&anon).await.unwrap().is_none());
    let (status, _, page) = send(&h.app, get("/", Some(sid))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("処理履歴（最近5件）"), "{page}");

    // Setup is one-time; without a session the pages ask for a login, remembering the page.
    let (_, headers, _) = send(&h.app, get("/setup", None)).await;
    assert!(headers.contains(&"location:/login".to_string()));
    let (_, headers, _) = send(&h.app, get("/runs?flow=x", None)).await;
    assert!(
        headers.contains(&"location:/login?next=%2Fruns%3Fflow%3Dx".to_string()),
        "{headers:?}"
    );
}

#[tokio::test]
async fn an_operator_can_view_and_run_but_not_change_connections_flows_or_users() {
    let h = hub().await;
    session_for(&h.store, "admin", "admin").await;
    let (sid, csrf) = session_for(&h.store, "op", "operator").await;
    let (status, _, page) = send(&h.app, get("/", Some(&sid))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("href=\"/connections/new\""),
        "operators get no 新しい接続 link"
    );
    for path in [
        "/connections/new",
        "/connections/new/settings",
        "/flows/new",
        "/settings/users",
    ] {
        let (status, _, page) = send(&h.app, get(path, Some(&sid))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.contains("この操作は管理者のみが行えます"), "{path}");
    }
    for path in [
        "/connections/new",
        "/flows/new",
        "/flows/x/edit",
        "/flows/x/delete",
        "/connections/x/delete",
        "/connections/x/reauthorize",
        "/settings/users",
    ] {
        let (status, _, _) = send(
            &h.app,
            post(path, Some(&sid), &format!("_csrf={csrf}&name=x")),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "POST {path}");
    }
    assert!(h.store.list_users().await.unwrap().len() == 2);
    // Viewing and running are allowed (an unknown flow is simply not found).
    for path in ["/runs", "/settings/tokens", "/contact", "/help"] {
        let (status, _, _) = send(&h.app, get(path, Some(&sid))).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, _, _) = send(
        &h.app,
        post("/flows/x/run", Some(&sid), &format!("_csrf={csrf}")),
    )
    .await;
    assert_ne!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn user_input_is_shown_escaped_and_errors_sit_next_to_their_fields() {
    let h = hub().await;
    let (sid, csrf) = session_for(&h.store, "admin", "admin").await;
    let evil = "<script>alert(1)</script>";
    let long = "あ".repeat(101);
    let body = format!(
        "_csrf={csrf}&company={}&name={}&email=not-an-email&registration_number=&connector_name=kintone",
        enc(evil),
        enc(&long)
    );
    let (status, _, page) = send(&h.app, post("/contact", Some(&sid), &body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!page.contains(evil));
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || page.contains("&lt;script&gt;")
    );
    assert!(page.contains("100文字以内で入力してください（現在 101 文字）"));
    assert!(page.contains("メールアドレスの形式が正しくありません"));
    assert!(page.contains("data-error-for=\"registration_number\""));
    assert!(h.store.list_inquiries(10).await.unwrap().is_empty());

    let good = format!(
        "_csrf={csrf}&company={}&name=%E5%B1%B1%E7%94%B0&email=taro%40example.co.jp&registration_number=1234-5678&connector_name=kintone",
        enc(evil)
    );
    let (status, _, _) = send(&h.app, post("/contact", Some(&sid), &good)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = send(&h.app, get("/contact", Some(&sid))).await;
    assert!(page.contains("お問い合わせを受け付けました"));
    assert!(
        page.contains("&lt;script&gt;"),
        "the admin list shows the company escaped"
    );
    assert!(!page.contains(evil));
}

#[tokio::test]
async fn english_is_one_switch_away_and_remembered() {
    let h = hub().await;
    let (sid, _) = session_for(&h.store, "admin", "admin").await;
    let (_, headers, page) = send(&h.app, get("/runs?lang=en", Some(&sid))).await;
    assert!(
        headers.iter().any(|c| c.starts_with("lang=en")),
        "{headers:?}"
    );
    assert!(page.contains("<html lang=\"en\">") && page.contains("History"));
    let req = Request::get("/runs")
        .header(header::COOKIE, format!("renkei_session={sid}; lang=en"))
        .body(Body::empty())
        .unwrap();
    let (_, _, page) = send(&h.app, req).await;
    assert!(page.contains("Time (start - end)"));
    let (_, _, page) = send(&h.app, get("/runs", Some(&sid))).await;
    assert!(
        page.contains("処理時間（開始 - 終了）"),
        "Japanese by default"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_name_for_a_while() {
    let h = hub().await;
    let hasher = super::passwords::password_hasher();
    hub_core::accounts::create_first_admin(&h.store, &hasher, "admin", "long enough pw")
        .await
        .unwrap();
    let (_, headers, page) = send(&h.app, get("/login", None)).await;
    let anon = headers
        .iter()
        .find(|c| c.starts_with("renkei_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("renkei_session=")
        .to_string();
    let csrf = page
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let login = |pw: &str| format!("_csrf={csrf}&username=admin&password={}", enc(pw));
    for _ in 0..super::login_limit::MAX_FAILURES {
        let (status, _, page) =
            send(&h.app, post("/login", Some(&anon), &login("wrong one"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("ユーザー名またはパスワードが違います"));
    }
    // Now even the right password is refused, with a message that says why and for how long.
    let (status, headers, page) = send(
        &h.app,
        post("/login", Some(&anon), &login("long enough pw")),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{headers:?}");
    assert!(page.contains("15分間ログインできません"), "{page}");
}
