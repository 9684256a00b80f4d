//! A connection's page (設定変更, manual 1.3): its name, 登録番号, 電話番号, settings and
//! credentials (never shown; empty keeps them), 接続テスト, and deletion. Operators see it
//! read-only and may run 接続テスト.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use connector_sdk::{AuthSpec, Manifest, Secret};
use hub_core::connections::ConnectionUpdate;
use hub_core::validate;
use minijinja::{context, Value};
use std::collections::BTreeMap;

use super::auth::{Admin, Viewer};
use super::fields;
use super::form::Form;
use super::home::{connection_checked, connection_status, connector_name};
use super::i18n::{tf, Lang};
use super::labels;
use super::messages::{self, FieldErrors};
use super::render::{page_with, see_other, OrPage, PageError, PageResult};
use super::session;
use crate::error::PageFault;
use crate::AppState;
use hub_messages::Message;

/// 登録番号 and 電話番号 checked by the hub's own rules; the normalized values when both pass.
pub fn check_identity(
    lang: Lang,
    m: &Manifest,
    registration_number: &str,
    phone: &str,
    errors: &mut FieldErrors,
) -> Option<(String, String)> {
    let reg = validate::registration_number(
        "registration_number",
        registration_number,
        m.registration_number_pattern.as_deref(),
    );
    let ph = validate::phone("phone", phone);
    match (reg, ph) {
        (Ok(r), Ok(p)) => Some((r, p)),
        (r, p) => {
            for e in [r.err(), p.err()].into_iter().flatten() {
                messages::put(errors, lang, &e, &|f| f.to_string());
            }
            None
        }
    }
}

/// 接続テスト as a result box: who the connection signs in as, or the connector's reason.
pub async fn check_result(s: &AppState, lang: Lang, id: &str) -> Value {
    match s.hub.check_connection(id).await {
        Ok(Ok(c)) => {
            context! { ok => true, text => tf(lang, "conn.test_ok", &[("account", &c.account)]) }
        }
        Ok(Err(e)) => context! {
            ok => false,
            text => tf(lang, "conn.test_failed", &[("reason", &messages::connector_message(lang, &e))]),
        },
        Err(e) => context! {
            ok => false,
            text => tf(lang, "conn.test_failed", &[("reason", &messages::hub_error(lang, &e))]),
        },
    }
}

