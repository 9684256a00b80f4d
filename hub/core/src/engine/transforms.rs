//! Value transforms a business user can put on a mapping: copy, trim, nfkc, upper, lower,
//! constant, split a name into 姓/名, concatenate fields, the first non-blank of several fields
//! (`coalesce`: register a customer without a person under its company name), reformat a date,
//! a value table
//! (都道府県, status codes), and an id looked up through another flow's links (`lookup.rs`).
//! Declared in the flow JSON as a name or an object; an unknown one is refused (422) when the
//! flow is saved, and so is one that does not fit the fields' types ([`Transform::accepts`]).

use connector_sdk::{FieldType, Fields};
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization;

use crate::error::{HubError, HubResult};
use hub_messages::Message;

pub const TRANSFORMS: &[&str] = &[
    "copy",
    "trim",
    "nfkc",
    "upper",
    "lower",
    "{\"constant\": v}",
    "{\"split_name\": \"last\"|\"first\"}",
    "{\"concat\": [fields], \"separator\": s}",
    "{\"coalesce\": [fields]}",
    "{\"date_format\": \"%Y/%m/%d\"}",
    "{\"map\": {from: to}, \"default\": v}",
    "{\"lookup\": FLOW_ID}",
    "{\"lookup_reverse\": FLOW_ID}",
    "{\"user_map\": CONNECTION_ID}",
];

#[derive(Debug, Clone)]
pub enum Transform {
    Copy,
    Trim,
    Nfkc,
    Upper,
    Lower,
    Constant(Value),
    /// 姓 (`last`) or 名 (`first`) of a name written "山田 太郎" (half- or full-width space).
    SplitName {
        first: bool,
    },
    Concat {
        fields: Vec<String>,
        separator: String,
    },
    /// The first of `fields` whose value is not blank (`""`, null, `[]`, spaces), as it is;
    /// null when all are blank.
    Coalesce {
        fields: Vec<String>,
    },
    DateFormat(String),
    Table {
        map: Map<String, Value>,
        default: Option<Value>,
    },
    /// The record id this value has on the other side of another flow's links: `lookup`
    /// takes that flow's source id to its target id, `lookup_reverse` the target id back.
    /// Resolved a page at a time by the engine (`lookup.rs`), not by [`Transform::apply`].
    Lookup {
        flow: String,
        reverse: bool,
    },
    /// The user of the other system this connection's user stands for (the connection's user
    /// mapping, ユーザー連携): a Zoho owner → `["kintone login"]` for a USER_SELECT field.
    /// Resolved by the engine (`lookup.rs`); an unmapped user fails its record.
    UserMap {
        connection: String,
    },
}

fn unknown(field: &str, what: &str) -> HubError {
    HubError::unprocessable(
        field,
        Message::new("transform.unknown")
            .with("what", what)
            .with("known", TRANSFORMS.join(", ")),
    )
}

pub fn parse(t: &Option<Value>, field: &str) -> HubResult<Transform> {
    Ok(match t {
        None | Some(Value::Null) => Transform::Copy,
        Some(Value::String(s)) => match s.as_str() {
            "" | "copy" => Transform::Copy,
            "trim" => Transform::Trim,
            "nfkc" => Transform::Nfkc,
            "upper" => Transform::Upper,
            "lower" => Transform::Lower,
            other if other.starts_with("lookup") => {
                return Err(HubError::unprocessable(
                    field,
                    Message::new("transform.lookup_object"),
                ))
            }
            other => return Err(unknown(field, &format!("'{other}'"))),
        },
        Some(Value::Object(o)) => parse_object(o, field)?,
        Some(other) => return Err(unknown(field, &other.to_string())),
    })
}

