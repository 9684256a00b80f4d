//! 新しい接続: the wizard, with its answers kept server-side in the (encrypted) session so
//! going back keeps what was typed. Steps:
//! 1. コネクタの選択 — from the loaded manifests;
//! 2. サインイン — the credential form (API token, password with the user name when the manifest
//!    keeps it among its settings; for OAuth the client id/secret and the settings its URL
//!    templates need); skipped when the connector needs none;
//! 3. ユーザー登録 — "ユーザー登録はお済みですか？" + 登録しました, then 登録番号 and 電話番号;
//! 4. 連携設定 — the manifest's settings with 接続テスト. An OAuth connector is signed in from
//!    here ("保存してサインイン"): the hub needs the saved connection (with its registration
//!    number and required settings) before it can start the consent step;
//! 5. 完了 — what was created (name, connector, 登録番号, the 接続テスト result), with
//!    「連携サービスを作成する」 (the flow form with this connection as the source) and
//!    「接続の一覧へ」.
//!
//! Secrets typed in step 2 stay in the session only until the connection is created. 中止 (on
//! every step) forgets the answers, so the next 新しい接続 starts empty.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use connector_sdk::{AuthSpec, Manifest, Secret, SettingField};
use hub_core::connections::{ConnectionInput, ConnectionUpdate};
use minijinja::{context, Value};
use serde::{Deserialize, Serialize};
use serde_json::Map;
use std::collections::BTreeMap;

use super::auth::Admin;
use super::connections::{check_identity, check_result, public_base};
use super::fields::{self, text};
use super::form::Form;
use super::i18n::{t, tf, Lang};
use super::messages::{self, FieldErrors};
use super::render::{page_with, see_other, PageResult};
use super::session::{self, Ctx};
use crate::error::PageFault;
use crate::AppState;

const KEY: &str = "wizard";
/// Session key of the last finished wizard, read by the 完了 step.
const DONE: &str = "wizard_done";
/// Session key naming where `/oauth/callback` continues.
pub const OAUTH_RETURN: &str = "oauth_return";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Wizard {
    pub connector: String,
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    #[serde(default)]
    pub settings: Map<String, serde_json::Value>,
    #[serde(default)]
    pub registered: bool,
    #[serde(default)]
    pub registration_number: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub name: String,
    /// Set once the connection exists (after 接続テスト or サインイン).
    #[serde(default)]
    pub connection_id: Option<String>,
    #[serde(default)]
    pub signed_in: bool,
    /// The last 接続テスト's answer on step 4 (ok, text), repeated on the 完了 step.
    #[serde(default)]
    pub check: Option<(bool, String)>,
}

/// What the 完了 step shows: the created connection and the wizard's last 接続テスト.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Done {
    connection_id: String,
    #[serde(default)]
    check: Option<(bool, String)>,
}

pub fn load(data: &Map<String, serde_json::Value>) -> Option<Wizard> {
    data.get(KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

pub async fn save(s: &AppState, ctx: &Ctx, w: Option<&Wizard>, flash: Option<String>) {
    let value = w.and_then(|w| serde_json::to_value(w).ok());
    session::update(s, ctx, |data| {
        match value {
            Some(v) => data.insert(KEY.into(), v),
            None => data.remove(KEY),
        };
        if let Some(f) = flash {
            data.insert("flash".into(), serde_json::Value::String(f));
        }
    })
    .await;
}

fn is_oauth(m: &Manifest) -> bool {
    matches!(m.auth, AuthSpec::OAuth2 { .. })
}

fn needs_signin_step(m: &Manifest) -> bool {
    !matches!(m.auth, AuthSpec::None) || !m.credentials.is_empty()
}

pub fn auth_label(lang: Lang, m: &Manifest) -> String {
    t(
        lang,
        match m.auth {
            AuthSpec::None => "wizard.auth_none",
            AuthSpec::ApiToken => "wizard.auth_api_token",
            AuthSpec::Password => "wizard.auth_password",
            AuthSpec::OAuth2 { .. } => "wizard.auth_oauth2",
        },
    )
}

/// The stepper: labels and which one is current (1-based).
fn steps(lang: Lang, current: usize) -> Value {
    let names = [
        "wizard.step_connector",
        "wizard.step_signin",
        "wizard.step_registration",
        "wizard.step_settings",
        "wizard.step_done",
    ];
    let list: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, k)| context! { n => i + 1, label => t(lang, k), current => i + 1 == current, done => i + 1 < current })
        .collect();
    Value::from(list)
}

