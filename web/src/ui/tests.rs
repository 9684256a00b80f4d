//! The UI's guards through the real router: CSRF refusal, the session cookie's flags, the
//! setup → login redirects, the operator role, escaping of user input and the language switch.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp as TestHub};

async fn hub() -> TestHub {
    TestHub::start().await
}

async fn hub_with(edge: crate::edge::EdgeConfig) -> TestHub {
    TestHub::with_edge(edge).await
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

    // A client's own X-Forwarded-Proto is not believed; behind a trusted TLS proxy the cookie
    // is Secure.
    let behind_proxy = || {
        Request::get("/setup")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = send(&h.app, behind_proxy()).await;
    assert!(
        !headers.iter().any(|c| c.contains("; Secure")),
        "{headers:?}"
    );
    let proxied = hub_with(crate::edge::EdgeConfig {
        public_https: false,
        trust_proxy: true,
    })
    .await;
    let (_, headers, _) = send(&proxied.app, behind_proxy()).await;
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
        "/connections/new/done",
        "/flows/new",
        "/flows/new?source=x",
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
    for path in [
        "/runs",
        "/settings/tokens",
        "/contact",
        "/help",
        "/help/start",
    ] {
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

fn from(mut req: Request<Body>, addr: &str) -> Request<Body> {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

/// An anonymous session's cookie and CSRF token, from the login page.
async fn login_form(app: &Router) -> (String, String) {
    let (_, headers, page) = send(app, get("/login", None)).await;
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
    (anon, csrf)
}

#[tokio::test]
async fn a_guesser_gets_nowhere_and_cannot_lock_the_real_user_out() {
    let h = hub().await;
    let hasher = super::passwords::password_hasher();
    h.hub
        .create_first_admin(&hasher, "yamada", "long enough pw")
        .await
        .unwrap();
    let (anon, csrf) = login_form(&h.app).await;
    let login = |pw: &str| format!("_csrf={csrf}&username=yamada&password={}", enc(pw));
    let attacker = "198.51.100.7:40000";
    let (mut checked, mut refused) = (0, 0);
    for _ in 0..40 {
        let req = from(post("/login", Some(&anon), &login("wrong one")), attacker);
        let resp = h.app.clone().oneshot(req).await.unwrap();
        match resp.status() {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                assert!(resp.headers().contains_key(header::RETRY_AFTER));
                let body = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
                let page = String::from_utf8_lossy(&body);
                assert!(page.contains("秒後にもう一度お試しください"), "{page}");
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        checked <= super::login_limit::FREE_FAILURES as usize + 1,
        "{checked} guesses were checked"
    );
    assert_eq!(checked + refused, 40);
    // Even the right password waits at the guessing address…
    let (status, _, _) = send(
        &h.app,
        from(
            post("/login", Some(&anon), &login("long enough pw")),
            attacker,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …but the real user, at their own desk, signs in at once.
    let (status, headers, _) = send(
        &h.app,
        from(
            post("/login", Some(&anon), &login("long enough pw")),
            "192.0.2.10:51000",
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{headers:?}");
    assert!(headers.contains(&"location:/".to_string()), "{headers:?}");
}

#[test]
fn next_after_sign_in_stays_on_this_hub() {
    use super::auth::safe_next;
    for evil in [
        "//evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "http:/evil.example",
        " //evil.example",
        "/\t\t//evil.example",
        "javascript:alert(1)",
        "",
    ] {
        assert_eq!(safe_next(evil), "/", "{evil:?}");
    }
    assert_eq!(safe_next("/runs?flow=x"), "/runs?flow=x");
    assert_eq!(safe_next("/flows/a b"), "/flows/a%20b");
    // Encoded slashes stay inside the path: a browser does not decode them into a host.
    assert_eq!(safe_next("/%2F%2Fevil.example"), "/%2F%2Fevil.example");
}

#[tokio::test]
async fn a_signed_in_login_redirect_never_leaves_the_hub() {
    let h = hub().await;
    let (sid, _) = session_for(&h.store, "admin", "admin").await;
    for (query, to) in [
        ("next=/%09/evil.example", "/"),
        ("next=%2F%5Cevil.example", "/"),
        ("next=//evil.example/x", "/"),
        ("next=/runs%3Fflow%3Dx", "/runs?flow=x"),
    ] {
        let (status, headers, _) = send(&h.app, get(&format!("/login?{query}"), Some(&sid))).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            headers.contains(&format!("location:{to}")),
            "{query}: {headers:?}"
        );
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let h = hub().await;
    for path in [
        "/login",
        "/setup",
        "/static/app.css",
        "/healthz",
        "/api/flows",
    ] {
        let resp = h.app.clone().oneshot(get(path, None)).await.unwrap();
        let hd = resp.headers();
        let csp = hd[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
        assert_eq!(hd[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(hd[header::X_FRAME_OPTIONS], "DENY", "{path}");
        assert!(hd.contains_key(header::REFERRER_POLICY), "{path}");
        assert!(
            !hd.contains_key(header::STRICT_TRANSPORT_SECURITY),
            "{path}"
        );
    }
    // No page may rely on inline script or style, which the policy blocks.
    for (name, text) in crate::ui::render::TEMPLATES {
        for banned in [
            "<script>",
            "style=\"",
            " onclick=",
            " onchange=",
            " onsubmit=",
        ] {
            assert!(!text.contains(banned), "{name} holds {banned}");
        }
    }
    // Served over https: HSTS, and Secure cookies.
    let tls = hub_with(crate::edge::EdgeConfig {
        public_https: true,
        trust_proxy: false,
    })
    .await;
    let resp = tls.app.clone().oneshot(get("/setup", None)).await.unwrap();
    assert!(resp.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    assert!(resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .contains("; Secure"));
}

#[tokio::test]
async fn an_over_limit_form_answers_413() {
    let h = hub().await;
    let (sid, csrf) = session_for(&h.store, "admin", "admin").await;
    let body = format!("_csrf={csrf}&company={}", "a".repeat(3 << 20));
    let (status, _, _) = send(&h.app, post("/contact", Some(&sid), &body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_over_limit_api_body_answers_413_not_400() {
    let h = hub().await;
    let token = h.store.create_api_token("big").await.unwrap();
    let body = format!("{{\"name\": \"{}\"}}", "a".repeat(3 << 20));
    let req = Request::post("/api/flows")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let (status, _, answer) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(answer.contains("\"too_large\""), "{answer}");
}

/// 全件を取り込む is offered to administrators only; the estimate step shows its box (here the
/// count fails: the connection's connector is not loaded), and the confirmed step queues a run
/// that reads the whole source (the flow's read position reset with it).
#[tokio::test]
async fn only_an_administrator_is_offered_and_may_start_a_full_import() {
    let h = hub().await;
    let (admin, admin_csrf) = session_for(&h.store, "admin", "admin").await;
    let (op, op_csrf) = session_for(&h.store, "op", "operator").await;
    // A connection whose connector is not loaded: the count fails, the pages still work.
    let conn = h
        .store
        .insert_connection(&hub_domain::NewConnection {
            connector_id: "kintone".into(),
            name: "kintone".into(),
            settings: Default::default(),
            registration_number: "1234-5678-9012".into(),
            phone: "03-1234-5678".into(),
            credentials: Default::default(),
            refresh_token: None,
        })
        .await
        .unwrap();
    let spec: hub_domain::FlowSpec = serde_json::from_value(serde_json::json!({
        "name": "顧客", "source": {"connection": conn, "object": "1"},
        "target": {"connection": conn, "object": "Accounts"}, "mapping": []
    }))
    .unwrap();
    let flow = h.store.insert_flow(&spec, None).await.unwrap();
    let (status, _, page) = send(&h.app, get(&format!("/flows/{flow}"), Some(&admin))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"flow-full-import\""), "{page}");
    let (status, _, page) = send(&h.app, get(&format!("/flows/{flow}"), Some(&op))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"flow-full-import\""));
    for path in ["full-import", "full-import/estimate"] {
        let (status, _, _) = send(
            &h.app,
            post(
                &format!("/flows/{flow}/{path}"),
                Some(&op),
                &format!("_csrf={op_csrf}"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let (status, _, page) = send(
        &h.app,
        post(
            &format!("/flows/{flow}/full-import/estimate"),
            Some(&admin),
            &format!("_csrf={admin_csrf}"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"full-import\""), "{page}");
    let (status, headers, _) = send(
        &h.app,
        post(
            &format!("/flows/{flow}/full-import"),
            Some(&admin),
            &format!("_csrf={admin_csrf}"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers.iter().any(|h| h.starts_with("location:/runs/")),
        "{headers:?}"
    );
    assert_eq!(
        h.store.get_cursor(&flow, "source@since").await.unwrap(),
        Some(String::new())
    );
}
