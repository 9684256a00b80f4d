//! The web UI: server-rendered pages in the words of the 奉行クラウド App Connect manual
//! (連携サービス, 新しい接続, 今すぐ実行, 処理履歴, 連携トークンの更新, お問い合わせ), Japanese by
//! default and English on request. Every route goes through [`session::layer`] (session,
//! CSRF, language); pages that need a user take [`auth::Viewer`], changes take [`auth::Admin`].

mod actions;
mod api_tokens;
#[cfg(test)]
mod api_tokens_tests;
mod assets;
pub mod auth;
mod chart;
mod column_layout;
#[cfg(test)]
mod connection_status_tests;
mod connections;
mod contact;
mod error_list;
pub mod fields;
mod flow_draft;
mod flows;
pub mod form;
mod help;
mod home;
pub mod i18n;
mod inquiries;
#[cfg(test)]
mod inquiries_tests;
mod labels;
pub mod login_limit;
mod mapping_form;
pub mod messages;
mod passwords;
mod progress;
#[cfg(test)]
mod progress_tests;
mod record_names;
pub mod render;
#[cfg(test)]
mod run_detail_tests;
mod runs;
#[cfg(test)]
mod runs_tests;
mod schedule_words;
pub mod session;
#[cfg(test)]
mod tests;
mod tokens;
mod users;
#[cfg(test)]
mod users_tests;
mod wizard;

pub use passwords::{password_hasher, Argon2Hasher};

use axum::middleware;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn routes(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route("/setup", get(auth::setup_page).post(auth::setup_submit))
        .route(
            "/connections/new",
            get(wizard::connector_page).post(wizard::connector_submit),
        )
        .route("/connections/new/cancel", post(wizard::cancel))
        .route(
            "/connections/new/signin",
            get(wizard::signin_page).post(wizard::signin_submit),
        )
        .route(
            "/connections/new/registration",
            get(wizard::registration_page).post(wizard::registration_submit),
        )
        .route(
            "/connections/new/settings",
            get(wizard::settings_page).post(wizard::settings_submit),
        )
        .route("/connections/new/done", get(wizard::done_page))
        .route(
            "/connections/{id}",
            get(connections::edit_page).post(connections::edit_submit),
        )
        .route("/connections/{id}/delete", post(connections::delete))
        .route("/connections/{id}/actions/{action}", post(actions::run))
        .route("/connections/{id}/refresh", post(tokens::refresh))
        .route("/connections/{id}/reauthorize", post(tokens::reauthorize))
        .route("/oauth/callback", get(tokens::callback))
        .route("/flows/new", get(flows::new_page).post(flows::new_submit))
        .route("/flows/{id}", get(flows::detail))
        .route(
            "/flows/{id}/edit",
            get(flows::edit_page).post(flows::edit_submit),
        )
        .route("/flows/{id}/run", post(home::run_now))
        .route("/flows/{id}/preview", post(flows::preview))
        .route(
            "/flows/{id}/full-import/estimate",
            post(flows::full_import_estimate),
        )
        .route("/flows/{id}/full-import", post(flows::full_import))
        .route("/flows/{id}/pending/dismiss", post(flows::dismiss_pending))
        .route("/flows/{id}/delete", post(flows::delete))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::detail))
        .route("/runs/{id}/undo", post(runs::undo))
        .route("/runs/{id}/retry-failed", post(runs::retry_failed))
        .route("/ui/runs/{id}/status", get(home::run_status))
        .route(
            "/settings",
            get(|| async { Redirect::to("/settings/tokens") }),
        )
        .route("/settings/tokens", get(tokens::tokens_page))
        .route("/settings/users", get(users::list).post(users::create))
        .route(
            "/settings/api-tokens",
            get(api_tokens::list).post(api_tokens::create),
        )
        .route("/settings/api-tokens/{id}/revoke", post(api_tokens::revoke))
        .route("/settings/users/{id}/password", post(users::set_password))
        .route("/settings/users/{id}/delete", post(users::delete))
        .route("/settings/inquiries", get(inquiries::list))
        .route("/settings/inquiries/{id}/retry", post(inquiries::retry))
        .route("/contact", get(contact::page).post(contact::submit))
        .route("/help", get(help::page_handler))
        .route("/help/start", get(help::start_handler))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::layer,
        ))
        .with_state(state);
    // Static files need no session: outside the layer, so they cost no database read.
    Router::new()
        .route("/static/{name}", get(assets::serve))
        .merge(pages)
}

/// The UI's Rust sources, for the catalogue completeness test (keys named in code).
#[cfg(test)]
pub(crate) const SOURCES: &[(&str, &str)] = &[
    ("api_tokens.rs", include_str!("api_tokens.rs")),
    ("auth.rs", include_str!("auth.rs")),
    ("chart.rs", include_str!("chart.rs")),
    ("connections.rs", include_str!("connections.rs")),
    ("contact.rs", include_str!("contact.rs")),
    ("fields.rs", include_str!("fields.rs")),
    ("flow_draft.rs", include_str!("flow_draft.rs")),
    ("flows.rs", include_str!("flows.rs")),
    ("home.rs", include_str!("home.rs")),
    ("inquiries.rs", include_str!("inquiries.rs")),
    ("labels.rs", include_str!("labels.rs")),
    ("messages.rs", include_str!("messages.rs")),
    ("progress.rs", include_str!("progress.rs")),
    ("runs.rs", include_str!("runs.rs")),
    ("schedule_words.rs", include_str!("schedule_words.rs")),
    ("session.rs", include_str!("session.rs")),
    ("tokens.rs", include_str!("tokens.rs")),
    ("users.rs", include_str!("users.rs")),
    ("wizard.rs", include_str!("wizard.rs")),
    ("help.rs", include_str!("help.rs")),
];
