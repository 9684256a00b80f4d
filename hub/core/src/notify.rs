//! Run notifications: a mail (SMTP) and/or a webhook shaped for Slack, Teams or Chatwork (or the
//! run as JSON), per flow, on failure or always. A notification that cannot be sent is logged
//! and never changes the run's result.

use connector_sdk::Secret;
use hub_domain::{Flow, NotifyOn, Run, RunStatus, WebhookFormat};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use std::time::Duration;

use hub_messages::{t, Lang, Message as Text};

use crate::engine::RunReport;
use crate::Hub;

/// Where mails go out and how links in messages reach the hub.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`.
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub public_url: String,
    /// Where お問い合わせ go by mail (`HUB_SUPPORT_EMAIL`), and/or by webhook
    /// (`HUB_SUPPORT_WEBHOOK`, a JSON POST; the URL may hold a token, so kept secret).
    pub support_email: Option<String>,
    pub support_webhook: Option<Secret>,
    /// The first retry of a failed inquiry delivery comes after this, doubled per attempt
    /// (`HUB_INQUIRY_RETRY_SECS`, 60; zero counts as 60).
    pub inquiry_retry: Duration,
}

fn status_key(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Success => "notify.status_success",
        RunStatus::Partial => "notify.status_partial",
        RunStatus::Failed => "notify.status_failed",
        RunStatus::Interrupted => "notify.status_interrupted",
        RunStatus::Skipped => "notify.status_skipped",
        RunStatus::Queued | RunStatus::Running => "notify.status_running",
    }
}

/// The text every channel carries, from the catalogue: Japanese first, then English.
pub fn message(hub_url: &str, flow: &Flow, run: &Run, report: &RunReport) -> (String, String) {
    let c = &report.counts;
    let name = &flow.spec.name;
    let status = status_key(report.status);
    let subject = format!(
        "{} / {}",
        Text::new("notify.subject")
            .with("flow", name)
            .with_text("status", status)
            .render(Lang::Ja),
        t(Lang::En, status)
    );
    let finished = Text::new(if report.status == RunStatus::Success {
        "notify.completed"
    } else {
        "notify.finished"
    })
    .with("flow", name)
    .with_text("status", status);
    let counts = Text::new("notify.counts")
        .with("read", c.read)
        .with("created", c.created)
        .with("updated", c.updated)
        .with("unchanged", c.unchanged)
        .with("skipped", c.skipped)
        .with("failed", c.failed);
    let mut body = String::new();
    for part in [&finished, &counts] {
        for lang in Lang::ALL {
            body.push_str(&part.render(lang));
            body.push('\n');
        }
        body.push('\n');
    }
    if let Some(m) = &report.message {
        body.push_str(&format!("{}\n", Text::stored_both(m)));
    }
    for e in report.errors.iter().take(5) {
        body.push_str(&format!(
            "- {} ({}): {} {}\n",
            e.record,
            e.side,
            e.code,
            Text::stored_both(&e.message)
        ));
    }
    if c.warnings > 0 {
        let warnings = Text::new("notify.warnings").with("count", c.warnings);
        body.push_str(&format!(
            "\n{} / {}\n",
            warnings.render(Lang::Ja),
            warnings.render(Lang::En)
        ));
        for w in report.warnings.iter().take(5) {
            body.push_str(&format!("- {} ({}): {}\n", w.record, w.side, w.message));
        }
    }
    body.push_str(&format!(
        "\n{} / {}: {hub_url}/runs/{}\n",
        t(Lang::Ja, "notify.history"),
        t(Lang::En, "notify.history"),
        run.id
    ));
    (subject, body)
}

/// Sends what the flow asks for; errors are logged here, never returned.
pub async fn run_finished(hub: &Hub, flow: &Flow, run: &Run, report: &RunReport) {
    let Some(n) = &flow.spec.notify else { return };
    let wanted = match n.on {
        NotifyOn::Failure => report.status != RunStatus::Success,
        NotifyOn::Always => true,
    };
    if !wanted {
        return;
    }
    let (subject, body) = message(&hub.notify.public_url, flow, run, report);
    if !n.email.is_empty() {
        match send_mail(&hub.notify, &n.email, None, &subject, &body).await {
            Ok(()) => {
                tracing::info!(flow = %flow.id, run = %run.id, to = n.email.len(), "notification mail sent")
            }
            Err(e) => {
                tracing::warn!(flow = %flow.id, run = %run.id, error = %e, "notification mail not sent")
            }
        }
    }
    if let Some(w) = &n.webhook {
        let result = match hub.store.flow_notify_secret(&flow.id).await {
            Ok(Some((url, token))) => {
                post_webhook(
                    hub.egress,
                    w.format,
                    &url,
                    token.as_ref(),
                    &subject,
                    &body,
                    flow,
                    run,
                    report,
                )
                .await
            }
            Ok(None) => Err("the flow's webhook has no URL".to_string()),
            Err(e) => Err(e.to_string()),
        };
        match result {
            Ok(()) => tracing::info!(flow = %flow.id, run = %run.id, "notification webhook sent"),
            Err(e) => {
                tracing::warn!(flow = %flow.id, run = %run.id, error = %e, "notification webhook not sent")
            }
        }
    }
}

