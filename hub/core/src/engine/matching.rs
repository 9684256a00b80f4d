//! Matching records across systems by business keys written in many forms: 株式会社 / (株) / ㈱,
//! full- and half-width characters, spaces, phone number punctuation. A key may combine several
//! fields (the seed's people rule: name + company, a blank one replaced by the other before
//! normalisation; `options.blank_key_parts`).

use connector_sdk::{Fields, Record};
use hub_domain::{BlankKeyParts, MatchKeySpec, Normalize};
use serde_json::Value;
use std::collections::HashMap;
use unicode_normalization::UnicodeNormalization;

/// Legal-form words that do not distinguish one company from another (after NFKC, which turns
/// ㈱ into (株) and half-width katakana into full-width).
const COMPANY_FORMS: &[&str] = &[
    "株式会社",
    "(株)",
    "カブシキガイシャ",
    "カブシキカイシャ",
    "有限会社",
    "(有)",
    "ユウゲンガイシャ",
    "合同会社",
    "(同)",
    "合資会社",
    "(資)",
    "合名会社",
    "(名)",
];

pub fn normalize(kind: Normalize, raw: &str) -> String {
    match kind {
        Normalize::None => raw.trim().to_string(),
        Normalize::Nfkc => squash(&raw.nfkc().collect::<String>()),
        Normalize::CompanyName => {
            let mut s: String = raw.nfkc().collect();
            for form in COMPANY_FORMS {
                s = s.replace(form, "");
            }
            squash(&s)
        }
        Normalize::Phone => {
            let digits: String = raw
                .nfkc()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            match digits.strip_prefix("+81") {
                Some(rest) => format!("0{}", rest.trim_start_matches('0')),
                None => digits.replace('+', ""),
            }
        }
    }
}

