//! Who is looking: the extractors that require a signed-in user (and an admin for changes),
//! the one-time setup of the first admin, sign-in with session rotation, and sign-out.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hub_core::accounts::{self, Role};
use hub_domain::User;
use minijinja::context;
use serde::Deserialize;

use super::form::Form;
use super::i18n::{t, tf};
use super::messages::{self, FieldErrors};
use super::passwords::password_hasher;
use super::render::{page, page_with, plain_error, see_other, OrPage, PageError, PageResult};
use super::session::{self, Ctx, ANON_SESSION_MS, SESSION_IDLE_MS};
use crate::error::PageFault;
use crate::AppState;
use hub_messages::Message;

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Ctx>().cloned().ok_or_else(|| {
            plain_error(
                super::i18n::Lang::default(),
                PageFault::Internal,
                "err.internal",
            )
        })
    }
}

/// A signed-in user. Without one: to `/setup` while no user exists, else to `/login`.
#[derive(Clone, Debug)]
pub struct Viewer {
    pub ctx: Ctx,
    pub user: User,
    pub role: Role,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let ctx = Ctx::from_request_parts(parts, s).await?;
        if let Some(user) = ctx.session.as_ref().and_then(|(_, s)| s.user.clone()) {
            let role = Role::of(&user);
            return Ok(Viewer { ctx, user, role });
        }
        match s.hub.count_users().await {
            Ok(0) => Err(see_other("/setup")),
            Ok(_) => {
                // Back to this page after signing in; a form post cannot be repeated, so home.
                let back = if parts.method == axum::http::Method::GET {
                    ctx.path.as_str()
                } else {
                    "/"
                };
                let next = form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>();
                Err(see_other(&format!("/login?next={next}")))
            }
            Err(e) => Err(PageError::hub(ctx.lang, e).into_response()),
        }
    }
}

/// A signed-in admin; an operator gets 403 with a sentence saying why.
pub struct Admin(pub Viewer);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let v = Viewer::from_request_parts(parts, s).await?;
        if !v.is_admin() {
            tracing::info!(user = %v.user.username, path = %v.ctx.path, "refused: admin only");
            return Err(PageError::new(
                v.ctx.lang,
                PageFault::Forbidden,
                Message::new("err.admin_only"),
            )
            .into_response());
        }
        Ok(Admin(v))
    }
}

/// A signed-in operator or admin (who may run flows, retry, undo, preview, refresh tokens); a
/// read-only user gets 403 with a sentence saying why.
pub struct Operator(pub Viewer);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let v = Viewer::from_request_parts(parts, s).await?;
        if !v.role.allows(Role::Operator) {
            tracing::info!(user = %v.user.username, path = %v.ctx.path, "refused: operator or admin only");
            return Err(PageError::new(
                v.ctx.lang,
                PageFault::Forbidden,
                Message::new("err.operator_only"),
            )
            .into_response());
        }
        Ok(Operator(v))
    }
}

/// Gives an anonymous visitor a session (so the form has a CSRF token); answers the context
/// to render with and the cookie to set, if a new session was made.
async fn ensure_session(s: &AppState, ctx: &Ctx) -> Result<(Ctx, Option<String>), PageError> {
    if ctx.session.is_some() {
        return Ok((ctx.clone(), None));
    }
    let (id, sess) = s
        .hub
        .open_session(ANON_SESSION_MS)
        .await
        .or_page(ctx.lang)?;
    let cookie = session::session_cookie(&id, ctx.secure);
    let mut ctx = ctx.clone();
    ctx.session = Some((id, sess));
    Ok((ctx, Some(cookie)))
}

fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie.and_then(|c| c.parse().ok()) {
        resp.headers_mut().append(SET_COOKIE, c);
    }
    resp
}

/// Replaces the visitor's session with a new signed-in one (no session fixation).
async fn sign_in(s: &AppState, ctx: &Ctx, user: &User, to: &str) -> PageResult {
    let old = ctx.session.as_ref().map(|(old, _)| old.as_str());
    let id = s
        .hub
        .sign_in_session(old, &user.id, SESSION_IDLE_MS)
        .await
        .or_page(ctx.lang)?;
    tracing::info!(user = %user.username, "signed in");
    Ok(with_cookie(
        see_other(to),
        Some(session::session_cookie(&id, ctx.secure)),
    ))
}