/// One plain-text mail through `HUB_SMTP_URL`; `reply_to` lets the reader answer someone else.
pub(crate) async fn send_mail(
    cfg: &NotifyConfig,
    to: &[String],
    reply_to: Option<&str>,
    subject: &str,
    body: &str,
) -> Result<(), String> {
    let url = cfg
        .smtp_url
        .as_ref()
        .ok_or("no SMTP server is configured (HUB_SMTP_URL)")?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
        .map_err(|_| "HUB_SMTP_URL is not a valid smtp:// or smtps:// URL".to_string())?
        .timeout(Some(Duration::from_secs(20)))
        .build();
    let mut builder = Message::builder()
        .from(
            cfg.mail_from
                .parse()
                .map_err(|e| format!("mail_from '{}': {e}", cfg.mail_from))?,
        )
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    if let Some(r) = reply_to {
        builder = builder.reply_to(r.parse().map_err(|e| format!("reply-to '{r}': {e}"))?);
    }
    for addr in to {
        builder = builder.to(addr
            .parse()
            .map_err(|e| format!("recipient '{addr}': {e}"))?);
    }
    let mail = builder.body(body.to_string()).map_err(|e| e.to_string())?;
    transport
        .send(mail)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[allow(clippy::too_many_arguments)]
async fn post_webhook(
    policy: crate::egress::EgressPolicy,
    format: WebhookFormat,
    url: &Secret,
    token: Option<&Secret>,
    subject: &str,
    body: &str,
    flow: &Flow,
    run: &Run,
    report: &RunReport,
) -> Result<(), String> {
    // Checked at save too; a URL saved before that check, or a name that resolves to a
    // link-local / metadata address now, is refused here (literal) or by the resolver.
    crate::egress::check_literal(policy, "notify.webhook.url", url.expose())
        .map_err(|e| e.to_string())?;
    let client = crate::egress::client_builder(policy)
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| e.to_string())?;
    let text = format!("{subject}\n{body}");
    let req = match format {
        WebhookFormat::Slack => client.post(url.expose()).json(&json!({ "text": text })),
        WebhookFormat::Teams => client.post(url.expose()).json(&json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": subject,
            "themeColor": if report.status == RunStatus::Success { "2E7D32" } else { "C62828" },
            "title": subject,
            "text": body.replace('\n', "<br>"),
        })),
        WebhookFormat::Chatwork => {
            let token = token.ok_or("a Chatwork webhook needs its API token")?;
            client
                .post(url.expose())
                .header("X-ChatWorkToken", token.expose())
                .form(&[("body", format!("[info][title]{subject}[/title]{body}[/info]"))])
        }
        WebhookFormat::Generic => client.post(url.expose()).json(&json!({
            "flow": {"id": flow.id, "name": flow.spec.name},
            "run": {"id": run.id, "trigger": run.trigger, "status": report.status, "counts": report.counts, "message": report.message},
            "errors": report.errors.iter().take(50).collect::<Vec<_>>(),
            "text": text,
        })),
    };
    let resp = req
        .send()
        .await
        .map_err(|e| format!("cannot reach the webhook: {}", e.without_url()))?;
    if !resp.status().is_success() {
        return Err(format!("the webhook answered {}", resp.status()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{RunCounts, RunWarning, Trigger};

    #[test]
    fn a_successful_run_with_warnings_says_so_and_lists_them() {
        let spec = serde_json::from_value(serde_json::json!({
            "name": "取引先", "source": {"connection": "c", "object": "csv_customers"},
            "target": {"connection": "c", "object": "Accounts"}, "mapping": []
        }))
        .unwrap();
        let flow = Flow {
            id: "f".into(),
            spec,
            next_fire_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let counts = RunCounts {
            read: 1,
            created: 1,
            warnings: 1,
            ..Default::default()
        };
        let run = Run {
            id: "r".into(),
            flow_id: "f".into(),
            trigger: Trigger::Manual,
            status: RunStatus::Success,
            queued_at: 0,
            started_at: None,
            finished_at: None,
            scheduled_for: None,
            attempt: 1,
            counts,
            message: None,
            expected_read: None,
        };
        let report = RunReport {
            status: RunStatus::Success,
            counts,
            errors: vec![],
            warnings: vec![RunWarning {
                record: "000002".into(),
                side: "source".into(),
                code: "gaiji".into(),
                params: Default::default(),
                message: "外字（ユーザー定義文字）があります: ファイル 取引先.csv 行 3".into(),
                ..Default::default()
            }],
            message: None,
            retryable: false,
            pending: hub_store::pending::PendingUpdate::Keep,
        };
        let (_, body) = message("http://hub", &flow, &run, &report);
        assert!(body.contains("が完了しました"), "{body}");
        assert!(body.contains("警告 1 件"), "{body}");
        assert!(
            body.contains("- 000002 (source): 外字（ユーザー定義文字）があります"),
            "{body}"
        );
    }
}
