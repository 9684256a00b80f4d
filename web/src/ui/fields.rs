//! A connector's manifest fields (settings and credentials) as form inputs: rendered from the
//! manifest, read back from the form, and checked with the manifest's rules so each error sits
//! next to its field. Credentials are never sent back to the browser: their inputs render
//! empty with a "設定済み" note, and an empty input keeps what is stored.

use connector_sdk::{Manifest, SettingField, SettingKind, Text};
use minijinja::{context, Value};
use regex::Regex;
use serde_json::Map;
use std::collections::BTreeMap;

use super::form::Form;
use super::i18n::{t, tf, Lang};
use super::messages::FieldErrors;

pub const SETTING_PREFIX: &str = "s.";
pub const CREDENTIAL_PREFIX: &str = "c.";

pub fn text(lang: Lang, t: &Text) -> String {
    match lang {
        Lang::Ja if !t.ja.is_empty() => t.ja.clone(),
        _ if !t.en.is_empty() => t.en.clone(),
        _ => t.ja.clone(),
    }
}

fn kind_name(k: &SettingKind) -> &'static str {
    match k {
        SettingKind::Text => "text",
        SettingKind::Url => "url",
        SettingKind::Number => "number",
        SettingKind::Bool => "bool",
        SettingKind::Secret => "secret",
        SettingKind::Path => "path",
        SettingKind::Select { .. } => "select",
        SettingKind::ColumnLayout => "column_layout",
    }
}

/// One input: `value` for settings; for credentials only whether one is stored (`is_set`),
/// rendered with kind `secret` (always empty).
pub fn input(
    lang: Lang,
    f: &SettingField,
    secret: bool,
    value: &str,
    is_set: bool,
    errors: &FieldErrors,
) -> Value {
    let name = format!(
        "{}{}",
        if secret {
            CREDENTIAL_PREFIX
        } else {
            SETTING_PREFIX
        },
        f.key
    );
    let options: Vec<Value> = match &f.kind {
        SettingKind::Select { options } => options
            .iter()
            .map(|o| context! { value => o.value.clone(), label => text(lang, &o.label) })
            .collect(),
        _ => vec![],
    };
    context! {
        name => name.clone(),
        id => name.replace('.', "-"),
        label => text(lang, &f.label),
        kind => if secret { "secret" } else { kind_name(&f.kind) },
        required => f.required,
        help => f.help.as_ref().map(|h| text(lang, h)),
        placeholder => f.default.clone().unwrap_or_default(),
        value => if secret { String::new() } else { value.to_string() },
        is_set => secret && is_set,
        // A credential that is not itself secret (a client ID, a login name) is typed in the
        // clear, but like every credential it is never filled back in.
        masked => matches!(f.kind, SettingKind::Secret),
        options => options,
        // A column layout edits as a table (none: its text is shown as it is).
        columns => match f.kind {
            SettingKind::ColumnLayout if !secret => super::column_layout::table(value),
            _ => None,
        },
        error => errors.get(&name).cloned(),
    }
}

/// The settings of `fields` as inputs, filled from `values`.
pub fn setting_inputs(
    lang: Lang,
    fields: &[&SettingField],
    values: &Map<String, serde_json::Value>,
    errors: &FieldErrors,
) -> Vec<Value> {
    fields
        .iter()
        .map(|f| {
            let v = values
                .get(&f.key)
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            input(lang, f, false, &v, false, errors)
        })
        .collect()
}

/// The credential inputs; `stored` says which keys already have a value.
pub fn credential_inputs(
    lang: Lang,
    m: &Manifest,
    stored: &dyn Fn(&str) -> bool,
    errors: &FieldErrors,
) -> Vec<Value> {
    m.credentials
        .iter()
        .map(|f| input(lang, f, true, "", stored(&f.key), errors))
        .collect()
}

/// Checks one non-empty value against the field's kind and pattern; the error text if not.
fn check_value(lang: Lang, f: &SettingField, v: &str) -> Option<String> {
    if v.chars().count() > 2000 {
        return Some(tf(lang, "err.too_long", &[("max", "2000")]));
    }
    let ok = match &f.kind {
        SettingKind::Url => {
            let lower = v.to_ascii_lowercase();
            (lower.starts_with("http://") || lower.starts_with("https://")) && v.len() > 8
        }
        SettingKind::Number => v.parse::<f64>().is_ok(),
        SettingKind::Bool => matches!(v, "true" | "false"),
        SettingKind::Select { options } => options.iter().any(|o| o.value == v),
        _ => true,
    };
    if !ok {
        return Some(match &f.kind {
            SettingKind::Url => t(lang, "err.url"),
            SettingKind::Number => t(lang, "err.number"),
            SettingKind::Bool => t(lang, "err.bool"),
            _ => t(lang, "err.choose"),
        });
    }
    if let Some(p) = &f.pattern {
        match Regex::new(p) {
            Ok(re) if !re.is_match(v) => return Some(t(lang, "err.pattern")),
            Err(_) => return Some(t(lang, "err.pattern")),
            _ => {}
        }
    }
    None
}