/// Where the browser reaches this hub: `HUB_PUBLIC_URL` when set, else the request's host
/// (the OAuth redirect must come back to the address the user is using).
pub fn public_base(headers: &HeaderMap) -> String {
    if let Ok(u) = std::env::var("HUB_PUBLIC_URL") {
        if !u.trim().is_empty() {
            return u.trim().trim_end_matches('/').to_string();
        }
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

pub(super) struct View<'a> {
    pub errors: &'a FieldErrors,
    pub check: Option<Value>,
    /// Typed values to show again after a failed save.
    pub typed: Option<&'a Form>,
    /// The action whose form was sent, with its input errors.
    pub action: Option<(&'a str, &'a FieldErrors)>,
    pub action_result: Option<Value>,
}

pub(super) async fn render(s: &AppState, v: &Viewer, id: &str, view: View<'_>) -> PageResult {
    let lang = v.ctx.lang;
    let c = s.hub.get_connection(id).await.or_page(lang)?;
    let manifest = s
        .hub
        .plugins
        .plugin(&c.connector_id)
        .map(|p| p.manifest.clone());
    let (status_label, status_class) = connection_status(lang, &c);
    let mut values = c.settings.clone();
    let (mut name, mut reg, mut phone) = (
        c.name.clone(),
        c.registration_number.clone(),
        c.phone.clone(),
    );
    if let Some(f) = view.typed {
        name = f.get("name").to_string();
        reg = f.get("registration_number").to_string();
        phone = f.get("phone").to_string();
        for (k, val) in &f.0 {
            if let Some(key) = k.strip_prefix(fields::SETTING_PREFIX) {
                values.insert(key.to_string(), serde_json::Value::String(val.clone()));
            }
        }
        if let Some(m) = &manifest {
            fields::typed_layouts(f, &m.settings, &mut values);
        }
    }
    let (settings, credentials, oauth) = match &manifest {
        Some(m) => {
            let all: Vec<_> = m.settings.iter().collect();
            let keys = c.credential_keys.clone();
            let has = move |k: &str| keys.iter().any(|x| x == k);
            (
                fields::setting_inputs(lang, &all, &values, view.errors),
                fields::credential_inputs(lang, m, &has, view.errors),
                matches!(m.auth, AuthSpec::OAuth2 { .. }),
            )
        }
        None => (vec![], vec![], false),
    };
    let no_errors = FieldErrors::new();
    let (acted, action_errors) = view.action.unzip();
    let actions = manifest
        .as_ref()
        .map(|m| super::actions::forms(lang, m, acted, action_errors.unwrap_or(&no_errors)))
        .unwrap_or_default();
    let user_map = user_map_rows(s, id, view.typed).await;
    let fault = PageFault::form(!view.errors.is_empty());
    Ok(page_with(
        s,
        &v.ctx,
        Some(&v.user),
        "connection_edit.html",
        fault,
        context! {
            nav => "home",
            id => c.id.clone(),
            connector => connector_name(s, lang, &c.connector_id),
            loaded => manifest.is_some(),
            name => name,
            registration_number => reg,
            phone => phone,
            settings => settings,
            credentials => credentials,
            oauth => oauth,
            status_label => status_label,
            status_class => status_class,
            status_checked => connection_checked(lang, &c),
            status_message => c.status_message.as_deref().map(|m| hub_messages::Message::stored_in(m, lang)),
            token_expires => labels::datetime(c.token.expires_at),
            token_refreshed => labels::datetime(c.token.refreshed_at),
            created => labels::datetime(Some(c.created_at)),
            can_edit => v.is_admin(),
            check => view.check,
            errors => view.errors,
            actions => actions,
            action_result => view.action_result,
            user_map => user_map,
        },
    )
    .await)
}

pub async fn edit_page(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    let errors = FieldErrors::new();
    render(
        &s,
        &v,
        &id,
        View {
            errors: &errors,
            check: None,
            typed: None,
            action: None,
            action_result: None,
        },
    )
    .await
}

/// 設定を保存する / 接続テスト. An operator's 接続テスト tests what is stored, changing nothing.
pub async fn edit_submit(
    State(s): State<AppState>,
    v: Viewer,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let lang = v.ctx.lang;
    let action = form.action().to_string();
    if !v.is_admin() {
        if action != "test" {
            return Err(PageError::new(
                lang,
                PageFault::Forbidden,
                Message::new("err.admin_only"),
            ));
        }
        let errors = FieldErrors::new();
        let check = Some(check_result(&s, lang, &id).await);
        return render(
            &s,
            &v,
            &id,
            View {
                errors: &errors,
                check,
                typed: None,
                action: None,
                action_result: None,
            },
        )
        .await;
    }
    if action == "user_map" {
        return user_map_submit(&s, &v, &id, &form).await;
    }
    let c = s.hub.get_connection(&id).await.or_page(lang)?;
    let Some(m) = s
        .hub
        .plugins
        .plugin(&c.connector_id)
        .map(|p| p.manifest.clone())
    else {
        return Err(PageError::new(
            lang,
            PageFault::Conflict,
            Message::new("conn.not_loaded_long"),
        ));
    };
    let mut errors = FieldErrors::new();
    let name = form.get("name").trim().to_string();
    if let Err(e) = validate::text("name", &name, 100) {
        messages::put(&mut errors, lang, &e, &|f| f.to_string());
    }
    let identity = check_identity(
        lang,
        &m,
        form.get("registration_number"),
        form.get("phone"),
        &mut errors,
    );
    let mut settings = c.settings.clone();
    let all: Vec<_> = m.settings.iter().collect();
    fields::read_settings(lang, &form, &all, &mut settings, &mut errors);
    let mut typed = BTreeMap::new();
    let keys = c.credential_keys.clone();
    fields::read_credentials(
        lang,
        &form,
        &m,
        &|k| keys.iter().any(|x| x == k),
        &mut typed,
        &mut errors,
    );
    if let (true, Some((reg, phone))) = (errors.is_empty(), identity) {
        let credentials: BTreeMap<String, Secret> = typed
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect();
        let update = ConnectionUpdate {
            name: Some(name.clone()),
            registration_number: Some(reg),
            phone: Some(phone),
            settings: Some(settings),
            credentials: (!credentials.is_empty()).then_some(credentials),
        };
        match s.hub.update_connection(&id, update).await {
            Ok(_) => {
                tracing::info!(connection = %id, user = %v.user.username, "connection changed");
                if action == "test" {
                    let check = Some(check_result(&s, lang, &id).await);
                    return render(
                        &s,
                        &v,
                        &id,
                        View {
                            errors: &errors,
                            check,
                            typed: None,
                            action: None,
                            action_result: None,
                        },
                    )
                    .await;
                }
                session::flash(&s, &v.ctx, &tf(lang, "conn.saved", &[("name", &name)])).await;
                return Ok(see_other("/"));
            }
            Err(e) => {
                // An endpoint change without the secrets again (the hub's rule): the error goes
                // on every credential to re-enter, not only the first the hub names.
                if let hub_core::HubError::Invalid { message, .. } = &e {
                    if let Some(list) = message.arg("missing") {
                        for f in list.split(", ") {
                            let one = hub_core::HubError::invalid(f, message.clone());
                            messages::put(&mut errors, lang, &one, &fields::form_name);
                        }
                    }
                }
                messages::put(&mut errors, lang, &e, &fields::form_name)
            }
        }
    }
    render(
        &s,
        &v,
        &id,
        View {
            errors: &errors,
            check: None,
            typed: Some(&form),
            action: None,
            action_result: None,
        },
    )
    .await
}

/// The rows of the ユーザー連携 table: the saved pairs (or those typed, after a refused save) and
/// three empty rows to add more.
async fn user_map_rows(s: &AppState, id: &str, typed: Option<&Form>) -> Vec<serde_json::Value> {
    let typed_rows: Option<Vec<(String, String)>> =
        typed.filter(|f| f.action() == "user_map").map(|f| {
            let to = f.all("um_to");
            f.all("um_from")
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    (
                        a.to_string(),
                        to.get(i).map(|b| b.to_string()).unwrap_or_default(),
                    )
                })
                .collect()
        });
    let mut rows = match typed_rows {
        Some(r) => r,
        None => s
            .hub
            .user_map(id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p.from, p.to))
            .collect(),
    };
    rows.retain(|(a, b)| !a.trim().is_empty() || !b.trim().is_empty());
    rows.extend(std::iter::repeat_n((String::new(), String::new()), 3));
    rows.into_iter()
        .map(|(from, to)| serde_json::json!({"from": from, "to": to}))
        .collect()
}

