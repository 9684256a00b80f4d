//! システム設定 → APIトークン (admins only): the `/api` tokens with their role, expiry, last use
//! and state (有効 / 期限切れ / 無効化済み); 無効化する revokes one, and the form makes a new one
//! whose value is shown on that one answer only (it is stored hashed). The same as
//! `hub token create|list|revoke`.

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::Response;
use hub_core::accounts::{self, Role};
use hub_domain::now_ms;
use minijinja::{context, Value};

use super::auth::{Admin, Viewer};
use super::form::Form;
use super::i18n::{t, tf, Lang};
use super::labels;
use super::messages::{self, FieldErrors};
use super::render::{page_with, see_other, OrPage, PageResult};
use super::session;
use super::users::role_label;
use crate::error::PageFault;
use crate::AppState;

const PATH: &str = "/settings/api-tokens";

/// The words for a token's state now.
fn state(lang: Lang, t_: &hub_domain::ApiTokenInfo, now: i64) -> (&'static str, String) {
    if t_.revoked_at.is_some() {
        ("revoked", t(lang, "api_tokens.revoked"))
    } else if t_.is_active(now) {
        ("active", t(lang, "api_tokens.active"))
    } else {
        ("expired", t(lang, "api_tokens.expired"))
    }
}

struct Shown<'a> {
    form: Option<&'a Form>,
    errors: &'a FieldErrors,
    /// The value of a token just made (shown once) and its name.
    created: Option<(String, String)>,
}

async fn render(s: &AppState, v: &Viewer, shown: Shown<'_>) -> PageResult {
    let lang = v.ctx.lang;
    let now = now_ms();
    let tokens: Vec<Value> = s
        .hub
        .list_api_tokens()
        .await
        .or_page(lang)?
        .iter()
        .rev()
        .map(|tok| {
            let (state_class, state_label) = state(lang, tok, now);
            context! {
                id => tok.id.clone(),
                name => tok.name.clone(),
                role => role_label(lang, Role::from_stored(&tok.role)),
                created => labels::datetime(Some(tok.created_at)),
                last_used => if tok.last_used_at.is_some() {
                    labels::datetime(tok.last_used_at)
                } else {
                    t(lang, "api_tokens.never_used")
                },
                expires => if tok.expires_at.is_some() {
                    labels::datetime(tok.expires_at)
                } else {
                    t(lang, "api_tokens.never_expires")
                },
                state => state_class,
                state_label => state_label,
                revocable => tok.revoked_at.is_none(),
            }
        })
        .collect();
    let fault = PageFault::form(!shown.errors.is_empty());
    let field = |k: &str, default: &str| {
        shown
            .form
            .map(|f| f.get(k).to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let (created_name, created_token) = shown.created.unzip();
    let mut resp = page_with(
        s,
        &v.ctx,
        Some(&v.user),
        "api_tokens.html",
        fault,
        context! {
            nav => "settings",
            tokens => tokens,
            name => field("name", ""),
            role => field("role", "read_only"),
            expires => field("expires", "90d"),
            roles => Role::ALL
                .iter()
                .map(|r| context! { value => r.as_str(), label => role_label(lang, *r) })
                .collect::<Vec<_>>(),
            errors => shown.errors,
            created_notice => created_name.map(|n| tf(lang, "api_tokens.created_once", &[("name", &n)])),
            created_token => created_token,
        },
    )
    .await;
    // The one answer that holds a token's value is never kept by a cache.
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn list(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    render(
        &s,
        &v,
        Shown {
            form: None,
            errors: &FieldErrors::new(),
            created: None,
        },
    )
    .await
}

pub async fn create(State(s): State<AppState>, Admin(v): Admin, form: Form) -> PageResult {
    let lang = v.ctx.lang;
    let mut errors = FieldErrors::new();
    let name =
        match hub_core::validate::text("name", form.get("name"), accounts::MAX_TOKEN_NAME_CHARS) {
            Ok(n) => Some(n),
            Err(e) => {
                messages::put(&mut errors, lang, &e, &|f| f.to_string());
                None
            }
        };
    let role = Role::parse(form.get("role"));
    if role.is_none() {
        errors.insert("role".into(), t(lang, "err.choose"));
    }
    let expires = form.get("expires").trim();
    let lifetime = if expires.is_empty() {
        Ok(None)
    } else {
        accounts::parse_token_lifetime("expires", expires).map(Some)
    };
    if lifetime.is_err() {
        errors.insert("expires".into(), t(lang, "api_tokens.expires_invalid"));
    }
    if let (Some(name), Some(role), Ok(lifetime), true) = (name, role, lifetime, errors.is_empty())
    {
        let expires_at = lifetime.map(|ms| now_ms() + ms);
        let made = s
            .hub
            .create_api_token(&name, role, expires_at)
            .await
            .or_page(lang)?;
        tracing::info!(token = %name, id = %made.id, role = role.as_str(), by = %v.user.username, "API token created");
        return render(
            &s,
            &v,
            Shown {
                form: None,
                errors: &errors,
                created: Some((name, made.token)),
            },
        )
        .await;
    }
    render(
        &s,
        &v,
        Shown {
            form: Some(&form),
            errors: &errors,
            created: None,
        },
    )
    .await
}

pub async fn revoke(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let text = match s.hub.revoke_api_token(&id).await {
        Ok(tok) => {
            tracing::info!(token = %tok.name, id = %tok.id, by = %v.user.username, "API token revoked");
            tf(lang, "api_tokens.revoked_done", &[("name", &tok.name)])
        }
        Err(e) => messages::hub_error(lang, &e),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other(PATH)
}
