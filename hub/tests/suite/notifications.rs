//! A failed run sends the flow's notifications: a Slack-shaped webhook and a mail through SMTP.
//! The webhook URL is a secret: answered as "[REDACTED]" and not stored in plaintext.

use crate::support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;
use support::filestore::{pair, ENV};

/// Accepts one HTTP request and hands over its body.
fn http_sink() -> (u16, Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        let mut len = 0;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        tx.send(String::from_utf8_lossy(&body).into_owned())
            .unwrap();
    });
    (port, rx)
}

/// Speaks just enough SMTP to take one mail; hands over the envelope and data.
fn smtp_sink() -> (u16, Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut r = BufReader::new(s.try_clone().unwrap());
        s.write_all(b"220 sink ESMTP\r\n").unwrap();
        let mut seen = String::new();
        let mut in_data = false;
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            let upper = line.to_ascii_uppercase();
            let reply: &[u8] = if in_data {
                if line == ".\r\n" {
                    in_data = false;
                    b"250 queued\r\n"
                } else {
                    continue;
                }
            } else if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                b"250 sink\r\n"
            } else if upper.starts_with("DATA") {
                in_data = true;
                b"354 go on\r\n"
            } else if upper.starts_with("QUIT") {
                s.write_all(b"221 bye\r\n").unwrap();
                break;
            } else {
                b"250 ok\r\n"
            };
            s.write_all(reply).unwrap();
        }
        tx.send(seen).unwrap();
    });
    (port, rx)
}

#[test]
fn failed_run_posts_webhook_and_mails() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let (hook_port, hook) = http_sink();
    let (smtp_port, mail) = smtp_sink();
    let secret_path = "/services/T000/B000/SECRETxyz";
    let p = pair(
        &db,
        json!({"notify": {"on": "failure", "email": ["ops@example.co.jp"],
                          "webhook": {"format": "slack", "url": format!("http://127.0.0.1:{hook_port}{secret_path}")}}}),
    );
    // Saving the flow back as read keeps the stored webhook.
    let (_, flow) = p.hub.get(&format!("/api/flows/{}", p.flow));
    assert_eq!(flow["notify"]["webhook"]["url"], "[REDACTED]", "{flow}");
    // Break the source: its data file is unreadable, so the run fails.
    std::fs::create_dir_all(&p.a).unwrap();
    std::fs::write(p.a.join("companies.json"), "壊れたデータ").unwrap();
    let (s, body) = p
        .hub
        .send("PUT", &format!("/api/flows/{}", p.flow), Some(&flow));
    assert_eq!(s, 200, "{body}");

    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let mut env: Vec<(&str, &str)> = ENV.to_vec();
    env.push(("HUB_SMTP_URL", &smtp));
    env.push(("HUB_MAIL_FROM", "hub@example.co.jp"));
    // The link in the message comes from the config file's `public_url`.
    let cfg = dir.path().join("hub.toml");
    std::fs::write(&cfg, "public_url = \"https://hub.example.co.jp/\"\n").unwrap();
    let cfg = cfg.display().to_string();
    env.push(("HUB_CONFIG", &cfg));
    let (code, out) = p
        .hub
        .cli(&["run", &p.flow], &[p.plugins.path().to_path_buf()], &env);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(": failed"), "{out}");

    let body = hook
        .recv_timeout(Duration::from_secs(20))
        .expect("no webhook call");
    let v: Value = serde_json::from_str(&body).unwrap();
    let text = v["text"].as_str().unwrap();
    assert!(
        text.contains("会社 A → B") && text.contains("失敗") && text.contains("FAILED"),
        "{text}"
    );
    assert!(
        text.contains("file store"),
        "the reason is in the message: {text}"
    );
    // The link opens the run's page on this hub (not a page that does not exist).
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://hub.example.co.jp/"))
        .unwrap_or_else(|| panic!("no link to the hub: {text}"));
    let path = link.trim_start_matches("https://hub.example.co.jp");
    assert!(path.starts_with("/runs/"), "{link}");
    let served = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}{path}", p.hub.url))
        .send()
        .unwrap();
    assert_ne!(served.status(), 404, "{link} is not a page of the hub");
    assert!(
        served.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/setup"),
        "the run page asks for a user, as pages do"
    );

    let smtp_log = mail.recv_timeout(Duration::from_secs(20)).expect("no mail");
    assert!(
        smtp_log.contains("RCPT TO:<ops@example.co.jp>"),
        "{smtp_log}"
    );
    assert!(
        smtp_log.contains("MAIL FROM:<hub@example.co.jp>"),
        "{smtp_log}"
    );
    assert!(
        smtp_log
            .to_ascii_lowercase()
            .contains("content-type: text/plain"),
        "{smtp_log}"
    );

    // The webhook URL never reached the database in plaintext.
    p.hub.stop();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let Ok(bytes) = std::fs::read(entry.unwrap().path()) else {
            continue;
        };
        assert!(
            !bytes
                .windows(secret_path.len())
                .any(|w| w == secret_path.as_bytes()),
            "webhook URL stored in plaintext"
        );
    }
}
