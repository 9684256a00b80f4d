//! お問い合わせ reaches someone (issue 20, point 8): an inquiry posted to `/api/inquiries` is
//! delivered to the support address by mail and webhook, its sender gets an acknowledgement
//! (Japanese first, English below) with what they sent, and the inquiry shows `sent`. With the
//! mail server down it shows `failed` with the reason and is retried, and sent once the server
//! is up. With no support address it stays `pending`.

use crate::support;

use serde_json::{json, Value};
use std::net::TcpListener;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::mail::{http_sink, smtp_sink, smtp_sink_on, Mail};
use support::{databases, free_port, TestHub};

const SUPPORT: &str = "support@example.co.jp";
const SENDER: &str = "taro@example.co.jp";

fn inquiry() -> Value {
    json!({"company": "株式会社テスト商事", "name": "山田 太郎", "email": SENDER,
           "registration_number": "1234-5678-9012", "connector_name": "kintone コネクタ"})
}

fn mails(rx: &Receiver<Mail>, n: usize) -> Vec<Mail> {
    (0..n)
        .map(|i| {
            rx.recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("mail {} of {n} did not arrive", i + 1))
        })
        .collect()
}

fn to<'a>(all: &'a [Mail], addr: &str) -> &'a Mail {
    all.iter()
        .find(|m| m.to.iter().any(|t| t == addr))
        .unwrap_or_else(|| panic!("no mail to {addr}: {all:?}"))
}

fn has_all_fields(text: &str) {
    for v in [
        "株式会社テスト商事",
        "山田 太郎",
        SENDER,
        "1234-5678-9012",
        "kintone コネクタ",
    ] {
        assert!(text.contains(v), "{v} is missing from:\n{text}");
    }
}

/// The inquiry as `GET /api/inquiries` lists it.
fn listed(hub: &TestHub, id: &str) -> Value {
    let (s, all) = hub.get("/api/inquiries");
    assert_eq!(s, 200, "{all}");
    all.as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} is not listed: {all}"))
}