/// A transform declared as an object (`{"constant": v}`, `{"concat": [...]}`, …).
fn parse_object(o: &Map<String, Value>, field: &str) -> HubResult<Transform> {
    Ok(if let Some(c) = o.get("constant") {
        Transform::Constant(c.clone())
    } else if let Some(part) = o.get("split_name") {
        match part.as_str() {
            Some("last") => Transform::SplitName { first: false },
            Some("first") => Transform::SplitName { first: true },
            _ => {
                return Err(HubError::unprocessable(
                    field,
                    Message::new("transform.split_name"),
                ))
            }
        }
    } else if let Some(list) = o.get("concat") {
        let fields: Vec<String> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if fields.is_empty() {
            return Err(HubError::unprocessable(
                field,
                Message::new("transform.concat"),
            ));
        }
        let separator = o
            .get("separator")
            .and_then(Value::as_str)
            .unwrap_or(" ")
            .to_string();
        Transform::Concat { fields, separator }
    } else if let Some(list) = o.get("coalesce") {
        let fields: Option<Vec<String>> = list.as_array().and_then(|a| {
            a.iter()
                .map(|v| {
                    v.as_str()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                })
                .collect()
        });
        match fields {
            Some(fields) if !fields.is_empty() => Transform::Coalesce { fields },
            _ => {
                return Err(HubError::unprocessable(
                    field,
                    Message::new("transform.coalesce"),
                ))
            }
        }
    } else if let Some(f) = o.get("date_format") {
        let f = f
            .as_str()
            .ok_or_else(|| HubError::unprocessable(field, Message::new("transform.date_format")))?;
        if chrono::format::StrftimeItems::new(f).any(|i| matches!(i, chrono::format::Item::Error)) {
            return Err(HubError::unprocessable(
                field,
                Message::new("transform.date_pattern").with("pattern", f),
            ));
        }
        Transform::DateFormat(f.to_string())
    } else if let Some((key, flow)) = ["lookup", "lookup_reverse"]
        .iter()
        .find_map(|k| o.get(*k).map(|v| (*k, v)))
    {
        match flow.as_str().map(str::trim) {
            Some(id) if !id.is_empty() => Transform::Lookup {
                flow: id.to_string(),
                reverse: key == "lookup_reverse",
            },
            _ => {
                return Err(HubError::unprocessable(
                    field,
                    Message::new("transform.flow_id").with("key", key),
                ))
            }
        }
    } else if let Some(c) = o.get("user_map") {
        match c.as_str().map(str::trim) {
            Some(id) if !id.is_empty() => Transform::UserMap {
                connection: id.to_string(),
            },
            _ => {
                return Err(HubError::unprocessable(
                    field,
                    Message::new("transform.user_map"),
                ))
            }
        }
    } else if let Some(m) = o.get("map") {
        let map = m
            .as_object()
            .cloned()
            .ok_or_else(|| HubError::unprocessable(field, Message::new("transform.map")))?;
        Transform::Table {
            map,
            default: o.get("default").cloned(),
        }
    } else {
        return Err(unknown(field, &Value::Object(o.clone()).to_string()));
    })
}

impl Transform {
    /// The transform the other way, for two-way flows; `None` when it cannot be undone
    /// (constants, split names, concatenations and date formats only flow forward).
    pub fn inverse(&self) -> Option<Transform> {
        match self {
            Transform::Copy
            | Transform::Trim
            | Transform::Nfkc
            | Transform::Upper
            | Transform::Lower => Some(self.clone()),
            Transform::Table { map, .. } => {
                let mut back = Map::new();
                for (k, v) in map {
                    let key = text(v);
                    if back.contains_key(&key) {
                        return None; // two values map to one: not one-to-one
                    }
                    back.insert(key, Value::String(k.clone()));
                }
                Some(Transform::Table {
                    map: back,
                    default: None,
                })
            }
            _ => None,
        }
    }

    /// Source fields read besides the rule's `from`.
    pub fn extra_sources(&self) -> &[String] {
        match self {
            Transform::Concat { fields, .. } | Transform::Coalesce { fields } => fields,
            _ => &[],
        }
    }

    pub fn reads_source(&self) -> bool {
        !matches!(
            self,
            Transform::Constant(_) | Transform::Concat { .. } | Transform::Coalesce { .. }
        )
    }

