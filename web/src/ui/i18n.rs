//! The catalogue of visible words lives in `hub-messages` (shared with core's messages and the
//! notifications); templates call `t("key")`, Rust code `t(lang, key)`.

pub use hub_messages::{has, t, tf, Lang};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every file whose text may name a catalogue key.
    pub(crate) fn sources() -> Vec<(&'static str, &'static str)> {
        let mut v: Vec<(&str, &str)> = crate::ui::render::TEMPLATES.to_vec();
        v.extend(crate::ui::SOURCES.iter().copied());
        v
    }

    /// Every quoted `"section.key"` whose section is a catalogue section: keys named in
    /// templates (`t("home.title")`), in calls, and in tables of words alike.
    fn used_keys(text: &str, sections: &BTreeSet<String>) -> BTreeSet<String> {
        let re = regex::Regex::new(r#"["']([a-z_]+)\.([a-z0-9_]+)["']"#).unwrap();
        re.captures_iter(text)
            .filter(|c| sections.contains(&c[1]))
            // File names (`home.html`, `auth.rs`) are not keys.
            .filter(|c| !matches!(&c[2], "html" | "rs" | "css" | "js" | "toml"))
            .map(|c| format!("{}.{}", &c[1], &c[2]))
            .collect()
    }

    #[test]
    fn every_key_the_pages_use_exists_in_both_languages() {
        let sections = hub_messages::sections();
        let mut missing = vec![];
        let mut count = 0;
        for (name, text) in sources() {
            for k in used_keys(text, &sections) {
                count += 1;
                for lang in Lang::ALL {
                    if !has(lang, &k) {
                        missing.push(format!("{name}: {k} ({})", lang.as_str()));
                    }
                }
            }
        }
        assert!(count > 100, "the key scan found only {count} uses");
        assert!(missing.is_empty(), "keys missing: {missing:#?}");
    }
}