/// ユーザー連携を保存する (administrators): replaces the connection's user mapping.
async fn user_map_submit(s: &AppState, v: &Viewer, id: &str, form: &Form) -> PageResult {
    let lang = v.ctx.lang;
    let to = form.all("um_to");
    let pairs = form
        .all("um_from")
        .iter()
        .enumerate()
        .map(|(i, from)| hub_domain::UserPair {
            from: from.to_string(),
            to: to.get(i).map(|t| t.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut errors = FieldErrors::new();
    match s.hub.set_user_map(id, pairs).await {
        Ok(saved) => {
            tracing::info!(connection = %id, user = %v.user.username, pairs = saved.len(), "user map changed");
            session::flash(
                s,
                &v.ctx,
                &tf(
                    lang,
                    "conn.user_map_saved",
                    &[("n", &saved.len().to_string())],
                ),
            )
            .await;
            return Ok(see_other(&format!("/connections/{id}")));
        }
        Err(e) => messages::put(&mut errors, lang, &e, &|_| "user_map".to_string()),
    }
    render(
        s,
        v,
        id,
        View {
            errors: &errors,
            check: None,
            typed: Some(form),
            action: None,
            action_result: None,
        },
    )
    .await
}

pub async fn delete(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let name = s
        .hub
        .get_connection(&id)
        .await
        .map(|c| c.name)
        .unwrap_or_default();
    let text = match s.hub.delete_connection(&id).await {
        Ok(()) => {
            tracing::info!(connection = %id, user = %v.user.username, "connection deleted");
            tf(lang, "conn.deleted", &[("name", &name)])
        }
        Err(e) => messages::hub_error(lang, &e),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other("/")
}
