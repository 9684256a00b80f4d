//! Masters as SDK objects and records, and values between the API's JSON and the SDK's (numbers
//! as decimal strings, codes always strings so leading zeros survive).

use connector_sdk::{
    Capabilities, ConnectorError, FieldSchema, FieldType, Fields, ObjectSchema, Record, Text,
};
use serde_json::{Map, Value};

use crate::assumed::{self, Entity, Kind};
use crate::errors;

fn field_type(kind: Kind) -> FieldType {
    match kind {
        Kind::Text | Kind::Kana | Kind::PostalCode => FieldType::Text,
        Kind::Phone => FieldType::Phone,
        Kind::Email => FieldType::Email,
        Kind::Int => FieldType::Number,
        Kind::Bool => FieldType::Boolean,
        Kind::Date => FieldType::Date,
        Kind::Stamp => FieldType::DateTime,
    }
}

/// 奉行's records are named by their 名 field (取引先名, 氏名); its web UI has no address for
/// one record that the reference gives, so there is no `record_url`.
pub fn object_schema(e: &Entity) -> ObjectSchema {
    ObjectSchema {
        title_field: (e.field(assumed::NAME).or_else(|| e.field(assumed::CODE)))
            .map(|f| f.name.to_string()),
        record_url: None,
        read_options: vec![],
        id: e.object.into(),
        name: Text::new(e.ja, e.en),
        fields: e
            .fields
            .iter()
            .map(|f| FieldSchema {
                id: f.name.into(),
                label: f.ja.into(),
                field_type: field_type(f.kind),
                required: f.required,
                unique: f.name == assumed::CODE,
                read_only: f.kind == Kind::Stamp,
                options: vec![],
                lookup: None,
            })
            .collect(),
        capabilities: Capabilities {
            read: true,
            create: true,
            update: true,
            // Only a master with a deleted flag can be deleted (a soft delete, as 奉行 does).
            delete: e.deleted_flag.is_some(),
            incremental: true,
            private_records: false,
            files: false,
        },
    }
}

/// A code as text, whether the API or the hub sent it as a string or a number.
pub fn code_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One exported item as an SDK record: id and version from `code` and `updatedAt`, the deleted
/// flag as a tombstone, every known field converted (numbers become decimal strings).
pub fn to_record(e: &Entity, item: &Map<String, Value>) -> Option<Record> {
    let id = item.get(assumed::CODE).and_then(code_text)?;
    let stamp = item
        .get(assumed::UPDATED_AT)
        .and_then(Value::as_str)
        .map(str::to_string);
    let deleted = e
        .deleted_flag
        .is_some_and(|flag| item.get(flag) == Some(&Value::Bool(true)));
    let mut fields = Fields::new();
    for f in e.fields {
        let v = match (f.kind, item.get(f.name)) {
            (_, None | Some(Value::Null)) => continue,
            (Kind::Int, Some(Value::Number(n))) => Value::String(n.to_string()),
            (_, Some(v)) if f.name == assumed::CODE => {
                Value::String(code_text(v).unwrap_or_default())
            }
            (_, Some(v)) => v.clone(),
        };
        fields.insert(f.name.into(), v);
    }
    Some(Record {
        id,
        version: stamp.clone(),
        modified_at: stamp,
        private: false,
        deleted,
        fields,
    })
}

/// An SDK value as the API wants it for `field`; `Null` clears the field.
pub fn to_api(e: &Entity, field: &str, v: &Value) -> Result<Value, ConnectorError> {
    let Some(f) = e.field(field) else {
        return Err(errors::bad_field(e, field, false));
    };
    if v.is_null() {
        return Ok(Value::Null);
    }
    match f.kind {
        Kind::Stamp => Err(errors::bad_field(e, field, true)),
        Kind::Int => {
            let n = match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) if s.trim().is_empty() => return Ok(Value::Null),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            };
            n.map(Value::from)
                .ok_or_else(|| errors::bad_value(field, "a whole number", "整数"))
        }
        Kind::Bool => match v {
            Value::Bool(b) => Ok(Value::Bool(*b)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(Value::Bool(true)),
                "false" | "0" | "no" | "" => Ok(Value::Bool(false)),
                _ => Err(errors::bad_value(
                    field,
                    "true or false",
                    "true または false",
                )),
            },
            Value::Number(n) => Ok(Value::Bool(n.as_i64() != Some(0))),
            _ => Err(errors::bad_value(
                field,
                "true or false",
                "true または false",
            )),
        },
        Kind::Date => {
            let s = text(v).ok_or_else(|| {
                errors::bad_value(field, "a date (yyyy-MM-dd)", "日付（yyyy-MM-dd）")
            })?;
            // A date-time keeps its date part; `yyyy/MM/dd` (CSV style) is accepted too.
            let day = s.get(..10).unwrap_or(&s).replace('/', "-");
            chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .map_err(|_| errors::bad_value(field, "a date (yyyy-MM-dd)", "日付（yyyy-MM-dd）"))
        }
        Kind::Text | Kind::Kana | Kind::PostalCode | Kind::Phone | Kind::Email => text(v)
            .map(Value::String)
            .ok_or_else(|| errors::bad_value(field, "text", "文字列")),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether writing `given` (API form) into `field` would leave the stored record as it is.
pub fn same(existing: &Map<String, Value>, field: &str, given: &Value) -> bool {
    let now = existing.get(field).unwrap_or(&Value::Null);
    let blank = |v: &Value| v.is_null() || v.as_str() == Some("");
    match (now, given) {
        (a, b) if blank(a) && blank(b) => true,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assumed::{CUSTOMERS, EMPLOYEES};
    use connector_sdk::ErrorKind;
    use serde_json::json;

    #[test]
    fn items_become_records_with_string_numbers_and_tombstones() {
        let item = json!({"code": "000123", "name": "株式会社サンプル", "closingDay": 31,
                          "deleted": true, "updatedAt": "2025-04-01T00:00:00Z"});
        let r = to_record(&CUSTOMERS, item.as_object().unwrap()).unwrap();
        assert_eq!(r.id, "000123");
        assert_eq!(r.fields["closingDay"], "31");
        assert!(r.deleted);
        assert!(!r.fields.contains_key("deleted"));
        assert_eq!(r.version.as_deref(), Some("2025-04-01T00:00:00Z"));
    }

    #[test]
    fn values_convert_or_name_the_field() {
        assert_eq!(
            to_api(&CUSTOMERS, "closingDay", &json!("20")).unwrap(),
            json!(20)
        );
        let e = to_api(&CUSTOMERS, "closingDay", &json!("twenty")).unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidData, Some("closingDay"))
        );
        assert_eq!(
            to_api(&EMPLOYEES, "joinDate", &json!("2024/04/01")).unwrap(),
            json!("2024-04-01")
        );
        assert_eq!(
            to_api(&EMPLOYEES, "retired", &json!("false")).unwrap(),
            json!(false)
        );
        assert_eq!(
            to_api(&CUSTOMERS, "colour", &json!("x"))
                .unwrap_err()
                .field
                .as_deref(),
            Some("colour")
        );
        assert_eq!(
            to_api(&CUSTOMERS, "updatedAt", &json!("x"))
                .unwrap_err()
                .kind,
            ErrorKind::InvalidData
        );
        let stored = json!({"fax": "", "closingDay": 31})
            .as_object()
            .cloned()
            .unwrap();
        assert!(same(&stored, "fax", &Value::Null));
        assert!(same(&stored, "closingDay", &json!(31)));
        assert!(!same(&stored, "closingDay", &json!(30)));
    }
}
