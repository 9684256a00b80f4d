//! お問い合わせ reaches someone (issue 20, point 8): an inquiry sent through the contact form
//! while the mail server is down is listed for the administrator at システム設定 → お問い合わせ
//! as 送信失敗 with the reason; once the server is up, 再送 delivers it to the support address
//! and the sender's acknowledgement, and the row reads 送信済み.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::support::{free_port, run_in_browser_env, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ inquiries";
const SUPPORT: &str = "support@example.co.jp";
const SENDER: &str = "hanako@example.co.jp";

/// The port the hub's `HUB_SMTP_URL` names; nothing listens there until the scenario says so.
static SMTP_PORT: OnceLock<u16> = OnceLock::new();

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sees_the_delivery_of_an_inquiry_and_resends_it() {
    let port = *SMTP_PORT.get_or_init(free_port);
    let smtp = format!("smtp://127.0.0.1:{port}");
    // No automatic retry within the test: the first attempt fails, 再送 does the rest.
    let envs = [
        ("HUB_SMTP_URL", smtp.as_str()),
        ("HUB_MAIL_FROM", "hub@example.co.jp"),
        ("HUB_SUPPORT_EMAIL", SUPPORT),
        ("HUB_INQUIRY_RETRY_SECS", "600"),
    ];
    run_in_browser_env("inquiries", &envs, |hub, b| Box::pin(scenario(hub, b))).await;
}

/// Takes any number of mails; hands over each one's recipients and raw data.
fn smtp_sink(port: u16) -> Receiver<(Vec<String>, String)> {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind the SMTP port");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { break };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let _ = s.write_all(b"220 sink ESMTP\r\n");
                let (mut to, mut data, mut in_data) = (Vec::new(), String::new(), false);
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if in_data {
                        if line == ".\r\n" {
                            in_data = false;
                            let _ = tx.send((std::mem::take(&mut to), std::mem::take(&mut data)));
                            let _ = s.write_all(b"250 queued\r\n");
                        } else {
                            data.push_str(&line);
                        }
                        continue;
                    }
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("RCPT TO:") {
                        to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
                    }
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 sink\r\n"
                    } else if upper.starts_with("DATA") {
                        in_data = true;
                        b"354 go on\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = s.write_all(b"221 bye\r\n");
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if s.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    rx
}

/// The delivery status of the one inquiry on the list page, reloading until it is `want`.
async fn wait_row(b: &Browser, url: &str, want: &str) -> R {
    let started = Instant::now();
    loop {
        b.goto(url).await?;
        let status = b
            .js("var r = document.querySelector('tr[data-inquiry-id]'); return r ? r.dataset.status : '';")
            .await?;
        if status == want {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(20) {
            return Err(format!(
                "the inquiry reads {status} (expected {want}); the page says:\n{}",
                b.body().await.unwrap_or_default()
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    b.goto(&url("/contact")).await?;
    b.find("#contact-form").await?;
    b.type_into("#contact-company", "株式会社さくら").await?;
    b.type_into("#contact-name", "佐藤 花子").await?;
    b.type_into("#contact-email", SENDER).await?;
    b.type_into("#contact-registration_number", "1234-5678-9012")
        .await?;
    b.type_into("#contact-connector_name", "Zoho CRM").await?;
    b.click("#contact-submit").await?;
    b.sees(&["お問い合わせを受け付けました"]).await?;
    b.find("#inquiry-deliveries-link").await?;

    // The mail server is down: 送信失敗 with the reason.
    let list = url("/settings/inquiries");
    wait_row(b, &list, "failed").await?;
    b.sees(&[
        "送信状況",
        "株式会社さくら",
        "佐藤 花子",
        SENDER,
        "Zoho CRM",
        "送信失敗",
        "support mail",
        "試行 1 回",
        "再送",
    ])
    .await?;
    if !b.all("#support-not-configured").await?.is_empty() {
        return Err("the support address is configured, yet the page says it is not".into());
    }
    b.shot("inquiries-failed").await?;

    // The server comes up; 再送 delivers it.
    let mail = smtp_sink(*SMTP_PORT.get().ok_or("no SMTP port")?);
    b.click("tr[data-inquiry-id] [data-retry]").await?;
    b.sees(&["佐藤 花子 様のお問い合わせを送信しました", "送信済み"])
        .await?;
    wait_row(b, &list, "sent").await?;
    if !b.all("tr[data-inquiry-id] [data-retry]").await?.is_empty() {
        return Err("a sent inquiry still offers 再送".into());
    }
    b.shot("inquiries-resent").await?;
    let mut to = Vec::new();
    let started = Instant::now();
    while to.len() < 2 && started.elapsed() < Duration::from_secs(10) {
        match mail.try_recv() {
            Ok((rcpt, _data)) => to.extend(rcpt),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    for want in [SUPPORT, SENDER] {
        if !to.iter().any(|t| t == want) {
            return Err(format!("no mail to {want}; mails went to {to:?}"));
        }
    }

    // In English too.
    b.goto(&url("/settings/inquiries?lang=en")).await?;
    b.sees(&["Inquiries", "Delivery", "Sent"]).await
}
