//! システム設定 → ユーザー: admins add users (admin or operator), set a new password, and
//! remove users. The last admin cannot be removed, so the hub is never left without one (the
//! rule is core's: `Hub::delete_user`).

use axum::extract::{Path, State};
use axum::response::Response;
use hub_core::accounts::Role;
use minijinja::{context, Value};

use super::auth::Admin;
use super::form::Form;
use super::i18n::{t, tf};
use super::labels;
use super::messages::{self, FieldErrors};
use super::passwords::password_hasher;
use super::render::{page_with, see_other, OrPage, PageResult};
use super::session;
use crate::error::PageFault;
use crate::AppState;

pub fn role_label(lang: super::i18n::Lang, role: Role) -> String {
    t(
        lang,
        match role {
            Role::Admin => "role.admin",
            Role::Operator => "role.operator",
            Role::ReadOnly => "role.read_only",
        },
    )
}

async fn render(
    s: &AppState,
    v: &super::auth::Viewer,
    form: Option<&Form>,
    errors: &FieldErrors,
) -> PageResult {
    let lang = v.ctx.lang;
    let users: Vec<Value> = s
        .hub
        .list_users()
        .await
        .or_page(lang)?
        .iter()
        .map(|u| {
            context! {
                id => u.id.clone(),
                name => u.username.clone(),
                role => role_label(lang, Role::of(u)),
                last_login => labels::datetime(u.last_login_at),
                is_me => u.id == v.user.id,
            }
        })
        .collect();
    let fault = PageFault::form(!errors.is_empty());
    Ok(page_with(
        s,
        &v.ctx,
        Some(&v.user),
        "users.html",
        fault,
        context! {
            nav => "settings",
            users => users,
            username => form.map(|f| f.get("username").to_string()).unwrap_or_default(),
            role => form.map(|f| f.get("role").to_string()).unwrap_or_else(|| "operator".into()),
            roles => vec![
                context! { value => "operator", label => role_label(lang, Role::Operator) },
                context! { value => "admin", label => role_label(lang, Role::Admin) },
            ],
            errors => errors,
        },
    )
    .await)
}

pub async fn list(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    render(&s, &v, None, &FieldErrors::new()).await
}

pub async fn create(State(s): State<AppState>, Admin(v): Admin, form: Form) -> PageResult {
    let lang = v.ctx.lang;
    let role = Role::parse(form.get("role")).unwrap_or(Role::Operator);
    let mut errors = FieldErrors::new();
    match s
        .hub
        .create_user(
            &password_hasher(),
            form.get("username"),
            form.get("password"),
            role,
        )
        .await
    {
        Ok(_) => {
            tracing::info!(user = %form.get("username").trim(), role = role.as_str(), by = %v.user.username, "user created");
            session::flash(
                &s,
                &v.ctx,
                &tf(
                    lang,
                    "users.created",
                    &[("name", form.get("username").trim())],
                ),
            )
            .await;
            return Ok(see_other("/settings/users"));
        }
        Err(hub_core::HubError::Conflict { .. }) => {
            errors.insert("username".into(), t(lang, "users.taken"));
        }
        Err(e) => messages::put(&mut errors, lang, &e, &|f| f.to_string()),
    }
    render(&s, &v, Some(&form), &errors).await
}

pub async fn set_password(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let lang = v.ctx.lang;
    let text = match s
        .hub
        .set_password(&password_hasher(), &id, form.get("password"))
        .await
    {
        Ok(()) => t(lang, "users.password_set"),
        Err(e) => messages::hub_error(lang, &e),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other(if id == v.user.id {
        "/login"
    } else {
        "/settings/users"
    })
}

pub async fn delete(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let text = match s.hub.delete_user(&id, &v.user.id).await {
        Ok(()) => {
            tracing::info!(user = %id, by = %v.user.username, "user deleted");
            t(lang, "users.deleted")
        }
        Err(e) => messages::hub_error(lang, &e),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other("/settings/users")
}