/// Lower case, without any white space (full-width spaces included after NFKC) or middle dots.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '・')
        .flat_map(char::to_lowercase)
        .collect()
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| text_of(Some(x)))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(o)) => o
            .get("name")
            .or_else(|| o.get("value"))
            .map(|x| text_of(Some(x)))
            .unwrap_or_default(),
        Some(other) => other.to_string(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

/// Builds the composite key of a record on one side; `None` when the record cannot be matched:
/// every part blank, or (with `BlankKeyParts::Skip`) any part blank. With `UseOther` a blank
/// part takes the first non-blank part's value *as written*, and then each part is normalised by
/// its own key's normalizer, so that a customer registered under its company name in both fields
/// (company, company) has the key of a source record whose name is blank.
pub fn key_of(
    keys: &[MatchKeySpec],
    blank: BlankKeyParts,
    side: Side,
    fields: &Fields,
) -> Option<String> {
    let raw: Vec<String> = keys
        .iter()
        .map(|k| {
            let field = match side {
                Side::Source => &k.source,
                Side::Target => &k.target,
            };
            text_of(fields.get(field))
        })
        .collect();
    let is_blank = |v: &String| v.trim().is_empty();
    let first = raw.iter().find(|v| !is_blank(v))?.clone();
    if blank == BlankKeyParts::Skip && raw.iter().any(is_blank) {
        return None;
    }
    let parts: Vec<String> = keys
        .iter()
        .zip(raw)
        .map(|(k, v)| normalize(k.normalize, if is_blank(&v) { &first } else { &v }))
        .collect();
    // A value made only of what a normalizer drops (a lone 株式会社) is no key.
    if parts.iter().all(String::is_empty) {
        return None;
    }
    Some(parts.join("\u{1f}"))
}

/// The target's records by key, built from one full read, updated as the run creates records.
#[derive(Debug, Default)]
pub struct TargetIndex {
    by_key: HashMap<String, Vec<String>>,
    /// The mapped fields of each record as read (JSON), kept when the run records
    /// before-images for undo: what a record matched by key held before the run wrote it.
    images: HashMap<String, String>,
}

pub enum Match {
    None,
    One(String),
    Ambiguous(Vec<String>),
}

impl TargetIndex {
    pub fn add(&mut self, key: String, id: String) {
        let ids = self.by_key.entry(key).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }

    /// Indexes a record of `side` (the target side for one-way flows).
    pub fn add_record(
        &mut self,
        keys: &[MatchKeySpec],
        blank: BlankKeyParts,
        side: Side,
        r: &Record,
    ) {
        if r.deleted {
            return;
        }
        if let Some(k) = key_of(keys, blank, side, &r.fields) {
            self.add(k, r.id.clone());
        }
    }

    pub fn add_image(&mut self, id: &str, fields: &Fields) {
        if let Ok(json) = serde_json::to_string(fields) {
            self.images.insert(id.to_string(), json);
        }
    }

    /// A record's mapped fields as read while indexing (JSON), if they were kept.
    pub fn image(&self, id: &str) -> Option<String> {
        self.images.get(id).cloned()
    }

    pub fn find(&self, key: &str) -> Match {
        match self.by_key.get(key).map(Vec::as_slice) {
            None | Some([]) => Match::None,
            Some([one]) => Match::One(one.clone()),
            Some(many) => Match::Ambiguous(many.to_vec()),
        }
    }
}

/// Whether the connector can match by itself: one key compared exactly.
pub fn native_match(keys: &[MatchKeySpec]) -> bool {
    keys.len() == 1 && keys[0].normalize == Normalize::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn company_forms_are_one_company() {
        let n = |s| normalize(Normalize::CompanyName, s);
        let want = n("株式会社サンプル");
        for form in [
            "(株)サンプル",
            "㈱サンプル",
            "サンプル株式会社",
            "ｻﾝﾌﾟﾙ ｶﾌﾞｼｷｶﾞｲｼｬ",
            "（株）　サンプル",
            "カブシキガイシャ サンプル",
        ] {
            assert_eq!(n(form), want, "{form}");
        }
        assert_ne!(n("株式会社サンプル商事"), want);
        assert_eq!(normalize(Normalize::Nfkc, "ＡＢＣ　商事"), "abc商事");
    }

    #[test]
    fn phones_compare_by_digits() {
        let n = |s| normalize(Normalize::Phone, s);
        assert_eq!(n("03-1234-5678"), "0312345678");
        assert_eq!(n("(03) 1234 5678"), "0312345678");
        assert_eq!(n("＋８１ ３ １２３４ ５６７８"), "0312345678");
    }

    #[test]
    fn people_rule_fills_blank_components() {
        let keys: Vec<MatchKeySpec> = serde_json::from_value(json!([
            {"source": "name", "target": "Last_Name", "normalize": "nfkc"},
            {"source": "company", "target": "Account", "normalize": "company_name"}
        ]))
        .unwrap();
        let f = |v: Value| v.as_object().cloned().unwrap();
        let key_of = |keys: &[MatchKeySpec], side, fields: &Fields| {
            key_of(keys, BlankKeyParts::UseOther, side, fields)
        };
        let with_company = key_of(
            &keys,
            Side::Source,
            &f(json!({"name": "山田 太郎", "company": "㈱サンプル"})),
        )
        .unwrap();
        let target = key_of(
            &keys,
            Side::Target,
            &f(json!({"Last_Name": "山田太郎", "Account": "株式会社サンプル"})),
        )
        .unwrap();
        assert_eq!(with_company, target);
        let no_company = key_of(
            &keys,
            Side::Source,
            &f(json!({"name": "山田", "company": ""})),
        )
        .unwrap();
        assert_eq!(no_company, format!("山田\u{1f}山田"));
        let no_name = key_of(
            &keys,
            Side::Source,
            &f(json!({"name": null, "company": "サンプル"})),
        )
        .unwrap();
        assert_eq!(no_name, format!("サンプル\u{1f}サンプル"));
        assert!(key_of(&keys, Side::Source, &f(json!({}))).is_none());
    }

    fn people_keys() -> Vec<MatchKeySpec> {
        serde_json::from_value(json!([
            {"source": "担当者名", "target": "Last_Name", "normalize": "nfkc"},
            {"source": "会社名", "target": "Company", "normalize": "company_name"}
        ]))
        .unwrap()
    }

    fn fields(v: Value) -> Fields {
        v.as_object().cloned().unwrap()
    }

    /// Seed 004: a customer with no person is registered under its company name in both
    /// fields; the next run must find it, not plan a duplicate. The blank part takes the
    /// company's value before normalisation, so the name part is normalised as the target's.
    #[test]
    fn a_blank_part_takes_the_other_value_before_normalisation() {
        let keys = people_keys();
        let use_other = BlankKeyParts::UseOther;
        let registered = key_of(
            &keys,
            use_other,
            Side::Target,
            &fields(json!({"Last_Name": "株式会社ＸＹＺ", "Company": "株式会社XYZ"})),
        )
        .unwrap();
        for company in ["株式会社XYZ", "株式会社 ＸＹＺ"] {
            let no_person = key_of(
                &keys,
                use_other,
                Side::Source,
                &fields(json!({"担当者名": "  ", "会社名": company})),
            );
            assert_eq!(no_person.as_deref(), Some(registered.as_str()), "{company}");
        }
        // Blank company: the person's name for both, on either side.
        let no_company = key_of(
            &keys,
            use_other,
            Side::Source,
            &fields(json!({"担当者名": "鈴木 一郎", "会社名": null})),
        );
        let registered = key_of(
            &keys,
            use_other,
            Side::Target,
            &fields(json!({"Last_Name": "鈴木一郎", "Company": "鈴木 一郎"})),
        );
        assert!(no_company.is_some());
        assert_eq!(no_company, registered);
    }

    #[test]
    fn skip_leaves_records_with_a_blank_part_unmatched() {
        let keys = people_keys();
        let skip = BlankKeyParts::Skip;
        let both = fields(json!({"担当者名": "山田 花子", "会社名": "㈱ABC"}));
        assert_eq!(
            key_of(&keys, skip, Side::Source, &both),
            key_of(&keys, BlankKeyParts::UseOther, Side::Source, &both)
        );
        assert!(key_of(&keys, skip, Side::Source, &both).is_some());
        for blank in [
            json!({"担当者名": "", "会社名": "㈱ABC"}),
            json!({"担当者名": "山田 花子"}),
        ] {
            assert!(key_of(&keys, skip, Side::Source, &fields(blank)).is_none());
        }
    }

    #[test]
    fn a_record_with_every_part_blank_has_no_key() {
        let keys = people_keys();
        for rule in [BlankKeyParts::UseOther, BlankKeyParts::Skip] {
            for blank in [
                json!({}),
                json!({"担当者名": "", "会社名": null}),
                json!({"担当者名": " ", "会社名": "　"}),
            ] {
                assert!(key_of(&keys, rule, Side::Source, &fields(blank)).is_none());
            }
        }
    }

    #[test]
    fn ambiguity_is_reported() {
        let mut idx = TargetIndex::default();
        idx.add("k".into(), "1".into());
        assert!(matches!(idx.find("k"), Match::One(id) if id == "1"));
        idx.add("k".into(), "2".into());
        assert!(matches!(idx.find("k"), Match::Ambiguous(ids) if ids == vec!["1", "2"]));
        assert!(matches!(idx.find("x"), Match::None));
    }
}
