//! お問い合わせ: the contact form's five fields, each required and at most 100 characters.
//!
//! The form promises 「後日メールでご回答いたします」, so a stored inquiry is delivered: to the
//! support address by mail (`HUB_SUPPORT_EMAIL`, through the run notifications' SMTP settings)
//! and/or to a webhook (`HUB_SUPPORT_WEBHOOK`, JSON), and its sender gets an acknowledgement
//! mail (Japanese first, English below) repeating what they sent. The delivery runs after the
//! inquiry is stored, in a task of its own, so the form answers at once. Each inquiry keeps its
//! delivery status (`pending` / `sent` / `failed` with the reason and the attempts); a failed
//! one is tried again by the serving hub's [`retry_forever`] with a doubling delay, and an
//! administrator may press 再送. What went out already is remembered, so a retry sends only the
//! rest. With no support address configured, inquiries stay `pending`.

use hub_domain::{Inquiry, InquiryAttempt, Millis, NewInquiry};
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;

use crate::error::{HubError, HubResult};
use crate::validate;
use crate::Hub;
use hub_messages::{t, Lang, Message};

pub const MAX_LEN: usize = 100;

/// Automatic attempts before the hub stops retrying on its own (再送 still works).
pub const MAX_AUTO_ATTEMPTS: i64 = 10;
/// The longest wait between automatic attempts.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// How long one attempt may hold an inquiry (two mails and a webhook of 20 s each, and margin).
const CLAIM: Duration = Duration::from_secs(120);

const SUPPORT_MAIL: &str = "support_mail";
const SUPPORT_WEBHOOK: &str = "support_webhook";
const ACK: &str = "ack";

fn now_ms() -> Millis {
    hub_domain::now_ms()
}

/// The inquiry's fields with their labels, in one language.
fn fields_text(i: &Inquiry, lang: Lang) -> String {
    let f = &i.fields;
    Message::new("inquiry_mail.fields")
        .with("company", &f.company)
        .with("name", &f.name)
        .with("email", &f.email)
        .with("registration_number", &f.registration_number)
        .with("connector_name", &f.connector_name)
        .with("id", &i.id)
        .render(lang)
}

/// The same text in Japanese, then English below a rule.
fn both(m: &Message) -> String {
    format!("{}\n---\n{}", m.render(Lang::Ja), m.render(Lang::En))
}

/// The mail to the support address.
pub fn support_message(i: &Inquiry) -> (String, String) {
    let subject = Message::new("inquiry_mail.support_subject")
        .with("company", &i.fields.company)
        .with("name", &i.fields.name)
        .render(Lang::Ja);
    let body = Message::new("inquiry_mail.support_body").with_local(
        "fields",
        fields_text(i, Lang::Ja),
        fields_text(i, Lang::En),
    );
    (subject, both(&body))
}

/// The acknowledgement to the sender: Japanese first, English below.
pub fn acknowledgement(i: &Inquiry) -> (String, String) {
    let subject = t(Lang::Ja, "inquiry_mail.ack_subject");
    let body = Message::new("inquiry_mail.ack_body")
        .with("name", &i.fields.name)
        .with_local("fields", fields_text(i, Lang::Ja), fields_text(i, Lang::En));
    (subject, both(&body))
}

impl Hub {
    pub async fn submit_inquiry(&self, input: &NewInquiry) -> HubResult<String> {
        let clean = NewInquiry {
            company: validate::text("company", &input.company, MAX_LEN)?,
            name: validate::text("name", &input.name, MAX_LEN)?,
            email: {
                validate::text("email", &input.email, MAX_LEN)?;
                validate::email("email", &input.email)?
            },
            registration_number: validate::text(
                "registration_number",
                &input.registration_number,
                MAX_LEN,
            )?,
            connector_name: validate::text("connector_name", &input.connector_name, MAX_LEN)?,
        };
        let id = self.store.insert_inquiry(&clean).await?;
        // Delivered after it is stored, without holding up the form's answer.
        if self.support_configured() {
            let hub = self.clone();
            let id = id.clone();
            tokio::spawn(async move {
                if let Err(e) = hub.deliver_inquiry(&id, false).await {
                    tracing::warn!(inquiry = %id, error = %e, "inquiry not delivered");
                }
            });
        }
        Ok(id)
    }

    /// A support address (mail or webhook) is configured.
    pub fn support_configured(&self) -> bool {
        self.notify.support_email.is_some() || self.notify.support_webhook.is_some()
    }

    /// One delivery attempt of an inquiry: the parts not sent yet. `any_time` (再送) tries a
    /// failed or pending inquiry now, whatever its next attempt time; otherwise only a due one.
    /// Answers the inquiry as recorded after the attempt, or `None` when it was not taken (sent
    /// already, being delivered by another, not due).
    pub async fn deliver_inquiry(&self, id: &str, any_time: bool) -> HubResult<Option<Inquiry>> {
        if !self.support_configured() {
            return Err(HubError::unprocessable(
                "support_email",
                Message::new("err.no_support_address"),
            ));
        }
        let now = now_ms();
        let until = now + CLAIM.as_millis() as i64;
        if !self.store.claim_inquiry(id, now, until, any_time).await? {
            return match self.store.get_inquiry(id).await? {
                None => Err(HubError::NotFound {
                    what: "inquiry",
                    id: id.to_string(),
                }),
                Some(i) if any_time && i.delivery_status == "sent" => Err(HubError::conflict(
                    "already_sent",
                    Message::new("err.inquiry_sent"),
                )),
                Some(_) if any_time => Err(HubError::conflict(
                    "delivering",
                    Message::new("err.inquiry_delivering"),
                )),
                Some(_) => Ok(None),
            };
        }
        let Some(inquiry) = self.store.get_inquiry(id).await? else {
            return Err(HubError::NotFound {
                what: "inquiry",
                id: id.to_string(),
            });
        };
        let attempt = self.attempt(&inquiry).await;
        match &attempt.error {
            None => tracing::info!(inquiry = %id, "inquiry delivered"),
            Some(e) => tracing::warn!(inquiry = %id, error = %e, "inquiry delivery failed"),
        }
        if let Err(e) = self.store.record_inquiry_attempt(id, &attempt).await {
            let _ = self.store.release_inquiry(id).await;
            return Err(e.into());
        }
        Ok(self.store.get_inquiry(id).await?)
    }