/// The wizard's state and its connector's manifest; None sends the browser to step 1.
fn current(s: &AppState, ctx: &Ctx) -> Option<(Wizard, Manifest)> {
    let w = load(&ctx.data())?;
    let m = s.hub.plugins.plugin(&w.connector)?.manifest.clone();
    Some((w, m))
}

/// Whether a credential is already known (typed earlier, or stored on the created connection).
async fn stored_keys(s: &AppState, w: &Wizard) -> Vec<String> {
    let mut keys: Vec<String> = w.credentials.keys().cloned().collect();
    if let Some(id) = &w.connection_id {
        if let Ok(c) = s.hub.get_connection(id).await {
            keys.extend(c.credential_keys);
        }
    }
    keys
}

// ---- step 1 ------------------------------------------------------------------------------

pub async fn connector_page(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    render_connector(&s, &v.ctx, &v.user, None).await
}

async fn render_connector(
    s: &AppState,
    ctx: &Ctx,
    user: &hub_domain::User,
    error: Option<String>,
) -> PageResult {
    let lang = ctx.lang;
    let chosen = load(&ctx.data()).map(|w| w.connector).unwrap_or_default();
    let connectors: Vec<Value> = s
        .hub
        .plugins
        .loaded()
        .iter()
        .map(|p| {
            context! {
                id => p.id.clone(),
                name => text(lang, &p.manifest.name),
                description => text(lang, &p.manifest.description),
                auth => auth_label(lang, &p.manifest),
                version => p.version.clone(),
                selected => p.id == chosen,
            }
        })
        .collect();
    let fault = PageFault::form(error.is_some());
    Ok(page_with(
        s,
        ctx,
        Some(user),
        "wizard_connector.html",
        fault,
        context! { nav => "new", steps => steps(lang, 1), connectors => connectors, error => error },
    )
    .await)
}

pub async fn connector_submit(
    State(s): State<AppState>,
    Admin(v): Admin,
    form: Form,
) -> PageResult {
    let lang = v.ctx.lang;
    let id = form.get("connector");
    let Some(p) = s.hub.plugins.plugin(id) else {
        return render_connector(
            &s,
            &v.ctx,
            &v.user,
            Some(t(lang, "wizard.choose_connector")),
        )
        .await;
    };
    let mut w = load(&v.ctx.data()).unwrap_or_default();
    if w.connector != p.id {
        w = Wizard {
            connector: p.id.clone(),
            name: text(lang, &p.manifest.name),
            ..Default::default()
        };
    }
    let next = if needs_signin_step(&p.manifest) {
        "/connections/new/signin"
    } else {
        "/connections/new/registration"
    };
    save(&s, &v.ctx, Some(&w), None).await;
    Ok(see_other(next))
}

/// 中止: forgets the answers, so the next 新しい接続 starts empty (a connection already created
/// by 接続テスト or サインイン stays, and is listed).
pub async fn cancel(State(s): State<AppState>, Admin(v): Admin) -> Response {
    session::update(&s, &v.ctx, |data| {
        data.remove(KEY);
        data.remove(DONE);
    })
    .await;
    see_other("/")
}

// ---- step 2 ------------------------------------------------------------------------------

async fn render_signin(
    s: &AppState,
    ctx: &Ctx,
    user: &hub_domain::User,
    w: &Wizard,
    m: &Manifest,
    errors: &FieldErrors,
) -> Response {
    let lang = ctx.lang;
    let stored = stored_keys(s, w).await;
    let has = |k: &str| stored.iter().any(|x| x == k);
    let url_settings = fields::signin_settings(m);
    let fault = PageFault::form(!errors.is_empty());
    page_with(
        s,
        ctx,
        Some(user),
        "wizard_signin.html",
        fault,
        context! {
            nav => "new",
            steps => steps(lang, 2),
            connector => text(lang, &m.name),
            oauth => is_oauth(m),
            auth => auth_label(lang, m),
            credentials => fields::credential_inputs(lang, m, &has, errors),
            settings => fields::setting_inputs(lang, &url_settings, &w.settings, errors),
            errors => errors,
        },
    )
    .await
}

