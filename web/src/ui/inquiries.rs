//! システム設定 → お問い合わせ (admins only): every inquiry with its delivery to the support
//! address (未送信 / 送信済み / 送信失敗 with the reason and the attempts), a warning when no
//! support address is configured, and 再送 for one that is not sent.

use axum::extract::{Path, State};
use axum::response::Response;
use minijinja::{context, Value};

use super::auth::Admin;
use super::i18n::{t, tf, Lang};
use super::labels;
use super::messages;
use super::render::{page, see_other, OrPage, PageResult};
use super::session;
use crate::AppState;

const PATH: &str = "/settings/inquiries";

/// The words and badge class of a delivery status.
fn status(lang: Lang, s: &str) -> (&'static str, String) {
    match s {
        "sent" => ("ok", t(lang, "inquiries.status_sent")),
        "failed" => ("bad", t(lang, "inquiries.status_failed")),
        _ => ("warn", t(lang, "inquiries.status_pending")),
    }
}

pub async fn list(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    let lang = v.ctx.lang;
    let inquiries: Vec<Value> = s
        .hub
        .list_inquiries(200)
        .await
        .or_page(lang)?
        .iter()
        .map(|i| {
            let (class, label) = status(lang, &i.delivery_status);
            context! {
                id => i.id.clone(),
                company => i.fields.company.clone(),
                name => i.fields.name.clone(),
                email => i.fields.email.clone(),
                registration_number => i.fields.registration_number.clone(),
                connector_name => i.fields.connector_name.clone(),
                received => labels::datetime(Some(i.created_at)),
                status => i.delivery_status.clone(),
                status_class => class,
                status_label => label,
                attempts => i.delivery_attempts,
                error => i.delivery_error.clone(),
                delivered => i.delivered_at.map(|t| labels::datetime(Some(t))),
                next_attempt => i.next_attempt_at.map(|t| labels::datetime(Some(t))),
                retryable => i.delivery_status != "sent",
            }
        })
        .collect();
    let n = &s.hub.notify;
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "inquiries.html",
        context! {
            nav => "settings",
            inquiries => inquiries,
            configured => s.hub.support_configured(),
            support_email => n.support_email.clone(),
            support_webhook => n.support_webhook.is_some(),
            smtp => n.smtp_url.is_some(),
        },
    )
    .await)
}

/// 再送: one delivery attempt now; the answer says how it went.
pub async fn retry(State(s): State<AppState>, Admin(v): Admin, Path(id): Path<String>) -> Response {
    let lang = v.ctx.lang;
    let text = if !s.hub.support_configured() {
        t(lang, "inquiries.not_configured")
    } else {
        match s.hub.deliver_inquiry(&id, true).await {
            Ok(Some(i)) if i.delivery_status == "sent" => {
                tracing::info!(inquiry = %id, by = %v.user.username, "inquiry sent again");
                tf(lang, "inquiries.retried_sent", &[("name", &i.fields.name)])
            }
            Ok(Some(i)) => tf(
                lang,
                "inquiries.retried_failed",
                &[("reason", i.delivery_error.as_deref().unwrap_or(""))],
            ),
            Ok(None) => t(lang, "err.not_found"),
            Err(hub_core::HubError::Conflict {
                code: "already_sent",
                ..
            }) => t(lang, "inquiries.already_sent"),
            Err(e) => messages::hub_error(lang, &e),
        }
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other(PATH)
}
