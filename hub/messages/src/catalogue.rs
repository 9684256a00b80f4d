//! Loading and looking up the embedded catalogue.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

const JA: &str = include_str!("catalogue/ja.toml");
const EN: &str = include_str!("catalogue/en.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }
}

type Catalogue = HashMap<String, String>;

fn flatten(prefix: &str, table: &toml::Table, out: &mut Catalogue) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            other => {
                out.insert(key, other.to_string());
            }
        }
    }
}

/// Parses a catalogue file; a broken file is a build mistake caught by the tests, so at run
/// time it degrades to showing keys rather than failing every page.
fn parse(text: &str) -> Catalogue {
    let mut out = Catalogue::new();
    match text.parse::<toml::Table>() {
        Ok(t) => flatten("", &t, &mut out),
        Err(e) => tracing::error!(error = %e, "the catalogue does not parse"),
    }
    out
}

fn catalogue(lang: Lang) -> &'static Catalogue {
    static JA_C: OnceLock<Catalogue> = OnceLock::new();
    static EN_C: OnceLock<Catalogue> = OnceLock::new();
    match lang {
        Lang::Ja => JA_C.get_or_init(|| parse(JA)),
        Lang::En => EN_C.get_or_init(|| parse(EN)),
    }
}

/// The text for `key`; the key itself if missing (the completeness tests keep that from
/// happening in a release).
pub fn t(lang: Lang, key: &str) -> String {
    match catalogue(lang).get(key) {
        Some(s) => s.clone(),
        None => {
            tracing::warn!(key, lang = lang.as_str(), "missing catalogue text");
            key.to_string()
        }
    }
}

/// `t` with `{name}` placeholders filled.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(lang, key);
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

pub fn has(lang: Lang, key: &str) -> bool {
    catalogue(lang).contains_key(key)
}

/// Every key of a language, for completeness tests.
pub fn keys(lang: Lang) -> BTreeSet<String> {
    catalogue(lang).keys().cloned().collect()
}

/// The catalogue's sections (`home`, `err`, …): a quoted `"section.key"` in a source names a key.
pub fn sections() -> BTreeSet<String> {
    JA.parse::<toml::Table>()
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_no_empty_text() {
        let ja = parse(JA);
        let en = parse(EN);
        assert!(ja.len() > 100, "the Japanese catalogue did not parse");
        let ja_keys: BTreeSet<_> = ja.keys().collect();
        let en_keys: BTreeSet<_> = en.keys().collect();
        let only_ja: Vec<_> = ja_keys.difference(&en_keys).collect();
        let only_en: Vec<_> = en_keys.difference(&ja_keys).collect();
        assert!(only_ja.is_empty(), "missing in en.toml: {only_ja:?}");
        assert!(only_en.is_empty(), "missing in ja.toml: {only_en:?}");
        for (k, v) in ja.iter().chain(en.iter()) {
            assert!(!v.trim().is_empty(), "empty text for {k}");
        }
        // The same placeholders on both sides.
        for (k, v) in &ja {
            let holes = |s: &str| {
                s.split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_string()))
                    .collect::<BTreeSet<_>>()
            };
            assert_eq!(holes(v), holes(&en[k]), "placeholders differ for {k}");
        }
    }

    #[test]
    fn japanese_is_the_default_and_placeholders_fill() {
        assert_eq!(Lang::default(), Lang::Ja);
        assert_eq!(t(Lang::Ja, "nav.home"), "連携サービス");
        assert_eq!(t(Lang::En, "nav.home"), "Services");
        assert_eq!(
            tf(Lang::Ja, "err.max_len", &[("max", "100"), ("got", "101")]),
            "100文字以内で入力してください（現在 101 文字）"
        );
    }
}