pub async fn signin_page(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    let Some((w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    if !needs_signin_step(&m) {
        return Ok(see_other("/connections/new/registration"));
    }
    Ok(render_signin(&s, &v.ctx, &v.user, &w, &m, &FieldErrors::new()).await)
}

pub async fn signin_submit(State(s): State<AppState>, Admin(v): Admin, form: Form) -> PageResult {
    let lang = v.ctx.lang;
    let Some((mut w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    let stored = stored_keys(&s, &w).await;
    let mut errors = FieldErrors::new();
    let url_settings = fields::signin_settings(&m);
    fields::read_credentials(
        lang,
        &form,
        &m,
        &|k| stored.iter().any(|x| x == k),
        &mut w.credentials,
        &mut errors,
    );
    fields::read_settings(lang, &form, &url_settings, &mut w.settings, &mut errors);
    if form.action() == "back" {
        save(&s, &v.ctx, Some(&w), None).await;
        return Ok(see_other("/connections/new"));
    }
    if errors.is_empty() {
        let known = |k: &str| w.credentials.contains_key(k) || stored.iter().any(|x| x == k);
        if let Some((field, message)) = missing_choice(lang, &m, &known) {
            errors.insert(field, message);
        }
    }
    if !errors.is_empty() {
        save(&s, &v.ctx, Some(&w), None).await;
        return Ok(render_signin(&s, &v.ctx, &v.user, &w, &m, &errors).await);
    }
    save(&s, &v.ctx, Some(&w), None).await;
    Ok(see_other("/connections/new/registration"))
}

/// The manifest's `credentials_one_of` on the step where they are entered: when no set is
/// complete, the error goes on the first set's first field ("「APIトークン」、または「ログイン名」と
/// 「パスワード」のいずれかを入力してください"), so an empty step 2 is not found out at step 4.
fn missing_choice(
    lang: Lang,
    m: &Manifest,
    known: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    let sets = &m.credentials_one_of;
    if sets.is_empty() || sets.iter().any(|set| set.iter().all(|k| known(k))) {
        return None;
    }
    let label = |k: &str| {
        m.credentials
            .iter()
            .find(|f| f.key == k)
            .map(|f| text(lang, &f.label))
            .unwrap_or_else(|| k.to_string())
    };
    let choices: Vec<String> = sets
        .iter()
        .map(|set| {
            set.iter()
                .map(|k| tf(lang, "wizard.one_of_field", &[("label", &label(k))]))
                .collect::<Vec<_>>()
                .join(&t(lang, "wizard.one_of_and"))
        })
        .collect();
    let first = sets.iter().flatten().next()?;
    Some((
        format!("{}{first}", fields::CREDENTIAL_PREFIX),
        tf(
            lang,
            "wizard.one_of",
            &[("choices", &choices.join(&t(lang, "wizard.one_of_or")))],
        ),
    ))
}

// ---- step 3 ------------------------------------------------------------------------------

async fn render_registration(
    s: &AppState,
    ctx: &Ctx,
    user: &hub_domain::User,
    w: &Wizard,
    m: &Manifest,
    errors: &FieldErrors,
) -> Response {
    let fault = PageFault::form(!errors.is_empty());
    page_with(
        s,
        ctx,
        Some(user),
        "wizard_registration.html",
        fault,
        context! {
            nav => "new",
            steps => steps(ctx.lang, 3),
            connector => text(ctx.lang, &m.name),
            registered => w.registered,
            registration_number => w.registration_number.clone(),
            phone => w.phone.clone(),
            errors => errors,
        },
    )
    .await
}

pub async fn registration_page(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    let Some((w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    Ok(render_registration(&s, &v.ctx, &v.user, &w, &m, &FieldErrors::new()).await)
}

pub async fn registration_submit(
    State(s): State<AppState>,
    Admin(v): Admin,
    form: Form,
) -> PageResult {
    let lang = v.ctx.lang;
    let Some((mut w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    w.registered = form.checked("registered");
    w.registration_number = form.get("registration_number").trim().to_string();
    w.phone = form.get("phone").trim().to_string();
    if form.action() == "back" {
        save(&s, &v.ctx, Some(&w), None).await;
        let back = if needs_signin_step(&m) {
            "/connections/new/signin"
        } else {
            "/connections/new"
        };
        return Ok(see_other(back));
    }
    let mut errors = FieldErrors::new();
    if !w.registered {
        errors.insert("registered".into(), t(lang, "wizard.must_register"));
    }
    if let Some((reg, phone)) =
        check_identity(lang, &m, &w.registration_number, &w.phone, &mut errors)
    {
        w.registration_number = reg;
        w.phone = phone;
    }
    save(&s, &v.ctx, Some(&w), None).await;
    if !errors.is_empty() {
        return Ok(render_registration(&s, &v.ctx, &v.user, &w, &m, &errors).await);
    }
    Ok(see_other("/connections/new/settings"))
}

// ---- step 4 ------------------------------------------------------------------------------

/// The settings asked on step 4: all but those the sign-in step asked.
fn step4_fields(m: &Manifest) -> Vec<&SettingField> {
    let asked = fields::signin_settings(m);
    m.settings
        .iter()
        .filter(|f| !asked.iter().any(|a| a.key == f.key))
        .collect()
}

struct Step4<'a> {
    errors: &'a FieldErrors,
    check: Option<Value>,
    fault: Option<PageFault>,
}

async fn render_settings(
    s: &AppState,
    ctx: &Ctx,
    user: &hub_domain::User,
    w: &Wizard,
    m: &Manifest,
    st: Step4<'_>,
) -> Response {
    let lang = ctx.lang;
    page_with(
        s,
        ctx,
        Some(user),
        "wizard_settings.html",
        st.fault,
        context! {
            nav => "new",
            steps => steps(lang, 4),
            connector => text(lang, &m.name),
            name => w.name.clone(),
            settings => fields::setting_inputs(lang, &step4_fields(m), &w.settings, st.errors),
            oauth => is_oauth(m),
            signed_in => w.signed_in,
            can_test => !is_oauth(m) || w.signed_in,
            check => st.check,
            errors => st.errors,
        },
    )
    .await
}

pub async fn settings_page(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    let Some((w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    if !w.registered || w.registration_number.is_empty() {
        return Ok(see_other("/connections/new/registration"));
    }
    let errors = FieldErrors::new();
    let st = Step4 {
        errors: &errors,
        check: None,
        fault: None,
    };
    Ok(render_settings(&s, &v.ctx, &v.user, &w, &m, st).await)
}

/// Creates the connection on first use, updates it afterwards; hub errors go next to fields.
async fn save_connection(
    s: &AppState,
    lang: Lang,
    w: &mut Wizard,
    m: &Manifest,
    errors: &mut FieldErrors,
) -> Option<String> {
    let credentials: BTreeMap<String, Secret> = w
        .credentials
        .iter()
        .map(|(k, v)| (k.clone(), Secret::new(v.clone())))
        .collect();
    let result = match &w.connection_id {
        None => {
            s.hub
                .create_connection(ConnectionInput {
                    connector: m.id.clone(),
                    name: w.name.clone(),
                    registration_number: w.registration_number.clone(),
                    phone: w.phone.clone(),
                    settings: w.settings.clone(),
                    credentials,
                })
                .await
        }
        Some(id) => s
            .hub
            .update_connection(
                id,
                ConnectionUpdate {
                    name: Some(w.name.clone()),
                    registration_number: Some(w.registration_number.clone()),
                    phone: Some(w.phone.clone()),
                    settings: Some(w.settings.clone()),
                    credentials: (!credentials.is_empty()).then_some(credentials),
                },
            )
            .await
            .map(|c| c.id),
    };
    match result {
        Ok(id) => {
            w.connection_id = Some(id.clone());
            // The connection keeps them now (encrypted); the session need not.
            w.credentials.clear();
            Some(id)
        }
        Err(e) => {
            let on_page: Vec<String> = step4_fields(m)
                .iter()
                .map(|f| format!("{}{}", fields::SETTING_PREFIX, f.key))
                .chain(["name".to_string()])
                .collect();
            let mut found = FieldErrors::new();
            messages::put(&mut found, lang, &e, &fields::form_name);
            for (field, msg) in found {
                if on_page.contains(&field) || field == "_form" {
                    errors.insert(field, msg);
                } else {
                    errors.insert("_form".into(), fields::elsewhere(lang, m, &field, &msg));
                }
            }
            None
        }
    }
}

pub async fn settings_submit(
    State(s): State<AppState>,
    Admin(v): Admin,
    headers: HeaderMap,
    form: Form,
) -> PageResult {
    let lang = v.ctx.lang;
    let Some((mut w, m)) = current(&s, &v.ctx) else {
        return Ok(see_other("/connections/new"));
    };
    let mut errors = FieldErrors::new();
    w.name = form.get("name").trim().to_string();
    if let Err(e) = hub_core::validate::text("name", &w.name, 100) {
        messages::put(&mut errors, lang, &e, &|f| f.to_string());
    }
    fields::read_settings(lang, &form, &step4_fields(&m), &mut w.settings, &mut errors);
    let action = form.action().to_string();
    if action == "back" {
        save(&s, &v.ctx, Some(&w), None).await;
        return Ok(see_other("/connections/new/registration"));
    }
    let mut check = None;
    if errors.is_empty() {
        if let Some(id) = save_connection(&s, lang, &mut w, &m, &mut errors).await {
            match action.as_str() {
                "signin" if is_oauth(&m) => {
                    let redirect = format!("{}/oauth/callback", public_base(&headers));
                    match s.hub.begin_authorization(&id, &redirect).await {
                        Ok(url) => {
                            let wv = serde_json::to_value(&w).ok();
                            session::update(&s, &v.ctx, |data| {
                                if let Some(wv) = wv {
                                    data.insert(KEY.into(), wv);
                                }
                                data.insert(
                                    OAUTH_RETURN.into(),
                                    serde_json::json!({"connection": id, "to": "wizard"}),
                                );
                            })
                            .await;
                            return Ok(see_other(&url));
                        }
                        Err(e) => messages::put(&mut errors, lang, &e, &fields::form_name),
                    }
                }
                "test" => {
                    let c = check_result(&s, lang, &id).await;
                    let ok = c.get_attr("ok").is_ok_and(|v| v.is_true());
                    let text = c
                        .get_attr("text")
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    w.check = Some((ok, text));
                    check = Some(c);
                }
                _ => {
                    if is_oauth(&m) && !w.signed_in {
                        errors.insert("_form".into(), t(lang, "wizard.signin_first"));
                    } else {
                        let done = serde_json::to_value(Done {
                            connection_id: id.clone(),
                            check: w.check.clone(),
                        })
                        .ok();
                        session::update(&s, &v.ctx, |data| {
                            data.remove(KEY);
                            if let Some(d) = done {
                                data.insert(DONE.into(), d);
                            }
                        })
                        .await;
                        tracing::info!(connection = %id, connector = %m.id, "connection saved from the wizard");
                        return Ok(see_other("/connections/new/done"));
                    }
                }
            }
        }
    }
    save(&s, &v.ctx, Some(&w), None).await;
    let fault = PageFault::form(!errors.is_empty());
    let st = Step4 {
        errors: &errors,
        check,
        fault,
    };
    Ok(render_settings(&s, &v.ctx, &v.user, &w, &m, st).await)
}

/// After `/oauth/callback`: marks the wizard's connection as signed in.
pub fn mark_signed_in(data: &mut Map<String, serde_json::Value>, connection_id: &str) -> bool {
    let Some(mut w) = load(data) else {
        return false;
    };
    if w.connection_id.as_deref() != Some(connection_id) {
        return false;
    }
    w.signed_in = true;
    if let Ok(v) = serde_json::to_value(&w) {
        data.insert(KEY.into(), v);
    }
    true
}

// ---- step 5 ------------------------------------------------------------------------------

/// 完了: what the wizard created, and where to go next.
pub async fn done_page(State(s): State<AppState>, Admin(v): Admin) -> PageResult {
    let lang = v.ctx.lang;
    let Some(done) = v
        .ctx
        .data()
        .get(DONE)
        .and_then(|d| serde_json::from_value::<Done>(d.clone()).ok())
    else {
        return Ok(see_other("/connections/new"));
    };
    let Ok(c) = s.hub.get_connection(&done.connection_id).await else {
        return Ok(see_other("/"));
    };
    let row = super::home::connection_row(&s, lang, &c);
    // The store's status is the one truth (a setting changed after the test makes it 未確認
    // again); the test's own words are shown while they still describe it.
    let tested = c.status != hub_domain::ConnectionStatus::Unchecked;
    let (check_ok, check_text) = match done.check {
        Some((ok, text)) if tested => (Some(ok), text),
        _ if tested => (
            Some(c.status == hub_domain::ConnectionStatus::Ok),
            c.status_message
                .as_deref()
                .map(|m| hub_messages::Message::stored_in(m, lang))
                .unwrap_or_default(),
        ),
        _ => (None, t(lang, "wizard.done_not_tested")),
    };
    Ok(page_with(
        &s,
        &v.ctx,
        Some(&v.user),
        "wizard_done.html",
        None,
        context! {
            nav => "new",
            steps => steps(lang, 5),
            saved => tf(lang, "wizard.saved", &[("name", &c.name)]),
            c => row,
            phone => c.phone.clone(),
            check_ok => check_ok,
            check_text => check_text,
            flow_href => format!("/flows/new?source={}", c.id),
        },
    )
    .await)
}