    /// Applies the transform to `v`, the rule's source value; `record` gives other fields.
    pub fn apply(&self, v: Value, record: &Fields) -> Value {
        let on_text = |f: &dyn Fn(&str) -> String, v: Value| match v {
            Value::String(s) => Value::String(f(&s)),
            other => other,
        };
        match self {
            Transform::Copy => v,
            Transform::Trim => on_text(&|s| s.trim().to_string(), v),
            Transform::Nfkc => on_text(&|s| s.nfkc().collect(), v),
            Transform::Upper => on_text(&|s| s.to_uppercase(), v),
            Transform::Lower => on_text(&|s| s.to_lowercase(), v),
            Transform::Constant(c) => c.clone(),
            Transform::SplitName { first } => on_text(&|s| split_name(s, *first), v),
            Transform::Concat { fields, separator } => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| text(record.get(f).unwrap_or(&Value::Null)))
                    .filter(|p| !p.trim().is_empty())
                    .collect();
                Value::String(parts.join(separator))
            }
            Transform::Coalesce { fields } => fields
                .iter()
                .filter_map(|f| record.get(f))
                .find(|v| !blank(v))
                .cloned()
                .unwrap_or(Value::Null),
            Transform::DateFormat(f) => {
                on_text(&|s| reformat_date(s, f).unwrap_or_else(|| s.to_string()), v)
            }
            Transform::Table { map, default } => match map.get(&text(&v)) {
                Some(to) => to.clone(),
                None => default.clone().unwrap_or(v),
            },
            // Only the engine can resolve them (through the store); `Mapper::map_with` does.
            Transform::Lookup { .. } | Transform::UserMap { .. } => Value::Null,
        }
    }
}

/// What the transforms take and give, checked against both objects' schemas when a flow is
/// saved. The types of values written into fields are judged by `FieldType::fits_into`.
impl Transform {
    /// Whether the transform can take a value of type `t`; `Other` (unknown) is not judged.
    pub fn accepts(&self, t: FieldType) -> bool {
        use FieldType::*;
        let text = matches!(t, Text | LongText | Email | Phone | Url | Picklist | Other);
        match self {
            Transform::Copy
            | Transform::Constant(_)
            | Transform::Concat { .. }
            | Transform::Coalesce { .. }
            | Transform::Table { .. } => true,
            Transform::Trim
            | Transform::Nfkc
            | Transform::Upper
            | Transform::Lower
            | Transform::SplitName { .. } => text,
            Transform::DateFormat(_) => matches!(t, Date | DateTime | Text | LongText | Other),
            // An id: one value, written as text or a number.
            Transform::Lookup { .. } => text || matches!(t, Number | Lookup),
            // A user's id or email.
            Transform::UserMap { .. } => text || matches!(t, User | Lookup),
        }
    }

    /// What the transform takes, as the catalogue key of its words for the refusal.
    pub fn takes(&self) -> &'static str {
        match self {
            Transform::DateFormat(_) => "takes.date",
            Transform::Lookup { .. } => "takes.record_id",
            Transform::UserMap { .. } => "takes.user",
            _ => "takes.text",
        }
    }

    /// The type of the value the transform gives for a value of type `input`.
    pub fn output(&self, input: FieldType) -> FieldType {
        match self {
            Transform::Copy
            | Transform::Trim
            | Transform::Nfkc
            | Transform::Upper
            | Transform::Lower => input,
            // `input` is the fields' common type (see `validate/schema.rs`), else `Other`.
            Transform::Coalesce { .. } => input,
            Transform::Constant(v) => match v {
                Value::Bool(_) => FieldType::Boolean,
                Value::Number(_) => FieldType::Number,
                Value::String(_) => FieldType::Text,
                Value::Array(_) => FieldType::MultiPicklist,
                _ => FieldType::Other,
            },
            Transform::SplitName { .. }
            | Transform::Concat { .. }
            | Transform::DateFormat(_)
            | Transform::Lookup { .. } => FieldType::Text,
            Transform::UserMap { .. } => FieldType::User,
            Transform::Table { map, default } => {
                if map.values().chain(default.iter()).all(Value::is_string) {
                    FieldType::Text
                } else {
                    FieldType::Other
                }
            }
        }
    }
}

/// `""`, null, `[]` and spaces only: no value (as `mapping::same_content` sees blanks).
fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// "山田 太郎" / "山田　太郎" → 姓 "山田", 名 "太郎"; without a space the whole is the 姓.
fn split_name(s: &str, first: bool) -> String {
    let s = s.trim();
    match s.split_once(|c: char| c.is_whitespace()) {
        Some((_, rest)) if first => rest.trim().to_string(),
        Some((last, _)) => last.to_string(),
        None if first => String::new(),
        None => s.to_string(),
    }
}

