//! トラブルシューティング (manual, 付録1–2): the browser clock against the server's (a skew
//! over five minutes is shown as a warning: it is the manual's first cause of an empty
//! 連携サービス list), the browser cache, and connection errors. Also はじめに (`/help/start`):
//! what to prepare in kintone, Zoho CRM, Domino and 奉行, and the first flow on the sandbox.

use axum::extract::State;
use axum::http::HeaderMap;
use minijinja::context;

use super::auth::Viewer;
use super::labels;
use super::render::{page, PageResult};
use crate::AppState;

/// The warning threshold, also used by the script on every page.
pub const MAX_SKEW_MS: i64 = 5 * 60 * 1000;

pub async fn page_handler(State(s): State<AppState>, v: Viewer) -> PageResult {
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "help.html",
        context! {
            nav => "help",
            server_time => labels::datetime(Some(hub_domain::now_ms())),
            max_skew_ms => MAX_SKEW_MS,
        },
    )
    .await)
}

/// はじめに: what each system needs before 新しい接続, then the sandbox's first flow. The Zoho
/// redirect URI is this hub's own `/oauth/callback`, as the browser reaches it.
pub async fn start_handler(State(s): State<AppState>, v: Viewer, headers: HeaderMap) -> PageResult {
    Ok(page(
        &s,
        &v.ctx,
        Some(&v.user),
        "help_start.html",
        context! {
            nav => "help",
            callback => format!("{}/oauth/callback", super::connections::public_base(&headers)),
        },
    )
    .await)
}
