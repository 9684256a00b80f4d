//! A message as core hands it out: a catalogue key and named parameters, rendered late.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::catalogue::{t, tf, Lang};

/// What starts a stored message (no plain text a user wrote starts so).
const STORED: &str = "\u{1}msg:";

/// What to tell a user, without choosing the language: `key` names the catalogue text
/// (`err.max_len`), `args` fill its `{placeholders}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub key: Cow<'static, str>,
    pub args: Vec<(Cow<'static, str>, Arg)>,
}

/// A parameter's value: the same in every language (a field id, a number, a remote system's
/// text), a label that has one per language (a connector's object name), or a catalogue text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    Plain(String),
    ByLang { ja: String, en: String },
    Text(Cow<'static, str>),
}

impl Arg {
    pub fn get(&self, lang: Lang) -> Cow<'_, str> {
        match (self, lang) {
            (Arg::Plain(s), _) => Cow::Borrowed(s),
            (Arg::ByLang { ja, .. }, Lang::Ja) => Cow::Borrowed(ja),
            (Arg::ByLang { en, .. }, Lang::En) => Cow::Borrowed(en),
            (Arg::Text(key), _) => Cow::Owned(t(lang, key)),
        }
    }
}

impl Message {
    pub fn new(key: &'static str) -> Message {
        Message {
            key: Cow::Borrowed(key),
            args: vec![],
        }
    }

    /// Adds the value of `{name}`.
    pub fn with(mut self, name: &'static str, value: impl ToString) -> Message {
        self.args
            .push((Cow::Borrowed(name), Arg::Plain(value.to_string())));
        self
    }

    /// Adds `{name}` with a text per language.
    pub fn with_local(
        mut self,
        name: &'static str,
        ja: impl Into<String>,
        en: impl Into<String>,
    ) -> Message {
        self.args.push((
            Cow::Borrowed(name),
            Arg::ByLang {
                ja: ja.into(),
                en: en.into(),
            },
        ));
        self
    }

    /// Adds `{name}` as the catalogue's text for `key`.
    pub fn with_text(mut self, name: &'static str, key: &'static str) -> Message {
        self.args
            .push((Cow::Borrowed(name), Arg::Text(Cow::Borrowed(key))));
        self
    }

    /// The value given for `{name}` (in English for a label), if any.
    pub fn arg(&self, name: &str) -> Option<Cow<'_, str>> {
        self.arg_in(name, Lang::En)
    }

    /// A remote system's or a library's own words, given as `detail` where the catalogue text
    /// has no place for them: shown apart from ours (a page's 詳細), in their own language.
    pub fn detail(&self, lang: Lang) -> Option<Cow<'_, str>> {
        if t(lang, &self.key).contains("{detail}") {
            return None;
        }
        self.arg_in("detail", lang)
    }

    fn arg_in(&self, name: &str, lang: Lang) -> Option<Cow<'_, str>> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.get(lang))
    }

    /// The text with its detail, if any, after it in parentheses: for the API, logs and mail.
    pub fn render_full(&self, lang: Lang) -> String {
        match self.detail(lang) {
            Some(d) => format!("{} ({d})", self.render(lang)),
            None => self.render(lang),
        }
    }

    pub fn render(&self, lang: Lang) -> String {
        let values: Vec<(&str, Cow<'_, str>)> = self
            .args
            .iter()
            .map(|(n, v)| (n.as_ref(), v.get(lang)))
            .collect();
        let args: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_ref())).collect();
        tf(lang, &self.key, &args)
    }

    /// Both languages, Japanese first: for the API and the CLI, which have no page language.
    pub fn render_both(&self) -> String {
        let (ja, en) = (self.render_full(Lang::Ja), self.render_full(Lang::En));
        if ja == en {
            ja
        } else {
            format!("{ja} / {en}")
        }
    }

    /// The message as kept in a text column (a run's message): JSON behind a marker, so that
    /// what was stored before messages had codes still reads as the plain text it is.
    pub fn to_stored(&self) -> String {
        format!(
            "{STORED}{}",
            serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
        )
    }

    /// A stored message, or `None` for plain text.
    pub fn from_stored(text: &str) -> Option<Message> {
        serde_json::from_str(text.strip_prefix(STORED)?).ok()
    }

    /// Stored text in `lang`: a stored message rendered, plain text as it is.
    pub fn stored_in(text: &str, lang: Lang) -> String {
        match Message::from_stored(text) {
            Some(m) => m.render_full(lang),
            None => text.to_string(),
        }
    }

    /// Two stored texts (messages or plain) as one stored message, one per line.
    pub fn join_stored(first: &str, second: &str) -> String {
        Message::new("run.two_lines")
            .with_local(
                "first",
                Message::stored_in(first, Lang::Ja),
                Message::stored_in(first, Lang::En),
            )
            .with_local(
                "second",
                Message::stored_in(second, Lang::Ja),
                Message::stored_in(second, Lang::En),
            )
            .to_stored()
    }

    /// Stored text in both languages (see [`Message::render_both`]).
    pub fn stored_both(text: &str) -> String {
        match Message::from_stored(text) {
            Some(m) => m.render_both(),
            None => text.to_string(),
        }
    }
}

/// English with its detail, for logs, the CLI and the API's `message`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_full(Lang::En))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_renders_in_either_language_with_its_arguments() {
        let m = Message::new("err.max_len")
            .with("max", 100)
            .with("got", 101);
        assert_eq!(
            m.render(Lang::Ja),
            "100文字以内で入力してください（現在 101 文字）"
        );
        assert_eq!(m.to_string(), "Enter at most 100 characters (now 101)");
        assert_eq!(m.arg("got").as_deref(), Some("101"));
    }

    #[test]
    fn a_detail_the_text_does_not_place_is_shown_apart() {
        let m = Message::new("err.cron_value")
            .with("expr", "0 99 * * *")
            .with("detail", "Invalid hour");
        assert_eq!(m.detail(Lang::Ja).as_deref(), Some("Invalid hour"));
        assert!(!m.render(Lang::Ja).contains("Invalid hour"));
        assert!(m.to_string().ends_with("(Invalid hour)"), "{m}");
        let placed = Message::new("err.conflict").with("detail", "x");
        assert_eq!(placed.detail(Lang::En), None);
    }

    #[test]
    fn a_stored_message_comes_back_in_either_language_and_plain_text_stays() {
        let m = Message::new("err.max_len").with("max", 5).with("got", 6);
        let kept = m.to_stored();
        assert_eq!(Message::from_stored(&kept), Some(m.clone()));
        assert_eq!(Message::stored_in(&kept, Lang::Ja), m.render(Lang::Ja));
        assert_eq!(
            Message::stored_both(&kept),
            format!("{} / {}", m.render(Lang::Ja), m.render(Lang::En))
        );
        assert_eq!(Message::stored_in("caught up", Lang::Ja), "caught up");
    }

    #[test]
    fn a_label_takes_the_language_of_the_page() {
        let m = Message::new("err.conflict").with_local("detail", "取引先", "Customers");
        assert_eq!(m.render(Lang::Ja), "今は実行できません: 取引先");
        assert!(m.render(Lang::En).ends_with("Customers"));
    }
}
