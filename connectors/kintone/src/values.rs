//! kintone's `{"type":…, "value":…}` field objects to the SDK's plain values and back.
//! Read: numbers stay decimal strings (exact), empty values become `null`, users and creators
//! become login codes, subtables become arrays of row objects (column code → plain value).
//! Subtable row ids are app-internal and left out, so a subtable written elsewhere replaces
//! its rows as a whole and reads back equal (no echo in two-way sync).

use connector_sdk::{ConnectorError, ErrorKind, Fields, Record};
use serde_json::{json, Map, Value};

use crate::form::{FieldDef, Form, ID, REVISION};

/// One kintone record (as records.json and the cursor API return it) as an SDK record.
pub fn to_record(raw: &Value, updated_code: Option<&str>) -> Option<Record> {
    let map = raw.as_object()?;
    let text = |code: &str| {
        map.get(code)
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let id = text(ID)?;
    let mut fields = Fields::new();
    for (code, f) in map {
        let kind = f.get("type").and_then(Value::as_str).unwrap_or_default();
        fields.insert(
            code.clone(),
            flatten(kind, f.get("value").unwrap_or(&Value::Null)),
        );
    }
    Some(Record {
        id,
        version: text(REVISION),
        modified_at: updated_code.and_then(text),
        private: false,
        deleted: false,
        fields,
    })
}

pub fn flatten(kind: &str, value: &Value) -> Value {
    match kind {
        "NUMBER" | "CALC" | "DATE" | "DATETIME" | "TIME" | "DROP_DOWN" | "RADIO_BUTTON"
        | "LINK" => match value {
            Value::String(s) if s.is_empty() => Value::Null,
            other => other.clone(),
        },
        "CREATOR" | "MODIFIER" => value.get("code").cloned().unwrap_or(Value::Null),
        "USER_SELECT" | "ORGANIZATION_SELECT" | "GROUP_SELECT" | "STATUS_ASSIGNEE" => Value::Array(
            value
                .as_array()
                .map(|a| a.iter().filter_map(|e| e.get("code").cloned()).collect())
                .unwrap_or_default(),
        ),
        "SUBTABLE" => Value::Array(
            value
                .as_array()
                .map(|rows| {
                    rows.iter()
                        .map(|row| {
                            let mut out = Map::new();
                            if let Some(cols) = row.get("value").and_then(Value::as_object) {
                                for (code, f) in cols {
                                    let k = f.get("type").and_then(Value::as_str).unwrap_or("");
                                    out.insert(
                                        code.clone(),
                                        flatten(k, f.get("value").unwrap_or(&Value::Null)),
                                    );
                                }
                            }
                            Value::Object(out)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        ),
        _ => value.clone(),
    }
}

/// Why a value cannot go into a field: (field code, English, Japanese).
#[derive(Debug)]
pub struct Refused {
    pub field: String,
    pub en: String,
    pub ja: String,
}

impl Refused {
    fn new(field: &str, en: impl Into<String>, ja: impl Into<String>) -> Self {
        Refused {
            field: field.to_string(),
            en: en.into(),
            ja: ja.into(),
        }
    }

    pub fn into_error(self) -> ConnectorError {
        ConnectorError::new(
            ErrorKind::InvalidData,
            format!("field {}: {}", self.field, self.en),
        )
        .with_ja(format!("フィールド「{}」: {}", self.field, self.ja))
        .with_field(self.field)
    }
}

/// The `record` object of a write: `{"会社名":{"value":"…"}}`. System fields (`$id`, レコード
/// 番号, 更新日時, calculated…) are left out; a code the app does not have is refused.
pub fn record_payload(form: &Form, fields: &Fields, skip: Option<&str>) -> Result<Value, Refused> {
    let mut out = Map::new();
    for (code, v) in fields {
        if Some(code.as_str()) == skip {
            continue;
        }
        let Some(def) = form.field(code) else {
            return Err(Refused::new(
                code,
                format!("app {} has no field with this code", form.app),
                format!("アプリ{}にこのフィールドコードはありません", form.app),
            ));
        };
        if def.is_system() {
            continue;
        }
        out.insert(code.clone(), json!({ "value": to_kintone(def, v)? }));
    }
    Ok(Value::Object(out))
}

/// The value kintone expects for a key of `updateKey` or a query.
pub fn key_value(def: &FieldDef, v: &Value) -> Result<Value, Refused> {
    match to_kintone(def, v)? {
        Value::String(s) if !s.is_empty() => Ok(Value::String(s)),
        _ => Err(Refused::new(
            &def.code,
            "the match key value is empty",
            "キーの値が空です",
        )),
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_decimal(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next().unwrap_or_default();
    let frac = parts.next();
    let digits = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    match frac {
        None => digits(int),
        Some(f) => digits(int) && digits(f),
    }
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        Value::String(s) if s.is_empty() => Vec::new(),
        other => vec![other.clone()],
    }
}

pub fn to_kintone(def: &FieldDef, v: &Value) -> Result<Value, Refused> {
    let code = def.code.as_str();
    Ok(match def.kind.as_str() {
        "NUMBER" => {
            let s = as_text(v).trim().to_string();
            if !s.is_empty() && !is_decimal(&s) {
                return Err(Refused::new(
                    code,
                    format!("'{s}' is not a number"),
                    format!("「{s}」は数値ではありません"),
                ));
            }
            Value::String(s)
        }
        "DATE" | "TIME" | "DATETIME" | "DROP_DOWN" => match as_text(v) {
            s if s.is_empty() => Value::Null,
            s => Value::String(s),
        },
        "CHECK_BOX" | "MULTI_SELECT" => {
            Value::Array(list(v).iter().map(|e| Value::String(as_text(e))).collect())
        }
        "USER_SELECT" | "ORGANIZATION_SELECT" | "GROUP_SELECT" => Value::Array(
            list(v)
                .iter()
                .map(|e| match e.get("code") {
                    Some(c) => json!({ "code": c }),
                    None => json!({ "code": as_text(e) }),
                })
                .collect(),
        ),
        "FILE" => {
            let mut files = Vec::new();
            for e in list(v) {
                match e.get("fileKey") {
                    Some(k) => files.push(json!({ "fileKey": k })),
                    None => {
                        return Err(Refused::new(
                            code,
                            "files can only be written as uploaded file keys",
                            "添付ファイルはアップロード済みのファイルキーでのみ書き込めます",
                        ))
                    }
                }
            }
            Value::Array(files)
        }
        "SUBTABLE" => {
            let mut rows = Vec::new();
            for row in list(v) {
                let Some(cols) = row.as_object() else {
                    return Err(Refused::new(
                        code,
                        "a table row must be an object of column codes",
                        "テーブルの行は列のフィールドコードを持つオブジェクトにしてください",
                    ));
                };
                let mut value = Map::new();
                for (c, cv) in cols {
                    let Some(cdef) = def.columns.get(c) else {
                        return Err(Refused::new(
                            code,
                            format!("the table has no column '{c}'"),
                            format!("テーブルに列「{c}」がありません"),
                        ));
                    };
                    if cdef.is_system() {
                        continue;
                    }
                    value.insert(c.clone(), json!({ "value": to_kintone(cdef, cv)? }));
                }
                rows.push(json!({ "value": value }));
            }
            Value::Array(rows)
        }
        _ => Value::String(as_text(v)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_flattens_exactly() {
        let raw = json!({
            "$id": {"type":"__ID__","value":"7"},
            "$revision": {"type":"__REVISION__","value":"3"},
            "金額": {"type":"NUMBER","value":"12345678901234567890.123"},
            "空": {"type":"NUMBER","value":""},
            "担当者": {"type":"USER_SELECT","value":[{"code":"sato","name":"佐藤"}]},
            "作成者": {"type":"CREATOR","value":{"code":"Administrator","name":"Administrator"}},
            "更新日時": {"type":"UPDATED_TIME","value":"2024-05-01T01:02:00Z"},
            "明細": {"type":"SUBTABLE","value":[{"id":"48","value":{"品名":{"type":"SINGLE_LINE_TEXT","value":"りんご"},"数量":{"type":"NUMBER","value":"2"}}}]}
        });
        let r = to_record(&raw, Some("更新日時")).unwrap();
        assert_eq!(r.id, "7");
        assert_eq!(r.version.as_deref(), Some("3"));
        assert_eq!(r.modified_at.as_deref(), Some("2024-05-01T01:02:00Z"));
        assert_eq!(r.fields["金額"], json!("12345678901234567890.123"));
        assert_eq!(r.fields["空"], Value::Null);
        assert_eq!(r.fields["担当者"], json!(["sato"]));
        assert_eq!(r.fields["作成者"], json!("Administrator"));
        assert_eq!(r.fields["明細"], json!([{"品名":"りんご","数量":"2"}]));
    }

    #[test]
    fn write_shapes_and_refusals() {
        let form = Form::from_properties(
            "1",
            &json!({"properties": {
                "金額": {"type":"NUMBER","code":"金額"},
                "担当者": {"type":"USER_SELECT","code":"担当者"},
                "レコード番号": {"type":"RECORD_NUMBER","code":"レコード番号"},
                "明細": {"type":"SUBTABLE","code":"明細","fields":{"品名":{"type":"SINGLE_LINE_TEXT","code":"品名"}}}
            }}),
        );
        let mut f = Fields::new();
        f.insert("金額".into(), json!("12345678901234567890.123"));
        f.insert("担当者".into(), json!(["sato"]));
        f.insert("レコード番号".into(), json!("9"));
        f.insert("明細".into(), json!([{"品名":"みかん"}]));
        let p = record_payload(&form, &f, None).unwrap();
        assert_eq!(
            p,
            json!({
                "金額": {"value": "12345678901234567890.123"},
                "担当者": {"value": [{"code": "sato"}]},
                "明細": {"value": [{"value": {"品名": {"value": "みかん"}}}]}
            })
        );
        f.insert("金額".into(), json!("12万"));
        let e = record_payload(&form, &f, None).unwrap_err().into_error();
        assert_eq!(e.field.as_deref(), Some("金額"));
        let mut g = Fields::new();
        g.insert("無い".into(), json!("x"));
        assert_eq!(record_payload(&form, &g, None).unwrap_err().field, "無い");
    }
}