fn wait_status(hub: &TestHub, id: &str, want: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let i = listed(hub, id);
        if i["delivery_status"] == want {
            return i;
        }
        assert!(
            start.elapsed() < within,
            "the inquiry is not {want}: {i}\n{}",
            hub.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_inquiry_reaches_the_support_address_and_its_sender() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()) {
        let (smtp_port, mail) = smtp_sink();
        let (hook_port, hook) = http_sink();
        let smtp = format!("smtp://127.0.0.1:{smtp_port}");
        let webhook = format!("http://127.0.0.1:{hook_port}/hooks/support");
        let hub = TestHub::start_env(
            &db,
            tempfile::tempdir().unwrap(),
            &[],
            &[],
            &[
                ("HUB_SMTP_URL", &smtp),
                ("HUB_MAIL_FROM", "hub@example.co.jp"),
                ("HUB_SUPPORT_EMAIL", SUPPORT),
                ("HUB_SUPPORT_WEBHOOK", &webhook),
            ],
        );
        let (s, body) = hub.post("/api/inquiries", &inquiry());
        assert_eq!(s, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_string();

        let all = mails(&mail, 2);
        let support = to(&all, SUPPORT);
        has_all_fields(&support.body);
        assert!(
            support.headers.contains(&format!("Reply-To: {SENDER}")),
            "a reply goes to the sender: {}",
            support.headers
        );
        let ack = to(&all, SENDER);
        has_all_fields(&ack.body);
        let ja = ack
            .body
            .find("お問い合わせを受け付けました")
            .expect("Japanese");
        let en = ack
            .body
            .find("We have received your inquiry")
            .expect("English");
        assert!(ja < en, "Japanese first:\n{}", ack.body);

        let sent: Value = serde_json::from_str(
            &hook
                .recv_timeout(Duration::from_secs(30))
                .expect("no webhook call"),
        )
        .unwrap();
        assert_eq!(sent["inquiry"]["id"], id.as_str(), "{sent}");
        for k in [
            "company",
            "name",
            "email",
            "registration_number",
            "connector_name",
        ] {
            assert_eq!(sent["inquiry"][k], inquiry()[k], "{sent}");
        }

        let i = wait_status(&hub, &id, "sent", Duration::from_secs(10));
        assert_eq!(i["delivery_attempts"], 1, "{i}");
        assert!(i["delivery_error"].is_null(), "{i}");
        assert!(i["delivered_at"].is_string(), "{i}");
        // Sent once: 再送 refuses, and nothing more goes out.
        let (s, body) = hub.post(&format!("/api/inquiries/{id}/retry"), &json!({}));
        assert_eq!(s, 409, "{body}");
        assert!(mail.recv_timeout(Duration::from_millis(1500)).is_err());
        hub.stop();
    }
}

#[test]
fn a_failed_delivery_shows_its_reason_and_is_retried_once_the_server_is_up() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()) {
        // Nothing listens on this port until later.
        let smtp_port = free_port();
        let smtp = format!("smtp://127.0.0.1:{smtp_port}");
        let hub = TestHub::start_env(
            &db,
            tempfile::tempdir().unwrap(),
            &[],
            &[],
            &[
                ("HUB_SMTP_URL", &smtp),
                ("HUB_MAIL_FROM", "hub@example.co.jp"),
                ("HUB_SUPPORT_EMAIL", SUPPORT),
                ("HUB_INQUIRY_RETRY_SECS", "1"),
            ],
        );
        let started = Instant::now();
        let (s, body) = hub.post("/api/inquiries", &inquiry());
        assert_eq!(s, 201, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the form's answer does not wait for the delivery"
        );
        let id = body["id"].as_str().unwrap().to_string();
        let failed = wait_status(&hub, &id, "failed", Duration::from_secs(30));
        let reason = failed["delivery_error"].as_str().unwrap_or_default();
        assert!(reason.contains("support mail"), "{failed}");
        assert!(
            failed["delivery_attempts"].as_i64().unwrap() >= 1,
            "{failed}"
        );
        assert!(failed["next_attempt_at"].is_string(), "{failed}");

        // The server comes up: the retry delivers both mails.
        let mail = smtp_sink_on(TcpListener::bind(("127.0.0.1", smtp_port)).unwrap());
        let all = mails(&mail, 2);
        has_all_fields(&to(&all, SUPPORT).body);
        has_all_fields(&to(&all, SENDER).body);
        let sent = wait_status(&hub, &id, "sent", Duration::from_secs(30));
        assert!(sent["delivery_attempts"].as_i64().unwrap() >= 2, "{sent}");
        assert!(sent["delivery_error"].is_null(), "{sent}");
        hub.stop();
    }
}

#[test]
fn with_no_support_address_an_inquiry_stays_pending() {
    let dir = tempfile::tempdir().unwrap();
    let db = databases(dir.path()).remove(0);
    let hub = TestHub::start(&db, tempfile::tempdir().unwrap(), &[], &[]);
    let (s, body) = hub.post("/api/inquiries", &inquiry());
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(500));
    let i = listed(&hub, &id);
    assert_eq!(i["delivery_status"], "pending", "{i}");
    assert_eq!(i["delivery_attempts"], 0, "{i}");
    // The five fields are answered as before.
    for k in [
        "company",
        "name",
        "email",
        "registration_number",
        "connector_name",
    ] {
        assert_eq!(i[k], inquiry()[k], "{i}");
    }
    let (s, body) = hub.post(&format!("/api/inquiries/{id}/retry"), &json!({}));
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["field"], "support_email", "{body}");
    hub.stop();
}

#[test]
fn a_support_webhook_must_be_http_and_not_link_local() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    for (url, words) in [
        (
            "ftp://example.co.jp/in",
            "URL starting with http:// or https://",
        ),
        ("http://169.254.169.254/latest", "Link-local"),
    ] {
        let out = std::process::Command::new(support::HUB)
            .args(["migrate", "--database", &db])
            .env("HUB_MASTER_KEY", support::MASTER_KEY)
            .env("HUB_SUPPORT_WEBHOOK", url)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{url} was taken");
        assert!(
            err.contains("HUB_SUPPORT_WEBHOOK") && err.contains(words),
            "{url}: {err}"
        );
    }
    let out = std::process::Command::new(support::HUB)
        .args(["migrate", "--database", &db])
        .env("HUB_MASTER_KEY", support::MASTER_KEY)
        .env("HUB_SUPPORT_EMAIL", "not an address")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("HUB_SUPPORT_EMAIL"),
        "{err}"
    );
}