    async fn attempt(&self, i: &Inquiry) -> InquiryAttempt {
        let mut done: Vec<String> = i
            .delivered_parts
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        let mut errors = Vec::new();
        let cfg = &self.notify;
        if let Some(to) = &cfg.support_email {
            if !done.iter().any(|p| p == SUPPORT_MAIL) {
                let (subject, body) = support_message(i);
                match crate::notify::send_mail(
                    cfg,
                    std::slice::from_ref(to),
                    Some(&i.fields.email),
                    &subject,
                    &body,
                )
                .await
                {
                    Ok(()) => done.push(SUPPORT_MAIL.into()),
                    Err(e) => errors.push(format!("support mail: {e}")),
                }
            }
        }
        if let Some(url) = &cfg.support_webhook {
            if !done.iter().any(|p| p == SUPPORT_WEBHOOK) {
                match self.post_inquiry(url.expose(), i).await {
                    Ok(()) => done.push(SUPPORT_WEBHOOK.into()),
                    Err(e) => errors.push(format!("support webhook: {e}")),
                }
            }
        }
        // The sender hears back only once the support side has it, and only by mail.
        if errors.is_empty() && cfg.smtp_url.is_some() && !done.iter().any(|p| p == ACK) {
            let (subject, body) = acknowledgement(i);
            match crate::notify::send_mail(
                cfg,
                std::slice::from_ref(&i.fields.email),
                cfg.support_email.as_deref(),
                &subject,
                &body,
            )
            .await
            {
                Ok(()) => done.push(ACK.into()),
                Err(e) => errors.push(format!("acknowledgement to the sender: {e}")),
            }
        }
        let attempts = i.delivery_attempts + 1;
        let next_attempt_at = (!errors.is_empty() && attempts < MAX_AUTO_ATTEMPTS).then(|| {
            let base = if cfg.inquiry_retry.is_zero() {
                Duration::from_secs(60)
            } else {
                cfg.inquiry_retry
            };
            let delay = base
                .saturating_mul(1u32 << (attempts - 1).clamp(0, 20) as u32)
                .min(MAX_DELAY);
            now_ms() + delay.as_millis() as i64
        });
        InquiryAttempt {
            delivered_parts: done.join(","),
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            next_attempt_at,
        }
    }

    async fn post_inquiry(&self, url: &str, i: &Inquiry) -> Result<(), String> {
        // Checked when the configuration is read too; a name resolving to a link-local address
        // is refused by the client's resolver.
        crate::egress::check_literal(self.egress, "support_webhook", url)
            .map_err(|e| e.to_string())?;
        let client = crate::egress::client_builder(self.egress)
            .timeout(Duration::from_secs(20))
            .build()
            .map_err(|e| e.to_string())?;
        let (subject, body) = support_message(i);
        let resp = client
            .post(url)
            .json(&json!({
                "inquiry": {
                    "id": i.id,
                    "company": i.fields.company,
                    "name": i.fields.name,
                    "email": i.fields.email,
                    "registration_number": i.fields.registration_number,
                    "connector_name": i.fields.connector_name,
                    "created_at": i.created_at,
                },
                "text": format!("{subject}\n{body}"),
            }))
            .send()
            .await
            .map_err(|e| format!("cannot reach the webhook: {}", e.without_url()))?;
        if !resp.status().is_success() {
            return Err(format!("the webhook answered {}", resp.status()));
        }
        Ok(())
    }

    /// Delivers every inquiry due now (pending, or failed and its time come), one after another.
    pub async fn deliver_due_inquiries(&self) -> HubResult<usize> {
        if !self.support_configured() {
            return Ok(0);
        }
        let due = self.store.due_inquiries(now_ms(), 50).await?;
        let mut tried = 0;
        for id in due {
            if self.deliver_inquiry(&id, false).await?.is_some() {
                tried += 1;
            }
        }
        Ok(tried)
    }
}

/// The serving hub's retry loop: delivers pending inquiries (those stored while no hub served,
/// or before a support address was configured) and retries failed ones when due, until shutdown.
pub async fn retry_forever(hub: Hub, mut shutdown: watch::Receiver<bool>) {
    if !hub.support_configured() {
        return;
    }
    let tick = hub
        .notify
        .inquiry_retry
        .clamp(Duration::from_secs(1), Duration::from_secs(30));
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(e) = hub.deliver_due_inquiries().await {
            tracing::warn!(error = %e, "inquiry retry failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = shutdown.changed() => return,
        }
    }
}
