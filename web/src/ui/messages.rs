//! The hub's validation messages (English, written for the API) in the user's language, for
//! showing next to a field. The hub stays the one validator; this only words its answers.

use connector_sdk::ConnectorError;
use hub_core::HubError;
use std::collections::BTreeMap;

use super::i18n::{t, tf, Lang};

/// Errors next to form fields, by field name.
pub type FieldErrors = BTreeMap<String, String>;

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(start)?;
    Some(rest.split(end).next().unwrap_or(rest))
}

/// One field message from `hub_core::validate` and friends, localized.
pub fn field_message(lang: Lang, message: &str) -> String {
    let m = message.trim();
    if m == "is required" {
        return t(lang, "err.required");
    }
    if let Some(max) = between(m, "must be at most ", " characters") {
        let got = m
            .split_once("(got ")
            .and_then(|(_, r)| r.split(')').next())
            .unwrap_or("?");
        return tf(lang, "err.max_len", &[("max", max), ("got", got)]);
    }
    if let Some(min) = between(m, "must be at least ", " characters") {
        return tf(lang, "err.min_len", &[("min", min)]);
    }
    let simple = [
        ("is not a valid email address", "err.email"),
        ("must be a phone number", "err.phone"),
        (
            "is not a valid registration number",
            "err.registration_number",
        ),
        ("must be an http(s) URL", "err.url"),
        ("must be a number", "err.number"),
        ("must be true or false", "err.bool"),
        ("does not have the expected form", "err.pattern"),
        ("unknown setting", "err.unknown_setting"),
        ("may contain only letters", "err.username_chars"),
        ("is required to sign in", "err.required_for_signin"),
        ("unknown time zone", "err.timezone"),
        ("is too long", "err.too_long"),
    ];
    for (prefix, key) in simple {
        if m.starts_with(prefix) {
            return t(lang, key);
        }
    }
    if let Some(list) = m.strip_prefix("must be one of: ") {
        return tf(lang, "err.one_of", &[("list", list)]);
    }
    if let Some(settings) = between(m, "must be entered again with the change of ", ":") {
        return tf(lang, "err.reenter_secret", &[("settings", settings)]);
    }
    if m.starts_with(hub_core::egress::REFUSED) {
        return t(lang, "err.link_local");
    }
    if m.starts_with("invalid cron expression") {
        let why = m.rsplit_once("': ").map(|(_, w)| w).unwrap_or("");
        return tf(lang, "err.cron", &[("detail", why)]);
    }
    m.to_string()
}

/// A connector's own words: its Japanese message when it gave one and the page is Japanese.
pub fn connector_message(lang: Lang, e: &ConnectorError) -> String {
    match (&e.message_ja, lang) {
        (Some(ja), Lang::Ja) if !ja.is_empty() => ja.clone(),
        _ => e.message.clone(),
    }
}

/// A refusal's own words in the page's language.
fn refused_message(lang: Lang, e: &HubError) -> String {
    match (e, lang) {
        (HubError::Refused { message_ja, .. }, Lang::Ja) => message_ja.clone(),
        (HubError::Refused { message, .. }, _) => message.clone(),
        (other, _) => other.to_string(),
    }
}

/// Any hub error as a sentence for the error page or a banner.
pub fn hub_error(lang: Lang, e: &HubError) -> String {
    match e {
        HubError::Invalid { field, message } | HubError::Unprocessable { field, message } => {
            format!("{field}: {}", field_message(lang, message))
        }
        HubError::Refused { field, .. } => format!("{field}: {}", refused_message(lang, e)),
        HubError::NotFound { .. } => t(lang, "err.not_found"),
        HubError::Conflict { code, message } => match *code {
            "already_running" => t(lang, "err.already_running"),
            "setup_done" => t(lang, "err.setup_done"),
            "in_use" => t(lang, "conn.in_use"),
            _ => message.clone(),
        },
        HubError::Connector(c) => connector_message(lang, c),
        HubError::Store(_) => t(lang, "err.internal"),
    }
}

/// Puts a hub validation error next to its field (by the hub's field name, mapped through
/// `rename` to the form's name), or in `_form` when it belongs to no field.
pub fn put(errors: &mut FieldErrors, lang: Lang, e: &HubError, rename: &dyn Fn(&str) -> String) {
    match e {
        HubError::Invalid { field, message } | HubError::Unprocessable { field, message } => {
            errors
                .entry(rename(field))
                .or_insert_with(|| field_message(lang, message));
        }
        HubError::Refused { field, .. } => {
            errors
                .entry(rename(field))
                .or_insert_with(|| refused_message(lang, e));
        }
        other => {
            errors
                .entry("_form".into())
                .or_insert_with(|| hub_error(lang, other));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages_read_in_japanese() {
        assert_eq!(field_message(Lang::Ja, "is required"), "必須項目です");
        assert_eq!(
            field_message(Lang::Ja, "must be at most 100 characters (got 101)"),
            "100文字以内で入力してください（現在 101 文字）"
        );
        assert_eq!(
            field_message(
                Lang::Ja,
                "is not a valid email address (example: taro@example.co.jp)"
            ),
            t(Lang::Ja, "err.email")
        );
        assert_eq!(
            field_message(Lang::En, "must be a phone number such as 03-1234-5678"),
            t(Lang::En, "err.phone")
        );
        // Unknown wording passes through rather than being lost.
        assert_eq!(field_message(Lang::Ja, "something new"), "something new");
    }
}
