//! Input checks shared by the API and the UI. Each returns `HubError::Invalid` naming the field,
//! with a message that says what is expected; a flow's mapping against the objects' schemas
//! is [`schema`], its read filters against the objects' read options [`read_options`].

pub mod read_options;
pub mod schema;

use crate::egress::{self, EgressPolicy};
use crate::error::{HubError, HubResult};
use hub_messages::Message;
use regex::Regex;
use std::sync::OnceLock;

/// Characters that show nothing: NUL and other C0 controls but tab and newlines, zero-width
/// spaces and joiners, the word joiner and the byte-order mark. Text made only of these (and
/// spaces) is empty; elsewhere they are dropped (PostgreSQL refuses NUL in text, and an
/// invisible character makes two names that look alike differ).
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The text without invisible characters, trimmed.
pub fn visible(value: &str) -> String {
    let v: String = value.chars().filter(|c| !is_invisible(*c)).collect();
    v.trim().to_string()
}

/// Whether the text is empty once invisible characters and spaces are removed.
pub fn is_blank(value: &str) -> bool {
    value.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// 1..=max characters (not bytes), after dropping invisible characters and trimming.
pub fn text(field: &str, value: &str, max: usize) -> HubResult<String> {
    let v = visible(value);
    let v = v.as_str();
    if v.is_empty() {
        return Err(HubError::invalid(field, Message::new("err.required")));
    }
    let n = v.chars().count();
    if n > max {
        return Err(HubError::invalid(
            field,
            Message::new("err.max_len").with("max", max).with("got", n),
        ));
    }
    Ok(v.to_string())
}

pub fn email(field: &str, value: &str) -> HubResult<String> {
    let v = text(field, value, 254)?;
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
            .unwrap_or_else(|_| unreachable!("constant pattern"))
    });
    if !re.is_match(&v) {
        return Err(HubError::invalid(field, Message::new("err.email")));
    }
    Ok(v)
}

/// Japanese phone numbers: 10 or 11 digits starting with 0, or +81; hyphens, spaces and
/// parentheses allowed; full-width digits accepted and stored half-width.
pub fn phone(field: &str, value: &str) -> HubResult<String> {
    let v = text(field, &to_half_width(value), 20)?;
    let digits: String = v
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '(' | ')'))
        .collect();
    let ok = if let Some(rest) = digits.strip_prefix("+81") {
        (9..=10).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_digit())
    } else {
        digits.starts_with('0')
            && (10..=11).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
    };
    if !ok {
        return Err(HubError::invalid(field, Message::new("err.phone")));
    }
    Ok(v)
}

/// The connector registration number (登録番号): the connector's own pattern when it declares
/// one, else 4–32 letters, digits and hyphens.
pub fn registration_number(field: &str, value: &str, pattern: Option<&str>) -> HubResult<String> {
    let v = text(field, &to_half_width(value), 32)?;
    let default = r"^[0-9A-Za-z][0-9A-Za-z-]{3,31}$";
    let re = Regex::new(pattern.unwrap_or(default))
        .map_err(|_| HubError::invalid(field, Message::new("err.bad_pattern")))?;
    if !re.is_match(&v) {
        return Err(HubError::invalid(
            field,
            Message::new("err.registration_number"),
        ));
    }
    Ok(v)
}

/// An outgoing URL (a notification webhook): http(s) with a host, and not a link-local or
/// cloud-metadata address literal unless the policy allows them.
pub fn http_url(field: &str, value: &str, policy: EgressPolicy) -> HubResult<()> {
    let ok = url::Url::parse(value.trim())
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .unwrap_or(false);
    if !ok {
        return Err(HubError::invalid(field, Message::new("err.url")));
    }
    egress::check_literal(policy, field, value)
}

fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            '－' | 'ー' | '‐' | '―' => '-',
            '＋' => '+',
            '（' => '(',
            '）' => ')',
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_only_invisible_characters_is_empty() {
        for blank in ["\u{200B}", "\u{FEFF} ", "\0\0", " \u{200D}\u{2060}\t"] {
            let e = text("company", blank, 100).unwrap_err();
            assert_eq!(
                e.message(),
                Some(&Message::new("err.required")),
                "{blank:?}"
            );
            assert!(is_blank(blank));
        }
        assert_eq!(
            text("company", "\u{FEFF}株式会社\0テスト\u{200B}", 100).unwrap(),
            "株式会社テスト"
        );
        assert!(!is_blank("a\u{200B}"));
    }

    #[test]
    fn lengths_count_characters() {
        assert!(text("company", &"株".repeat(100), 100).is_ok());
        let e = text("company", &"株".repeat(101), 100).unwrap_err();
        assert_eq!(
            e.to_string(),
            "company: Enter at most 100 characters (now 101)"
        );
        assert_eq!(
            text("name", "  ", 100).unwrap_err().to_string(),
            "name: This field is required"
        );
    }

    #[test]
    fn emails() {
        assert!(email("email", "taro.yamada@example.co.jp").is_ok());
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "ta ro@example.jp",
        ] {
            assert!(email("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            phone("phone", "０３－１２３４－５６７８").unwrap(),
            "03-1234-5678"
        );
        assert!(phone("phone", "090-1234-5678").is_ok());
        assert!(phone("phone", "+81 3 1234 5678").is_ok());
        assert!(phone("phone", "12345").is_err());
        assert!(phone("phone", "03-1234-567a").is_err());
    }

    #[test]
    fn webhook_urls() {
        let p = EgressPolicy::default();
        assert!(http_url(
            "notify.webhook.url",
            "https://hooks.slack.com/services/x",
            p
        )
        .is_ok());
        for bad in [
            "not a url at all",
            "ftp://example.com/",
            "http://169.254.169.254/",
        ] {
            let e = http_url("notify.webhook.url", bad, p).unwrap_err();
            assert!(e.to_string().starts_with("notify.webhook.url: "), "{e}");
        }
    }

    #[test]
    fn registration_numbers() {
        assert!(registration_number("registration_number", "1234-5678-9012", None).is_ok());
        assert!(registration_number("registration_number", "<script>", None).is_err());
        assert!(registration_number("registration_number", "AB12", Some(r"^\d+$")).is_err());
    }
}
