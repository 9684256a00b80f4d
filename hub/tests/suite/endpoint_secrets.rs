//! A connection's secrets are bound to the endpoint they were entered for (issue 18.1): moving an
//! endpoint needs the secrets again, link-local / metadata addresses are refused, webhook URLs are
//! checked at save, and a 接続テスト answer repeats a remote body only as a short plain excerpt.

use crate::support;

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{plugin_dir, TestHub};

const OLD_TOKEN: &str = "OLD-kintone-token-7f3a9c";
const NEW_TOKEN: &str = "NEW-kintone-token-51d2e8";

/// A local server that records every byte it receives and answers each request with a 500
/// carrying a 10 KB HTML body full of `<script>` and control characters.
fn trap() -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    std::thread::spawn(move || {
        let mut chunk =
            "<script>alert('x')</script>\u{1b}[31m\u{0}\u{7}<b>boom</b>\r\n".to_string();
        while chunk.len() < 10_240 {
            chunk.push_str("<script>steal()</script>\u{0}\u{1b}[2J<img src=x onerror=y>");
        }
        let body = format!("<html><body>{chunk}</body></html>");
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 8192];
            let mut got = Vec::new();
            loop {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        if got.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                }
            }
            into.lock().unwrap().extend_from_slice(&got);
            let head = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
    });
    (url, seen)
}

fn start(db: &str, envs: &[(&str, &str)]) -> (TestHub, tempfile::TempDir) {
    let plugins = plugin_dir(&["connector-kintone", "connector-zoho-crm"]);
    let hub = TestHub::start_env(
        db,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        &[&[("HUB_RUNNERS", "0")], envs].concat(),
    );
    (hub, plugins)
}

fn kintone(hub: &TestHub, base_url: &str) -> (u16, Value) {
    hub.post(
        "/api/connections",
        &json!({"connector": "kintone", "name": "kintone 本番", "registration_number": "TEST-0001",
                "phone": "03-0000-0000", "settings": {"base_url": base_url, "apps": "1"},
                "credentials": {"api_token": OLD_TOKEN}}),
    )
}

fn assert_clean(text: &str) {
    assert!(
        text.chars().count() <= 200,
        "too long ({}): {text}",
        text.chars().count()
    );
    assert!(
        !text.contains('<') && !text.contains('>'),
        "HTML in: {text}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "control characters in: {text:?}"
    );
}

#[test]
fn moving_an_endpoint_needs_the_secrets_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let (hub, _plugins) = start(&db, &[]);
    let (trap_url, seen) = trap();

    let (s, body) = kintone(&hub, "https://renkei-test.cybozu.com");
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    // Re-pointed without the token: refused, naming the credential; nothing changed.
    let moved = json!({"base_url": trap_url, "apps": "1"});
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"settings": moved})),
    );
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["field"], "credentials.api_token", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("settings.base_url"),
        "{body}"
    );
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["settings"]["base_url"], "https://renkei-test.cybozu.com");

    // Other settings change freely.
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"settings": {"base_url": "https://renkei-test.cybozu.com", "apps": "1,2"}})),
    );
    assert_eq!(s, 200, "{body}");

    // With the token entered again: saved.
    let (s, body) = hub.send(
        "PUT",
        &format!("/api/connections/{id}"),
        Some(&json!({"settings": moved, "credentials": {"api_token": NEW_TOKEN}})),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["settings"]["base_url"], trap_url.as_str());

    // 接続テスト reaches the new host with the new token only; the remote 10 KB HTML error page
    // comes back as a short plain excerpt.
    let (s, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["ok"], false, "{check}");
    assert_clean(check["error"]["message"].as_str().unwrap());
    if let Some(ja) = check["error"]["message_ja"].as_str() {
        assert_clean(ja);
    }
    let code = check["error"]["code"].as_str().unwrap();
    assert!(code.len() <= 64 && !code.contains('<'), "{check}");
    let got = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    assert!(
        got.contains(NEW_TOKEN),
        "the listener saw no request: {got}"
    );
    assert!(
        !got.contains(OLD_TOKEN),
        "the old token reached the new host: {got}"
    );

    // Link-local / metadata endpoints are refused at save, in every spelling.
    for bad in [
        "http://169.254.169.254",
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166",
        "http://[fd00:ec2::254]",
    ] {
        let (s, body) = hub.send(
            "PUT",
            &format!("/api/connections/{id}"),
            Some(&json!({"settings": {"base_url": bad, "apps": "1"}, "credentials": {"api_token": NEW_TOKEN}})),
        );
        assert_eq!(s, 400, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "settings.base_url", "{body}");
        let (s, body) = kintone(&hub, bad);
        assert_eq!(s, 400, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "settings.base_url", "{body}");
    }

    // Webhook URLs are URLs, and not metadata addresses.
    for bad in [
        "not a url at all",
        "ftp://example.com/hook",
        "http://169.254.169.254/hook",
    ] {
        let (s, body) = hub.post(
            "/api/flows",
            &json!({"name": "通知テスト", "source": {"connection": id, "object": "1"},
                    "target": {"connection": id, "object": "2"},
                    "notify": {"on": "always", "webhook": {"format": "slack", "url": bad}}}),
        );
        assert_eq!(s, 400, "{bad}: {body}");
        assert_eq!(body["error"]["field"], "notify.webhook.url", "{body}");
    }
    hub.stop();
}

