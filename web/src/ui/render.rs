//! Pages: the embedded minijinja templates (autoescaped, so anything a user typed is shown as
//! text), the context every page shares (language, CSRF token, signed-in user, server clock),
//! and the error page. Every status other than 200 comes from `crate::error` (the one mapping):
//! a page names a [`PageFault`] and a catalogue key, never a status.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use hub_core::HubError;
use hub_domain::User;
use hub_messages::Message;
use minijinja::value::Kwargs;
use minijinja::{context, Environment, State, Value};
use std::sync::OnceLock;

use super::i18n::{self, Lang};
use super::messages;
use super::session::{self, Ctx};
use crate::error::PageFault;
use crate::AppState;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        pub(crate) const TEMPLATES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../templates/", $name)))),*
        ];
    };
}

templates!(
    "base.html",
    "macros.html",
    "error.html",
    "login.html",
    "setup.html",
    "home.html",
    "wizard_connector.html",
    "wizard_signin.html",
    "wizard_registration.html",
    "wizard_settings.html",
    "wizard_done.html",
    "connection_edit.html",
    "flow_form.html",
    "mapping_row.html",
    "match_key_row.html",
    "flow_detail.html",
    "runs.html",
    "run_detail.html",
    "tokens.html",
    "users.html",
    "api_tokens.html",
    "inquiries.html",
    "contact.html",
    "help.html",
    "help_start.html",
);

fn t_fn(state: &State, key: &str, kwargs: Kwargs) -> Result<String, minijinja::Error> {
    let lang = state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default();
    let mut text = i18n::t(lang, key);
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        text = text.replace(&format!("{{{name}}}"), &v.to_string());
    }
    kwargs.assert_all_used()?;
    Ok(text)
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            if let Err(e) = env.add_template(name, src) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env.add_function("t", t_fn);
        env
    })
}

/// The language switch: this page with `lang=` set to the other language.
fn switch_href(path: &str, lang: Lang) -> String {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("lang".into(), lang.other().as_str().into()));
    let q = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("{p}?{q}")
}

fn html(lang: Lang, status: StatusCode, name: &str, ctx: Value) -> Response {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "page could not be rendered");
            (
                PageFault::Internal.status(),
                Html(format!(
                    "<!doctype html><meta charset=utf-8><p>{}</p>",
                    i18n::t(lang, "err.internal")
                )),
            )
                .into_response()
        }
    }
}

fn base(ctx: &Ctx, user: Option<&User>, flash: Option<String>) -> Value {
    context! {
        lang => ctx.lang.as_str(),
        other_lang => ctx.lang.other().as_str(),
        lang_href => switch_href(&ctx.path, ctx.lang),
        csrf => ctx.csrf(),
        user => user.map(|u| context! {
            name => u.username.clone(),
            is_admin => hub_core::accounts::Role::of(u) == hub_core::accounts::Role::Admin,
        }),
        server_now_ms => hub_domain::now_ms(),
        max_skew_ms => super::help::MAX_SKEW_MS,
        flash => flash,
    }
}

/// Renders a page with a 200 status, showing (and clearing) the session's flash message.
pub async fn page(
    s: &AppState,
    ctx: &Ctx,
    user: Option<&User>,
    name: &str,
    extra: Value,
) -> Response {
    page_with(s, ctx, user, name, None, extra).await
}

/// Renders a page that may show what went wrong (`fault`: the status comes from
/// `crate::error`; none: 200), e.g. a form with errors next to its fields.
pub async fn page_with(
    s: &AppState,
    ctx: &Ctx,
    user: Option<&User>,
    name: &str,
    fault: Option<PageFault>,
    extra: Value,
) -> Response {
    let status = PageFault::status_of(fault);
    // A flash set earlier in this request (the snapshot lacks it) waits for the next page.
    let flash = ctx
        .data()
        .get("flash")
        .and_then(|v| v.as_str().map(str::to_string));
    if flash.is_some() {
        session::update(s, ctx, |d| {
            d.remove("flash");
        })
        .await;
    }
    let ctx_value = context! { ..extra, ..base(ctx, user, flash) };
    html(ctx.lang, status, name, ctx_value)
}

/// An error page that needs nothing but the language (used before a session is known).
pub fn plain_error(lang: Lang, fault: PageFault, key: &'static str) -> Response {
    PageError::new(lang, fault, Message::new(key)).into_response()
}

/// A failed UI request: rendered as the error page with the status `crate::error` gives.
#[derive(Debug)]
pub struct PageError {
    lang: Lang,
    status: StatusCode,
    message: String,
}

impl PageError {
    /// What went wrong (`fault`, its status from `crate::error`) and the catalogue's words
    /// for it.
    pub fn new(lang: Lang, fault: PageFault, message: Message) -> Self {
        PageError {
            lang,
            status: fault.status(),
            message: messages::field_message(lang, &message),
        }
    }

    pub fn hub(lang: Lang, e: HubError) -> Self {
        let message = messages::hub_error(lang, &e);
        let status = crate::error::ApiError::from(e).status;
        PageError {
            lang,
            status,
            message,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let ctx = context! {
            lang => self.lang.as_str(),
            status => self.status.as_u16(),
            message => self.message,
            user => Value::UNDEFINED,
        };
        html(self.lang, self.status, "error.html", ctx)
    }
}

pub type PageResult = Result<Response, PageError>;

/// `?` for hub results inside page handlers.
pub trait OrPage<T> {
    fn or_page(self, lang: Lang) -> Result<T, PageError>;
}

impl<T> OrPage<T> for Result<T, HubError> {
    fn or_page(self, lang: Lang) -> Result<T, PageError> {
        self.map_err(|e| PageError::hub(lang, e))
    }
}

/// 303 to `to` (after a POST, so a reload does not repeat it).
pub fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(env().get_template(name).is_ok(), "{name} does not compile");
        }
    }

    #[test]
    fn language_switch_keeps_the_query() {
        assert_eq!(
            switch_href("/runs?flow=a&lang=ja", Lang::Ja),
            "/runs?flow=a&lang=en"
        );
        assert_eq!(switch_href("/", Lang::En), "/?lang=ja");
    }
}