/// Where to go after signing in: `next` parsed as a URL against this hub, kept only when it
/// stays on this hub (same scheme, host and port), answered as its normalised path, query and
/// fragment; anything else goes home. Browsers strip tabs and newlines and read `\\` as `/`,
/// and so does the URL parser, so `/\t/evil.example` or `/\\evil.example` are seen as the
/// other hosts they are.
pub(crate) fn safe_next(next: &str) -> String {
    const HOME: &str = "/";
    // A host that cannot be real: only the path of the result is ever used.
    let Ok(base) = url::Url::parse("http://renkei-hub.invalid/") else {
        return HOME.into();
    };
    if !next.starts_with('/') {
        return HOME.into();
    }
    match base.join(next) {
        Ok(u) if u.origin() == base.origin() && u.username().is_empty() => {
            let mut out = u.path().to_string();
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            if let Some(f) = u.fragment() {
                out.push('#');
                out.push_str(f);
            }
            // The parser keeps `//` inside a path; a browser would read it as a host.
            if out.starts_with("//") {
                HOME.into()
            } else {
                out
            }
        }
        _ => HOME.into(),
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

pub async fn login_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NextQuery>,
) -> PageResult {
    if s.hub.count_users().await.or_page(ctx.lang)? == 0 {
        return Ok(see_other("/setup"));
    }
    if ctx.session.as_ref().is_some_and(|(_, s)| s.user.is_some()) {
        return Ok(see_other(&safe_next(&q.next)));
    }
    let (ctx, cookie) = ensure_session(&s, &ctx).await?;
    let resp = page(
        &s,
        &ctx,
        None,
        "login.html",
        context! { next => safe_next(&q.next), username => "", errors => FieldErrors::new() },
    )
    .await;
    Ok(with_cookie(resp, cookie))
}

pub async fn login_submit(State(s): State<AppState>, ctx: Ctx, form: Form) -> PageResult {
    let username = form.get("username").trim().to_string();
    let password = form.get("password");
    let next = safe_next(form.get("next"));
    let now = std::time::Instant::now();
    let refused = |key: &str, fault: PageFault| {
        let mut errors = FieldErrors::new();
        errors.insert("_form".into(), t(ctx.lang, key));
        page_with(
            &s,
            &ctx,
            None,
            "login.html",
            Some(fault),
            context! { next => next, username => username, errors => errors },
        )
    };
    if let Err(wait) = s.login_limit.check(&username, ctx.client, now) {
        tracing::warn!(user = %username, client = %ctx.client, "sign-in refused: too many failed attempts");
        let mut errors = FieldErrors::new();
        let secs = wait.secs().to_string();
        errors.insert(
            "_form".into(),
            tf(ctx.lang, "login.locked", &[("secs", secs.as_str())]),
        );
        let mut resp = page_with(
            &s,
            &ctx,
            None,
            "login.html",
            Some(PageFault::TooManyAttempts),
            context! { next => next, username => username, errors => errors },
        )
        .await;
        if let Ok(v) = secs.parse() {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    let hasher = password_hasher();
    match s
        .hub
        .authenticate(&hasher, &username, password)
        .await
        .or_page(ctx.lang)?
    {
        Some(user) => {
            s.login_limit.succeeded(&username, ctx.client);
            sign_in(&s, &ctx, &user, &next).await
        }
        None => {
            tracing::info!(user = %username, "sign-in refused");
            s.login_limit.failed(&username, ctx.client, now);
            Ok(refused("login.failed", PageFault::SignInRefused).await)
        }
    }
}

pub async fn logout(State(s): State<AppState>, ctx: Ctx) -> Response {
    if let Some((id, _)) = &ctx.session {
        let _ = s.hub.delete_session(id).await;
    }
    with_cookie(
        see_other("/login"),
        Some(session::clear_session_cookie(ctx.secure)),
    )
}

pub async fn setup_page(State(s): State<AppState>, ctx: Ctx) -> PageResult {
    if s.hub.count_users().await.or_page(ctx.lang)? > 0 {
        return Ok(see_other("/login"));
    }
    let (ctx, cookie) = ensure_session(&s, &ctx).await?;
    let resp = page(
        &s,
        &ctx,
        None,
        "setup.html",
        context! { username => "admin", errors => FieldErrors::new() },
    )
    .await;
    Ok(with_cookie(resp, cookie))
}

pub async fn setup_submit(State(s): State<AppState>, ctx: Ctx, form: Form) -> PageResult {
    let lang = ctx.lang;
    let username = form.get("username").trim().to_string();
    let password = form.get("password");
    let mut errors = FieldErrors::new();
    if let Err(e) = accounts::check_username("username", &username) {
        messages::put(&mut errors, lang, &e, &|f| f.to_string());
    }
    if let Err(e) = accounts::check_password("password", password) {
        messages::put(&mut errors, lang, &e, &|f| f.to_string());
    }
    if password != form.get("password_confirm") {
        errors
            .entry("password_confirm".into())
            .or_insert_with(|| t(lang, "setup.mismatch"));
    }
    if errors.is_empty() {
        match s
            .hub
            .create_first_admin(&password_hasher(), &username, password)
            .await
        {
            Ok(id) => {
                let user = s.hub.get_user(&id).await.or_page(lang)?;
                tracing::info!(user = %username, "first administrator created");
                return sign_in(&s, &ctx, &user, "/").await;
            }
            Err(hub_core::HubError::Conflict { .. }) => return Ok(see_other("/login")),
            Err(e) => messages::put(&mut errors, lang, &e, &|f| f.to_string()),
        }
    }
    Ok(page_with(
        &s,
        &ctx,
        None,
        "setup.html",
        Some(PageFault::InvalidForm),
        context! { username => username, errors => errors },
    )
    .await)
}

/// Rejects an unusable context early (used by JSON endpoints that must not redirect).
pub fn json_unauthorized(lang: super::i18n::Lang) -> Response {
    crate::error::ApiError::sign_in_first(lang).into_response()
}