/// The column layouts of `fields` as typed in `form` (half rows too), over what `values` holds:
/// a refused form shows them again as they were.
pub fn typed_layouts(
    form: &Form,
    fields: &[SettingField],
    values: &mut Map<String, serde_json::Value>,
) {
    for f in fields {
        let name = format!("{SETTING_PREFIX}{}", f.key);
        if matches!(f.kind, SettingKind::ColumnLayout) && form.has(&format!("{name}.header")) {
            let stored = values
                .get(&f.key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let text = super::column_layout::typed(form, &name, &stored);
            values.insert(f.key.clone(), serde_json::Value::String(text));
        }
    }
}

/// Reads the settings `fields` from the form into `into` (trimmed; a bool is its checkbox),
/// putting errors next to the fields. Empty values fall back to the default, then to absent.
pub fn read_settings(
    lang: Lang,
    form: &Form,
    fields: &[&SettingField],
    into: &mut Map<String, serde_json::Value>,
    errors: &mut FieldErrors,
) {
    for f in fields {
        let name = format!("{SETTING_PREFIX}{}", f.key);
        let raw = match f.kind {
            SettingKind::Bool => if form.checked(&name) { "true" } else { "false" }.to_string(),
            SettingKind::ColumnLayout if !form.has(&name) => {
                let stored = into
                    .get(&f.key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                super::column_layout::read(lang, form, &name, &stored, errors)
            }
            _ => form.get(&name).trim().to_string(),
        };
        let value = if raw.is_empty() {
            f.default.clone().unwrap_or_default()
        } else {
            raw
        };
        if value.is_empty() {
            into.remove(&f.key);
            if f.required {
                errors.insert(name, t(lang, "err.required"));
            }
            continue;
        }
        if let Some(e) = check_value(lang, f, &value) {
            errors.insert(name, e);
        }
        into.insert(f.key.clone(), serde_json::Value::String(value));
    }
}

/// Reads typed credentials; an empty input keeps `kept` (what was typed before or is stored).
/// `required_missing` tells whether a required credential has neither.
pub fn read_credentials(
    lang: Lang,
    form: &Form,
    m: &Manifest,
    kept: &dyn Fn(&str) -> bool,
    into: &mut BTreeMap<String, String>,
    errors: &mut FieldErrors,
) {
    for f in &m.credentials {
        let name = format!("{CREDENTIAL_PREFIX}{}", f.key);
        // Secrets are taken as typed (a space may be part of a password).
        let v = form.get(&name);
        if v.is_empty() {
            if f.required && !kept(&f.key) && !into.contains_key(&f.key) {
                errors.insert(name, t(lang, "err.required"));
            }
            continue;
        }
        if let Some(e) = check_value(lang, f, v.trim()) {
            errors.insert(name, e);
            continue;
        }
        into.insert(f.key.clone(), v.to_string());
    }
}

/// Setting keys taken as a password connector's user name. `AuthSpec::Password` means "user
/// name and password" (the sign-in step says so); when the manifest keeps the user name among
/// its settings rather than its credentials (Domino's `username`), it is asked there too.
pub const USER_NAME_SETTINGS: [&str; 3] = ["username", "user_name", "login_name"];

/// The settings asked on the wizard's sign-in step with the credentials: an OAuth connector's
/// URL-template settings, or a password connector's user name.
pub fn signin_settings(m: &Manifest) -> Vec<&SettingField> {
    match m.auth {
        connector_sdk::AuthSpec::OAuth2 { .. } => oauth_url_settings(m),
        connector_sdk::AuthSpec::Password => m
            .settings
            .iter()
            .filter(|f| USER_NAME_SETTINGS.contains(&f.key.as_str()))
            .collect(),
        _ => vec![],
    }
}

/// The settings an OAuth connector's URL templates name (`{accounts_url|data_centre}`): asked
/// together with the client id and secret, before signing in.
pub fn oauth_url_settings(m: &Manifest) -> Vec<&SettingField> {
    let connector_sdk::AuthSpec::OAuth2 {
        authorize_url,
        token_url,
        ..
    } = &m.auth
    else {
        return vec![];
    };
    let mut keys = vec![];
    for tpl in [authorize_url, token_url] {
        let mut rest = tpl.as_str();
        while let Some(start) = rest.find('{') {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            for k in rest[start + 1..start + end].split('|') {
                keys.push(k.trim().to_string());
            }
            rest = &rest[start + end + 1..];
        }
    }
    m.settings
        .iter()
        .filter(|f| keys.contains(&f.key))
        .collect()
}

/// A hub field name (`settings.app`, `credentials.api_token`) as the form's input name.
pub fn form_name(hub_field: &str) -> String {
    if let Some(k) = hub_field.strip_prefix("settings.") {
        format!("{SETTING_PREFIX}{k}")
    } else if let Some(k) = hub_field.strip_prefix("credentials.") {
        format!("{CREDENTIAL_PREFIX}{k}")
    } else {
        hub_field.to_string()
    }
}

/// "ラベル: メッセージ" for an error on a field that is not on the current step's form.
pub fn elsewhere(lang: Lang, m: &Manifest, form_field: &str, message: &str) -> String {
    let key = form_field
        .strip_prefix(SETTING_PREFIX)
        .or_else(|| form_field.strip_prefix(CREDENTIAL_PREFIX))
        .unwrap_or(form_field);
    let label = m
        .settings
        .iter()
        .chain(m.credentials.iter())
        .find(|f| f.key == key)
        .map(|f| text(lang, &f.label))
        .unwrap_or_else(|| key.to_string());
    tf(
        lang,
        "err.field_elsewhere",
        &[("field", &label), ("message", message)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_sdk::{AuthSpec, SelectOption};

    fn field(key: &str, kind: SettingKind, required: bool) -> SettingField {
        SettingField {
            key: key.into(),
            label: Text::new("ラベル", "Label"),
            kind,
            required,
            pattern: None,
            help: None,
            default: None,
            endpoint: false,
        }
    }

    #[test]
    fn settings_are_checked_by_kind_and_required() {
        let fields = [
            field("url", SettingKind::Url, true),
            field("n", SettingKind::Number, false),
            field(
                "dc",
                SettingKind::Select {
                    options: vec![SelectOption {
                        value: "JP".into(),
                        label: Text::new("日本", "Japan"),
                    }],
                },
                true,
            ),
        ];
        let refs: Vec<&SettingField> = fields.iter().collect();
        let form = Form::parse(b"s.url=ftp%3A%2F%2Fx&s.n=abc&s.dc=JP");
        let mut into = Map::new();
        let mut errors = FieldErrors::new();
        read_settings(Lang::Ja, &form, &refs, &mut into, &mut errors);
        assert_eq!(errors.get("s.url").unwrap(), &t(Lang::Ja, "err.url"));
        assert_eq!(errors.get("s.n").unwrap(), &t(Lang::Ja, "err.number"));
        assert!(!errors.contains_key("s.dc"));
        let mut errors = FieldErrors::new();
        read_settings(Lang::Ja, &Form::default(), &refs, &mut into, &mut errors);
        assert_eq!(errors.get("s.url").unwrap(), "必須項目です");
    }

    #[test]
    fn secrets_never_render_their_value() {
        let f = field("api_token", SettingKind::Secret, true);
        let v = input(Lang::Ja, &f, true, "s3cret", true, &FieldErrors::new());
        assert_eq!(v.get_attr("value").unwrap().as_str(), Some(""));
        assert!(v.get_attr("is_set").unwrap().is_true());
    }

    #[test]
    fn oauth_templates_name_their_settings() {
        let mut m = Manifest {
            id: "x".into(),
            version: "1".into(),
            name: Text::new("x", "x"),
            description: Text::default(),
            auth: AuthSpec::OAuth2 {
                authorize_url: "{accounts_url|data_centre}/oauth/v2/auth".into(),
                token_url: "{accounts_url|data_centre}/oauth/v2/token".into(),
                scopes: vec![],
                extra_authorize_params: vec![],
            },
            settings: vec![
                field("data_centre", SettingKind::Text, true),
                field("accounts_url", SettingKind::Url, false),
                field("app", SettingKind::Text, true),
            ],
            credentials: vec![],
            credentials_one_of: Vec::new(),
            registration_number_pattern: None,
            limits: Default::default(),
            actions: vec![],
            sandbox: vec![],
        };
        let keys: Vec<&str> = oauth_url_settings(&m)
            .iter()
            .map(|f| f.key.as_str())
            .collect();
        assert_eq!(keys, vec!["data_centre", "accounts_url"]);
        m.auth = AuthSpec::ApiToken;
        assert!(oauth_url_settings(&m).is_empty());
        assert!(signin_settings(&m).is_empty());
        // A password connector whose user name is a setting (Domino): asked with the password.
        m.auth = AuthSpec::Password;
        m.settings.push(field("username", SettingKind::Text, true));
        let keys: Vec<&str> = signin_settings(&m).iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, vec!["username"]);
    }
}