#[test]
fn oauth_endpoint_change_drops_the_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let (hub, _plugins) = start(&db, &[]);
    let settings = |api: &str| json!({"accounts_url": "http://127.0.0.1:9", "api_domain": api});
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "zoho-crm", "name": "Zoho", "registration_number": "TEST-0002",
                "phone": "03-0000-0000", "settings": settings("http://127.0.0.1:9"),
                "credentials": {"client_id": "cid", "client_secret": "csecret", "refresh_token": "rt-old"}}),
    );
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let path = format!("/api/connections/{id}");

    let (s, body) = hub.send(
        "PUT",
        &path,
        Some(&json!({"settings": settings("http://127.0.0.1:10")})),
    );
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"]["field"], "credentials.client_id", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("credentials.client_secret"),
        "{body}"
    );

    let creds = json!({"client_id": "cid", "client_secret": "csecret"});
    let (s, body) = hub.send(
        "PUT",
        &path,
        Some(&json!({"settings": settings("http://127.0.0.1:10"), "credentials": creds})),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["token"]["status"], "reauthorize", "{body}");
    assert_eq!(body["status"], "reauthorize", "{body}");

    // A new refresh token in the same change: usable again without the consent step, and
    // 未確認 (unchecked) until a check or a run uses it.
    let mut with_token = creds.clone();
    with_token["refresh_token"] = json!("rt-new");
    let (s, body) = hub.send(
        "PUT",
        &path,
        Some(&json!({"settings": settings("http://127.0.0.1:11"), "credentials": with_token})),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["status"], "unchecked", "{body}");
    assert!(
        !body["credentials_set"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k == "refresh_token"),
        "{body}"
    );
    hub.stop();
}

/// Saved while the admin allowed link-local addresses, refused at connect time once not.
#[test]
fn link_local_endpoints_are_refused_at_connect_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let (hub, _p) = start(&db, &[("HUB_ALLOW_LINK_LOCAL", "1")]);
    let (s, body) = kintone(&hub, "http://169.254.169.254");
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    hub.stop();

    let (hub, _p) = start(&db, &[]);
    let started = std::time::Instant::now();
    let (s, check) = hub.post(&format!("/api/connections/{id}/check"), &json!({}));
    assert_eq!(s, 200, "{check}");
    assert_eq!(check["ok"], false, "{check}");
    assert_eq!(check["error"]["code"], "endpoint_refused", "{check}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the hub tried to connect"
    );
    hub.stop();
}

/// A minimal browser: one session cookie, the page's CSRF token.
struct Browser {
    base: String,
    http: reqwest::blocking::Client,
    cookie: String,
}

impl Browser {
    fn take_cookie(&mut self, r: &reqwest::blocking::Response) {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("renkei_session=") {
                self.cookie = rest.split(';').next().unwrap().to_string();
            }
        }
    }

    fn get(&mut self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", format!("renkei_session={}", self.cookie))
            .send()
            .unwrap();
        self.take_cookie(&r);
        r.text().unwrap()
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Cookie", format!("renkei_session={}", self.cookie))
            .form(form)
            .send()
            .unwrap();
        self.take_cookie(&r);
        (r.status().as_u16(), r.text().unwrap())
    }
}

fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 20;
    page[at..].split('"').next().unwrap().to_string()
}

/// The connection page's form follows the same rule, and says so on the credential field.
#[test]
fn the_edit_form_asks_for_the_secrets_again_on_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let mut admin = std::process::Command::new(support::HUB)
        .args(["admin", "create", "boss", "--database", &db])
        .env("HUB_MASTER_KEY", support::MASTER_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    admin
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery 9\n")
        .unwrap();
    assert!(admin.wait().unwrap().success());
    let (hub, _plugins) = start(&db, &[]);
    let (trap_url, seen) = trap();
    let (s, body) = kintone(&hub, "https://renkei-test.cybozu.com");
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    let mut b = Browser {
        base: hub.url.clone(),
        http: reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie: String::new(),
    };
    let page = b.get("/login");
    let token = csrf(&page);
    let (s, page) = b.post(
        "/login",
        &[
            ("_csrf", &token),
            ("username", "boss"),
            ("password", "correct horse battery 9"),
            ("next", "/"),
        ],
    );
    assert_eq!(s, 303, "{page}");
    let path = format!("/connections/{id}");
    for (lang, words) in [
        ("", "もう一度入力してください"),
        ("?lang=en", "enter them again"),
    ] {
        let page = b.get(&format!("{path}{lang}"));
        let token = csrf(&page);
        let (s, page) = b.post(
            &format!("{path}{lang}"),
            &[
                ("_csrf", token.as_str()),
                ("_action", "test"),
                ("name", "kintone 本番"),
                ("registration_number", "TEST-0001"),
                ("phone", "03-0000-0000"),
                ("s.base_url", trap_url.as_str()),
                ("s.apps", "1"),
                ("c.api_token", ""),
            ],
        );
        assert_eq!(s, 400, "{page}");
        let at = page
            .find("data-error-for=\"c.api_token\"")
            .expect("an error on the token field");
        assert!(
            page[at..].split("</p>").next().unwrap().contains(words),
            "{page}"
        );
    }
    let (_, c) = hub.get(&format!("/api/connections/{id}"));
    assert_eq!(c["settings"]["base_url"], "https://renkei-test.cybozu.com");
    assert!(
        seen.lock().unwrap().is_empty(),
        "the test ran against the new host"
    );
    hub.stop();
}
