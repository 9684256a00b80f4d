//! Checking import rows against the entity shapes of [`super::assumed`], and the export
//! conditions. Every problem of a row is reported, in Japanese, so a user sees what to fix.

use super::assumed::{msg, Entity, Kind};
use super::model::{Record, Tenant};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

fn is_kana(c: char) -> bool {
    matches!(c,
        '\u{30A0}'..='\u{30FF}'          // katakana, ー
        | '\u{FF65}'..='\u{FF9F}'        // half-width katakana
        | '0'..='9' | 'A'..='Z' | 'a'..='z'
        | '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}'
        | ' ' | '\u{3000}' | '(' | ')' | '（' | '）' | '.' | ',' | '-' | '－' | '&' | '＆')
}

/// The problem with one field value, if any.
fn check(field: &str, kind: Kind, v: &Value, tenant: &Tenant) -> Option<String> {
    let text = v.as_str();
    let invalid = |why: &str| Some(msg::invalid(field, why));
    match kind {
        Kind::Code { .. } => None, // checked with the row's key
        Kind::Text { max } | Kind::Kana { max } => match text {
            None => invalid("文字列で指定してください"),
            Some(s) if s.chars().count() > max => Some(msg::too_long(field, max)),
            Some(s) if matches!(kind, Kind::Kana { .. }) && !s.chars().all(is_kana) => {
                invalid("カタカナで入力してください")
            }
            Some(_) => None,
        },
        Kind::PostalCode => {
            let ok = text.is_some_and(|s| {
                let d: Vec<char> = s.chars().collect();
                let digits = |r: &[char]| r.iter().all(char::is_ascii_digit);
                s.is_empty()
                    || (d.len() == 8 && d[3] == '-' && digits(&d[..3]) && digits(&d[4..]))
                    || (d.len() == 7 && digits(&d))
            });
            if ok {
                None
            } else {
                invalid("郵便番号は 123-4567 の形式で入力してください")
            }
        }
        Kind::Tel => {
            let ok = text.is_some_and(|s| {
                s.chars().count() <= 20
                    && s.chars()
                        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | '+' | ' '))
            });
            if ok {
                None
            } else {
                invalid("電話番号は半角数字とハイフンで20文字以内")
            }
        }
        Kind::Email => {
            let ok = text.is_some_and(|s| {
                s.is_empty()
                    || s.split_once('@')
                        .is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
            });
            if ok {
                None
            } else {
                invalid("メールアドレスの形式")
            }
        }
        Kind::Int { min, max } => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => None,
            _ => invalid(&format!("{min}〜{max} の整数")),
        },
        Kind::Bool if v.is_boolean() => None,
        Kind::Bool => invalid("true または false"),
        Kind::Date if text.is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()) => {
            None
        }
        Kind::Date => invalid("日付は yyyy-MM-dd の形式"),
        Kind::Ref(entity) => match text {
            Some("") => None,
            Some(code) => {
                let live = tenant
                    .table(entity)
                    .and_then(|t| t.get(code))
                    .is_some_and(|r| r.get("deleted") != Some(&Value::Bool(true)));
                (!live).then(|| msg::missing_ref(field, code))
            }
            None => invalid("文字列で指定してください"),
        },
    }
}

/// The row's business key, or why it is unusable.
pub fn row_code(entity: &Entity, row: &Value) -> Result<String, String> {
    let max = match entity.field("code").map(|f| f.kind) {
        Some(Kind::Code { max }) => max,
        _ => 20,
    };
    match row.get("code") {
        None | Some(Value::Null) => Err(msg::required("code")),
        Some(Value::String(s)) if s.is_empty() => Err(msg::required("code")),
        Some(Value::String(s)) if s.chars().count() > max => Err(msg::too_long("code", max)),
        Some(Value::String(s)) if !s.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Err(msg::invalid("code", "半角英数字で入力してください"))
        }
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(msg::code_not_string()),
    }
}

