//! Field mapping: each target field from a source field, through an optional transform. The
//! fingerprint of the mapped fields decides whether anything changed since the last sync.
//! Lookups through another flow's links come resolved for the page (`lookup.rs`).

use connector_sdk::{Fields, Record};
use hub_domain::FieldMapping;
use serde_json::Value;

use super::lookup::Resolved;
use super::transforms::{parse, Transform};
use crate::error::HubResult;

pub struct Mapper {
    rules: Vec<(String, String, Transform)>,
}

impl Mapper {
    pub fn new(mapping: &[FieldMapping]) -> HubResult<Self> {
        let mut rules = Vec::new();
        for (i, m) in mapping.iter().enumerate() {
            rules.push((
                m.from.clone(),
                m.to.clone(),
                parse(&m.transform, &format!("mapping[{i}].transform"))?,
            ));
        }
        Ok(Mapper { rules })
    }

    /// The mapping the other way (target field → source field) for the rules that can be
    /// inverted: constants and the source id only flow forward.
    pub fn reverse(&self) -> Mapper {
        let rules = self
            .rules
            .iter()
            .filter(|(from, _, _)| from != "$id")
            .filter_map(|(from, to, t)| t.inverse().map(|inv| (to.clone(), from.clone(), inv)))
            .collect();
        Mapper { rules }
    }

    /// The source fields the mapping reads (not `$id`), for `ReadRequest::fields`.
    pub fn sources(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (from, _, t) in &self.rules {
            let own = (from != "$id" && t.reads_source()).then_some(from);
            for f in own.into_iter().chain(t.extra_sources()) {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    /// The target fields the mapping writes.
    pub fn targets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, to, _) in &self.rules {
            if !out.contains(to) {
                out.push(to.clone());
            }
        }
        out
    }

    /// Maps plain fields (no record around them).
    pub fn map_fields(&self, fields: &Fields) -> Fields {
        let mut out = Fields::new();
        for (from, to, t) in &self.rules {
            out.insert(
                to.clone(),
                t.apply(fields.get(from).cloned().unwrap_or(Value::Null), fields),
            );
        }
        out
    }

    /// A record of the target side seen through the mapping: only the mapped target fields.
    pub fn project(&self, fields: &Fields) -> Fields {
        let mut out = Fields::new();
        for (_, to, _) in &self.rules {
            out.insert(to.clone(), fields.get(to).cloned().unwrap_or(Value::Null));
        }
        out
    }

    /// The target fields for one source record. `$id` names the source record's id.
    pub fn map(&self, record: &Record) -> Fields {
        self.map_with(record, &Resolved::default())
    }

    /// [`Mapper::map`] with the page's lookups resolved.
    pub fn map_with(&self, record: &Record, resolved: &Resolved) -> Fields {
        let mut out = Fields::new();
        for (i, (from, to, t)) in self.rules.iter().enumerate() {
            let v = source_value(record, from);
            let v = match t {
                Transform::Lookup { .. } => resolved.value(i, &v),
                Transform::UserMap { .. } => resolved.user(i, &v, from, &record.fields),
                _ => t.apply(v, &record.fields),
            };
            out.insert(to.clone(), v);
        }
        out
    }

    /// The rules whose user is mapped through a connection's user mapping:
    /// `(rule index, source field, connection id)`.
    pub fn user_maps(&self) -> impl Iterator<Item = (usize, &str, &str)> {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, (from, _, t))| match t {
                Transform::UserMap { connection } => Some((i, from.as_str(), connection.as_str())),
                _ => None,
            })
    }

    /// The mapping the other way for registering a record on the source side from target
    /// values (`lookup.rs`): as [`Mapper::reverse`], and a `coalesce` goes back to its own field.
    pub fn reverse_for_registration(&self) -> Mapper {
        let rules = self
            .rules
            .iter()
            .filter(|(from, _, _)| from != "$id")
            .filter_map(|(from, to, t)| match t {
                Transform::Coalesce { .. } => Some((to.clone(), from.clone(), Transform::Copy)),
                _ => t.inverse().map(|inv| (to.clone(), from.clone(), inv)),
            })
            .collect();
        Mapper { rules }
    }

    /// The rules that look their value up through another flow's links:
    /// `(rule index, source field, flow id, reverse)`.
    pub fn lookups(&self) -> impl Iterator<Item = (usize, &str, &str, bool)> {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, (from, _, t))| match t {
                Transform::Lookup { flow, reverse } => {
                    Some((i, from.as_str(), flow.as_str(), *reverse))
                }
                _ => None,
            })
    }
}

/// A rule's source value: `$id` names the record's id.
pub fn source_value(record: &Record, from: &str) -> Value {
    if from == "$id" {
        Value::String(record.id.clone())
    } else {
        record.fields.get(from).cloned().unwrap_or(Value::Null)
    }
}

// Content comparison and fingerprints are the engine crate's, one definition for every path.
pub use hub_engine::content::{fingerprint, is_blank, same_content, same_value};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(fields: Value) -> Record {
        Record {
            id: "7".into(),
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
            fields: fields.as_object().cloned().unwrap(),
        }
    }

    #[test]
    fn maps_and_transforms() {
        let m = Mapper::new(
            &serde_json::from_value::<Vec<FieldMapping>>(json!([
                {"from": "会社名", "to": "Account_Name", "transform": "nfkc"},
                {"from": "メモ", "to": "Description", "transform": "trim"},
                {"from": "$id", "to": "kintone_id"},
                {"from": "x", "to": "Source", "transform": {"constant": "kintone"}}
            ]))
            .unwrap(),
        )
        .unwrap();
        let out = m.map(&rec(json!({"会社名": "ｻﾝﾌﾟﾙ㈱", "メモ": "  よろしく  "})));
        assert_eq!(out["Account_Name"], json!("サンプル(株)"));
        assert_eq!(out["Description"], json!("よろしく"));
        assert_eq!(out["kintone_id"], json!("7"));
        assert_eq!(out["Source"], json!("kintone"));
        assert_eq!(
            fingerprint(&out),
            fingerprint(&m.map(&rec(json!({"会社名": "サンプル(株)", "メモ": "よろしく"}))))
        );
    }

    #[test]
    fn blanks_are_one_content_whatever_the_spelling() {
        let written = json!({"Phone": "03-1111-2222", "Billing_Street": ""});
        let read_back = json!({"Phone": "03-1111-2222", "Billing_Street": null});
        let (w, r) = (
            written.as_object().unwrap().clone(),
            read_back.as_object().unwrap().clone(),
        );
        assert_eq!(fingerprint(&w), fingerprint(&r));
        assert!(same_content(&w, &r));
        let mut missing = r.clone();
        missing.remove("Billing_Street");
        assert!(same_content(&w, &missing));
        let mut edited = r.clone();
        edited.insert("Billing_Street".into(), json!("港区"));
        assert_ne!(fingerprint(&w), fingerprint(&edited));
        assert!(!same_content(&w, &edited));
        assert!(
            !same_value(Some(&json!(0)), None),
            "zero is a value, not a blank"
        );
    }

    #[test]
    fn unknown_transform_names_the_field() {
        let e = Mapper::new(&[FieldMapping {
            from: "a".into(),
            to: "b".into(),
            transform: Some(json!("rot13")),
        }])
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .starts_with("mapping[0].transform: Unknown transform 'rot13'"),
            "{e}"
        );
    }
}
