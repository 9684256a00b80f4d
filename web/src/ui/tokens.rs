//! システム設定 → 連携トークンの更新 (manual, 付録1): each OAuth connection's token status
//! (有効期限, 最終更新, 再認証が必要) with 更新する (refresh now) and 再認証 (the consent step
//! again); and `/oauth/callback`, where the provider sends the browser back after consent.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use connector_sdk::AuthSpec;
use minijinja::{context, Value};
use serde::Deserialize;

use super::auth::{Admin, Operator, Viewer};
use super::connections::public_base;
use super::home::{connection_checked, connection_status, connector_name};
use super::i18n::{t, tf};
use super::labels;
use super::messages;
use super::render::{page, see_other, OrPage, PageResult};
use super::session;
use super::wizard::{self, OAUTH_RETURN};
use crate::AppState;

pub async fn tokens_page(State(s): State<AppState>, v: Viewer) -> PageResult {
    let lang = v.ctx.lang;
    let conns = s.hub.list_connections().await.or_page(lang)?;
    let rows: Vec<Value> = conns
        .iter()
        .map(|c| {
            let oauth = s
                .hub
                .plugins
                .plugin(&c.connector_id)
                .is_some_and(|p| matches!(p.manifest.auth, AuthSpec::OAuth2 { .. }));
            let (status_label, status_class) = connection_status(lang, c);
            let token_label = match c.token.status {
                "valid" => t(lang, "tokens.valid"),
                "expired" => t(lang, "tokens.expired"),
                "reauthorize" => t(lang, "conn.status_reauthorize"),
                _ if oauth => t(lang, "tokens.none"),
                _ => t(lang, "tokens.not_oauth"),
            };
            context! {
                id => c.id.clone(),
                name => c.name.clone(),
                connector => connector_name(&s, lang, &c.connector_id),
                oauth => oauth,
                token_status => c.token.status,
                token_label => token_label,
                expires => labels::datetime(c.token.expires_at),
                refreshed => labels::datetime(c.token.refreshed_at),
                status_label => status_label,
                status_class => status_class,
                status_message => c.status_message.as_deref().map(|m| hub_messages::Message::stored_in(m, lang)),
                status_checked => connection_checked(lang, c),
            }
        })
        .collect();
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "tokens.html",
        context! { nav => "settings", rows => rows, can_edit => v.is_admin() },
    )
    .await)
}

/// 更新する: operators may (it changes no setting, and the manual's first remedy for
/// connection errors is exactly this button).
pub async fn refresh(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let name = s
        .hub
        .get_connection(&id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let text = match s.hub.refresh_token_now(&id).await {
        Ok(()) => {
            tracing::info!(connection = %id, user = %v.user.username, "token refreshed from the UI");
            tf(lang, "tokens.refreshed", &[("name", &name)])
        }
        Err(e) => tf(
            lang,
            "tokens.refresh_failed",
            &[("name", &name), ("reason", &messages::hub_error(lang, &e))],
        ),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other("/settings/tokens")
}

/// 再認証: the provider's consent page again; back at `/oauth/callback`.
pub async fn reauthorize(
    State(s): State<AppState>,
    Admin(v): Admin,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let redirect = format!("{}/oauth/callback", public_base(&headers));
    match s.hub.begin_authorization(&id, &redirect).await {
        Ok(url) => {
            session::update(&s, &v.ctx, |data| {
                data.insert(
                    OAUTH_RETURN.into(),
                    serde_json::json!({"connection": id, "to": "tokens"}),
                );
            })
            .await;
            see_other(&url)
        }
        Err(e) => {
            session::flash(&s, &v.ctx, &messages::hub_error(lang, &e)).await;
            see_other("/settings/tokens")
        }
    }
}

#[derive(Deserialize)]
pub struct Callback {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// The provider's redirect. The state is single-use and bound to the connection by the hub,
/// so this GET needs no CSRF token; the signed-in session says where to continue.
pub async fn callback(State(s): State<AppState>, v: Viewer, Query(q): Query<Callback>) -> Response {
    let lang = v.ctx.lang;
    let back_to = v
        .ctx
        .data()
        .get(OAUTH_RETURN)
        .and_then(|r| r.get("to").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_default();
    let result = if !q.error.is_empty() || q.code.is_empty() {
        Err(tf(
            lang,
            "oauth.denied",
            &[("error", if q.error.is_empty() { "-" } else { &q.error })],
        ))
    } else {
        s.hub
            .complete_authorization(&q.state, &q.code)
            .await
            .map_err(|e| {
                tf(
                    lang,
                    "oauth.failed",
                    &[("reason", &messages::hub_error(lang, &e))],
                )
            })
    };
    let mut to = "/settings/tokens";
    session::update(&s, &v.ctx, |data| {
        data.remove(OAUTH_RETURN);
        let flash = match result {
            Ok(conn) if wizard::mark_signed_in(data, &conn) => {
                to = "/connections/new/settings";
                t(lang, "oauth.signed_in_wizard")
            }
            Ok(_) => t(lang, "oauth.signed_in"),
            Err(msg) => {
                if back_to == "wizard" {
                    to = "/connections/new/settings";
                }
                msg
            }
        };
        data.insert("flash".into(), serde_json::Value::String(flash));
    })
    .await;
    see_other(to)
}