/// Checks one row and returns the record to store: the existing record with the row's fields
/// laid over it (update), or the row alone (insert).
pub fn merge(
    entity: &Entity,
    row: &Value,
    existing: Option<&Record>,
    tenant: &Tenant,
    now: DateTime<Utc>,
) -> Result<Record, Vec<String>> {
    let Value::Object(o) = row else {
        return Err(vec![msg::invalid(
            "items",
            "行は JSON オブジェクトで指定してください",
        )]);
    };
    let mut errors = Vec::new();
    let code = match row_code(entity, row) {
        Ok(c) => c,
        Err(e) => return Err(vec![e]),
    };
    for (k, v) in o {
        if k == "code" || k == super::assumed::UPDATED_AT {
            continue;
        }
        match entity.field(k) {
            None => errors.push(msg::unknown_field(k)),
            Some(f) if v.is_null() && f.required => errors.push(msg::required(k)),
            Some(_) if v.is_null() => {}
            Some(f) => errors.extend(check(k, f.kind, v, tenant)),
        }
    }
    let mut rec = existing.cloned().unwrap_or_default();
    for (k, v) in o {
        if entity.field(k).is_some() {
            if v.is_null() {
                rec.remove(k);
            } else {
                rec.insert(k.clone(), v.clone());
            }
        }
    }
    for f in entity.fields.iter().filter(|f| f.required) {
        if rec.get(f.name).is_none_or(|v| v.as_str() == Some("")) {
            let m = msg::required(f.name);
            if !errors.contains(&m) {
                errors.push(m);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    rec.insert("code".into(), Value::String(code));
    if let Some(flag) = entity.deleted_flag {
        rec.entry(flag.to_string()).or_insert(Value::Bool(false));
    }
    rec.insert(
        super::assumed::UPDATED_AT.into(),
        Value::String(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    Ok(rec)
}

/// Parsed export conditions.
#[derive(Debug, Default)]
pub struct Conditions {
    code: Option<String>,
    code_from: Option<String>,
    code_to: Option<String>,
    name: Option<String>,
    updated_since: Option<DateTime<Utc>>,
    include_deleted: bool,
}

impl Conditions {
    pub fn parse(v: Option<&Value>) -> Result<Self, String> {
        let mut c = Conditions::default();
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(c);
        };
        let Value::Object(o) = v else {
            return Err("conditions must be an object.".into());
        };
        let text = |k: &str, v: &Value| -> Result<String, String> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("conditions.{k} must be a string."))
        };
        for (k, v) in o {
            match k.as_str() {
                "code" => c.code = Some(text(k, v)?),
                "codeFrom" => c.code_from = Some(text(k, v)?),
                "codeTo" => c.code_to = Some(text(k, v)?),
                "name" => c.name = Some(text(k, v)?),
                "updatedSince" => {
                    let s = text(k, v)?;
                    let t = DateTime::parse_from_rfc3339(&s).map_err(|_| {
                        format!("conditions.updatedSince is not an ISO 8601 date-time: {s}")
                    })?;
                    c.updated_since = Some(t.with_timezone(&Utc));
                }
                "includeDeleted" => {
                    c.include_deleted = v
                        .as_bool()
                        .ok_or("conditions.includeDeleted must be a boolean.")?
                }
                other => {
                    return Err(format!(
                        "Unknown condition {other}; known: {}.",
                        super::assumed::CONDITIONS.join(", ")
                    ))
                }
            }
        }
        Ok(c)
    }

    pub fn matches(&self, entity: &Entity, r: &Record) -> bool {
        let code = r.get("code").and_then(Value::as_str).unwrap_or("");
        if let Some(flag) = entity.deleted_flag {
            if !self.include_deleted && r.get(flag) == Some(&Value::Bool(true)) {
                return false;
            }
        }
        if self.code.as_deref().is_some_and(|c| c != code)
            || self.code_from.as_deref().is_some_and(|c| code < c)
            || self.code_to.as_deref().is_some_and(|c| code > c)
        {
            return false;
        }
        if let Some(n) = &self.name {
            let name = r.get("name").and_then(Value::as_str).unwrap_or("");
            let kana = r.get("nameKana").and_then(Value::as_str).unwrap_or("");
            if !name.contains(n.as_str()) && !kana.contains(n.as_str()) {
                return false;
            }
        }
        if let Some(since) = self.updated_since {
            let at = r
                .get(super::assumed::UPDATED_AT)
                .and_then(Value::as_str)
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok());
            if at.is_none_or(|t| t.with_timezone(&Utc) <= since) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::assumed::CUSTOMER;
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn tenant() -> Tenant {
        Tenant {
            id: "t".into(),
            code: "T".into(),
            name: "n".into(),
            name_kana: "".into(),
            memo: "".into(),
            records: BTreeMap::new(),
        }
    }

    #[test]
    fn rows_report_every_problem_in_japanese() {
        let t = tenant();
        let now = Utc::now();
        let ok = merge(
            &CUSTOMER,
            &json!({"code":"000123","name":"株式会社サンプル","nameKana":"サンプル","closingDay":31}),
            None,
            &t,
            now,
        );
        assert!(ok.is_ok());
        let errs = merge(
            &CUSTOMER,
            &json!({"code":"1","nameKana":"さんぷる","closingDay":40,"color":"red"}),
            None,
            &t,
            now,
        )
        .err()
        .unwrap_or_default();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs.iter().any(|e| e.contains("name は必須")));
        assert_eq!(
            row_code(&CUSTOMER, &json!({"code": 123})),
            Err(msg::code_not_string())
        );
    }

    #[test]
    fn conditions_filter_by_code_range_and_update_time() {
        let c = Conditions::parse(Some(&json!({"codeFrom":"000010","codeTo":"000020"})))
            .unwrap_or_default();
        let rec = |code: &str| {
            json!({"code": code, "deleted": false})
                .as_object()
                .cloned()
                .unwrap_or_default()
        };
        assert!(c.matches(&CUSTOMER, &rec("000015")));
        assert!(!c.matches(&CUSTOMER, &rec("000021")));
        assert!(Conditions::parse(Some(&json!({"colour":"x"}))).is_err());
    }
}
