//! The hub's errors in the page's language, for a banner or next to a field: core hands out
//! coded messages (`hub_messages::Message`) and this renders them. The hub stays the one
//! validator; this only words its answers.

use connector_sdk::ConnectorError;
use hub_core::HubError;
use hub_messages::Message;
use std::collections::BTreeMap;

use super::i18n::{t, Lang};

/// Errors next to form fields, by field name.
pub type FieldErrors = BTreeMap<String, String>;

/// One of the hub's messages in the page's language, with the remote or library detail it
/// carries (if any) after it.
pub fn field_message(lang: Lang, message: &Message) -> String {
    message.render_full(lang)
}

/// A connector's own words: its Japanese message when it gave one and the page is Japanese.
pub fn connector_message(lang: Lang, e: &ConnectorError) -> String {
    match (&e.message_ja, lang) {
        (Some(ja), Lang::Ja) if !ja.is_empty() => ja.clone(),
        _ => e.message.clone(),
    }
}

/// Any hub error as a sentence for the error page or a banner.
pub fn hub_error(lang: Lang, e: &HubError) -> String {
    match e {
        HubError::Invalid { field, message }
        | HubError::Unprocessable { field, message }
        | HubError::Refused { field, message, .. } => {
            format!("{field}: {}", field_message(lang, message))
        }
        HubError::Conflict { message, .. } => field_message(lang, message),
        HubError::NotFound { .. } => t(lang, "err.not_found"),
        HubError::Connector(c) => connector_message(lang, c),
        HubError::Store(_) => t(lang, "err.internal"),
    }
}

/// Puts a hub validation error next to its field (by the hub's field name, mapped through
/// `rename` to the form's name), or in `_form` when it belongs to no field.
pub fn put(errors: &mut FieldErrors, lang: Lang, e: &HubError, rename: &dyn Fn(&str) -> String) {
    match e {
        HubError::Invalid { field, message }
        | HubError::Unprocessable { field, message }
        | HubError::Refused { field, message, .. } => {
            errors
                .entry(rename(field))
                .or_insert_with(|| field_message(lang, message));
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
    fn the_hub_s_messages_read_in_the_page_s_language() {
        let e = hub_core::validate::text("name", " ", 100).unwrap_err();
        assert_eq!(hub_error(Lang::Ja, &e), "name: 必須項目です");
        let e = hub_core::validate::text("name", &"株".repeat(101), 100).unwrap_err();
        assert_eq!(
            hub_error(Lang::Ja, &e),
            "name: 100文字以内で入力してください（現在 101 文字）"
        );
        let cron: hub_domain::Schedule =
            serde_json::from_value(serde_json::json!({"cron": "0 5 * *"})).unwrap();
        let e = hub_core::schedule::CompiledSchedule::parse(&cron).unwrap_err();
        let ja = hub_error(Lang::Ja, &e);
        assert!(ja.contains("5項目で指定してください"), "{ja}");
        assert!(!ja.contains("expected"), "{ja}");
        let en = hub_error(Lang::En, &e);
        assert!(en.contains("has 4 fields"), "{en}");
    }
}