/// Reads RFC 3339, `YYYY-MM-DD`, `YYYY/M/D` or `YYYYMMDD`, writes with `format`.
fn reformat_date(s: &str, format: &str) -> Option<String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.format(format).to_string());
    }
    for pattern in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s, pattern) {
            return Some(d.format(format).to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(v: Value) -> Transform {
        parse(&Some(v), "mapping[0].transform").unwrap()
    }

    #[test]
    fn names_dates_tables_and_concatenation() {
        let none = Fields::new();
        assert_eq!(
            t(json!({"split_name": "last"})).apply(json!("山田　太郎"), &none),
            json!("山田")
        );
        assert_eq!(
            t(json!({"split_name": "first"})).apply(json!("山田 太郎"), &none),
            json!("太郎")
        );
        assert_eq!(
            t(json!({"split_name": "first"})).apply(json!("山田"), &none),
            json!("")
        );
        assert_eq!(
            t(json!({"date_format": "%Y/%m/%d"})).apply(json!("2026-04-01T09:00:00+09:00"), &none),
            json!("2026/04/01")
        );
        assert_eq!(
            t(json!({"date_format": "%Y-%m-%d"})).apply(json!("2026/4/1"), &none),
            json!("2026-04-01")
        );
        let prefs = t(json!({"map": {"13": "東京都", "27": "大阪府"}, "default": "不明"}));
        assert_eq!(prefs.apply(json!("13"), &none), json!("東京都"));
        assert_eq!(prefs.apply(json!("99"), &none), json!("不明"));
        assert_eq!(
            prefs.inverse().unwrap().apply(json!("大阪府"), &none),
            json!("27")
        );
        let rec = json!({"姓": "山田", "名": "太郎", "部署": ""})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(
            t(json!({"concat": ["姓", "名", "部署"], "separator": " "})).apply(Value::Null, &rec),
            json!("山田 太郎")
        );
        assert!(t(json!({"split_name": "last"})).inverse().is_none());
    }

    /// Seed 004: a customer without a person is registered under its company name, and Zoho
    /// needs a Last_Name: the first non-blank of 担当者名, 会社名.
    #[test]
    fn coalesce_takes_the_first_non_blank_field() {
        let person_or_company = t(json!({"coalesce": ["担当者名", "会社名"]}));
        let rec = |v: Value| v.as_object().cloned().unwrap();
        for (fields, want) in [
            (
                json!({"担当者名": "山田 花子", "会社名": "株式会社ABC"}),
                json!("山田 花子"),
            ),
            (
                json!({"担当者名": "", "会社名": "株式会社XYZ"}),
                json!("株式会社XYZ"),
            ),
            (
                json!({"担当者名": "　", "会社名": "株式会社XYZ"}),
                json!("株式会社XYZ"),
            ),
            (json!({"会社名": "株式会社XYZ"}), json!("株式会社XYZ")),
            (json!({"担当者名": null, "会社名": ""}), Value::Null),
        ] {
            assert_eq!(
                person_or_company.apply(Value::Null, &rec(fields.clone())),
                want,
                "{fields}"
            );
        }
        assert_eq!(person_or_company.extra_sources(), ["担当者名", "会社名"]);
        assert!(!person_or_company.reads_source());
        assert!(person_or_company.inverse().is_none());
        assert_eq!(person_or_company.output(FieldType::Text), FieldType::Text);
    }

    #[test]
    fn bad_transforms_name_the_field() {
        for bad in [
            json!("rot13"),
            json!({"split_name": "middle"}),
            json!({"concat": []}),
            json!({"coalesce": []}),
            json!({"coalesce": "会社名"}),
            json!({"coalesce": ["会社名", 3]}),
            json!({"date_format": "%Q"}),
            json!({"map": 3}),
            json!({"what": 1}),
            json!({"lookup": ""}),
            json!({"lookup_reverse": 7}),
            json!("lookup:abc"),
            json!({"user_map": ""}),
        ] {
            let e = parse(&Some(bad.clone()), "mapping[2].transform").unwrap_err();
            assert!(
                e.to_string().starts_with("mapping[2].transform: "),
                "{bad}: {e}"
            );
        }
    }
}
