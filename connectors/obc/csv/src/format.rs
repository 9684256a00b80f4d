//! Import formats (CSV取込フォーマット): which column of an object's CSV becomes which field.
//! Built-in formats read 奉行's 取引先 and 社員 exports; the connection setting
//! `csv_import_formats` adds objects or replaces a format:
//!
//! ```json
//! {"csv_customers": {"取引先コード": "code", "取引先名": "name", "電話": "tel"},
//!  "csv_suppliers": {"name": "仕入先", "key": "仕入先コード",
//!                    "columns": {"仕入先コード": "code", "仕入先名": "name", "登録日": "registered"},
//!                    "types": {"registered": "date"}}}
//! ```
//!
//! In the short form the key (the record id) is the column mapped to `code`.

use connector_sdk::{
    Capabilities, Connection, FieldSchema, FieldType, ObjectSchema, SettingField, SettingKind, Text,
};
use serde_json::{Map, Value};

use crate::assumed::{DefaultFormat, DEFAULTS};
use crate::error::{CsvError, CsvResult};
use crate::OBJECT_PREFIX;

pub const FORMATS_SETTING: &str = "csv_import_formats";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Text,
    /// `yyyy/M/d`, `yyyy-MM-dd` or `yyyyMMdd` in the file; `yyyy-MM-dd` in the record.
    Date,
    /// Digits with an optional sign, decimals and thousands commas; a decimal string in
    /// the record.
    Number,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub field: String,
    pub kind: ValueKind,
    /// Header names accepted for this column; an export writes the first.
    pub headers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFormat {
    pub object: String,
    pub label: Text,
    /// The field whose value is the record id (e.g. 取引先コード → `code`).
    pub key: String,
    pub columns: Vec<Column>,
}

impl ImportFormat {
    fn from_default(d: &DefaultFormat) -> Self {
        ImportFormat {
            object: d.object.to_string(),
            label: Text::new(d.label.0, d.label.1),
            key: d.key.to_string(),
            columns: d
                .columns
                .iter()
                .map(|(field, kind, headers)| Column {
                    field: field.to_string(),
                    kind: *kind,
                    headers: headers.iter().map(|h| h.to_string()).collect(),
                })
                .collect(),
        }
    }

    pub fn key_column(&self) -> Option<&Column> {
        self.columns.iter().find(|c| c.field == self.key)
    }

    /// The key column's header, for messages.
    pub fn key_header(&self) -> &str {
        self.key_column()
            .and_then(|c| c.headers.first())
            .map(String::as_str)
            .unwrap_or(self.key.as_str())
    }

    /// A CSV file has no page of its own: records are named by the `name` column, else the key.
    pub fn schema(&self) -> ObjectSchema {
        let named = self.columns.iter().any(|c| c.field == "name");
        ObjectSchema {
            title_field: Some(if named { "name" } else { self.key.as_str() }.to_string()),
            record_url: None,
            read_options: vec![],
            id: self.object.clone(),
            name: self.label.clone(),
            fields: self
                .columns
                .iter()
                .map(|c| FieldSchema {
                    id: c.field.clone(),
                    label: c
                        .headers
                        .first()
                        .cloned()
                        .unwrap_or_else(|| c.field.clone()),
                    field_type: match c.kind {
                        ValueKind::Text => FieldType::Text,
                        ValueKind::Date => FieldType::Date,
                        ValueKind::Number => FieldType::Number,
                    },
                    required: c.field == self.key,
                    unique: c.field == self.key,
                    read_only: false,
                    options: Vec::new(),
                    lookup: None,
                })
                .collect(),
            capabilities: Capabilities {
                read: true,
                create: true,
                update: true,
                delete: false,
                incremental: true,
                private_records: false,
                files: true,
            },
        }
    }
}

/// A header as compared: no surrounding or inner spaces, full-width letters and digits as
/// ASCII, upper case (so `住所１`, `住所1` and ` 住所 1 ` are one header).
pub fn normalize_header(h: &str) -> String {
    h.trim_start_matches('\u{FEFF}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect::<String>()
        .to_uppercase()
}

/// The setting field the connector's manifest carries for the formats.
pub fn setting_field() -> SettingField {
    SettingField {
        key: FORMATS_SETTING.into(),
        label: Text::new("CSV 取込フォーマット", "CSV import formats"),
        kind: SettingKind::ColumnLayout,
        required: false,
        pattern: None,
        help: Some(Text::new(
            "空欄なら奉行の取引先（csv_customers）・社員（csv_employees）の標準の見出しで読みます。変えるときは、オブジェクトごとに列の見出しと項目IDを並べます（オブジェクトIDは csv_ で始め、キーは code に対応づけた列）",
            "Empty: 奉行's standard 取引先 (csv_customers) and 社員 (csv_employees) headers. To change: list each object's column headers and field ids (object ids start with csv_; the key is the column mapped to code)",
        )),
        default: None,
        endpoint: false,
    }
}

/// The connection's formats: the defaults, replaced or extended by the setting.
pub fn formats(conn: &Connection) -> CsvResult<Vec<ImportFormat>> {
    let mut out: Vec<ImportFormat> = DEFAULTS
        .iter()
        .map(|d| ImportFormat::from_default(d))
        .collect();
    let Some(raw) = conn.settings.get(FORMATS_SETTING) else {
        return Ok(out);
    };
    let parsed: Value = match raw {
        Value::Null => return Ok(out),
        Value::String(s) if s.trim().is_empty() => return Ok(out),
        Value::String(s) => serde_json::from_str(s).map_err(|e| {
            bad(
                format!("JSON として読めません: {e}"),
                format!("is not JSON: {e}"),
            )
        })?,
        other => other.clone(),
    };
    let Value::Object(objects) = parsed else {
        return Err(bad(
            "{\"オブジェクトID\": {…}} の形式で入力してください",
            "must be an object {\"object id\": {…}}",
        ));
    };
    for (object, spec) in &objects {
        let f = parse_one(object, spec)?;
        match out.iter_mut().find(|d| d.object == f.object) {
            Some(existing) => *existing = f,
            None => out.push(f),
        }
    }
    Ok(out)
}

/// The format of one object, or an error naming the unknown object.
pub fn format_of(conn: &Connection, object: &str) -> CsvResult<ImportFormat> {
    let all = formats(conn)?;
    let known: Vec<String> = all.iter().map(|f| f.object.clone()).collect();
    all.into_iter().find(|f| f.object == object).ok_or_else(|| {
        CsvError::input(
            "object",
            format!(
                "CSV オブジェクト「{object}」はありません（あるもの: {}）",
                known.join(", ")
            ),
            format!(
                "there is no CSV object '{object}' (known: {}); add it to {FORMATS_SETTING}",
                known.join(", ")
            ),
        )
    })
}

fn bad(ja: impl Into<String>, en: impl Into<String>) -> CsvError {
    CsvError::settings(
        FORMATS_SETTING,
        format!("CSV 取込フォーマット: {}", ja.into()),
        format!("{FORMATS_SETTING} {}", en.into()),
    )
}

fn parse_kind(object: &str, field: &str, v: &Value) -> CsvResult<ValueKind> {
    match v.as_str() {
        Some("text") => Ok(ValueKind::Text),
        Some("date") => Ok(ValueKind::Date),
        Some("number") => Ok(ValueKind::Number),
        _ => Err(bad(
            format!("{object} の {field} の型は text、date、number のどれかです"),
            format!("{object}: the type of {field} must be text, date or number, not {v}"),
        )),
    }
}

fn parse_one(object: &str, spec: &Value) -> CsvResult<ImportFormat> {
    if !object.starts_with(OBJECT_PREFIX)
        || object.len() > 64
        || !object[OBJECT_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        || object.len() == OBJECT_PREFIX.len()
    {
        return Err(bad(
            format!("オブジェクトID「{object}」は csv_ で始まる半角英数字にしてください（フォルダ名になります）"),
            format!("object id '{object}' must be csv_ followed by ASCII letters, digits, _ or - (it names a folder)"),
        ));
    }
    let Value::Object(spec) = spec else {
        return Err(bad(
            format!("{object} の値は {{\"列の見出し\": \"項目ID\"}} の形式です"),
            format!("{object} must map column headers to field ids"),
        ));
    };
    let default = DEFAULTS.iter().find(|d| d.object == object);
    let (columns_map, key_header, label, types): (&Map<String, Value>, Option<&str>, _, _) =
        match spec.get("columns") {
            Some(Value::Object(cols)) => (
                cols,
                spec.get("key").and_then(Value::as_str),
                spec.get("name").and_then(Value::as_str),
                spec.get("types").and_then(Value::as_object),
            ),
            Some(_) => {
                return Err(bad(
                    format!("{object} の columns は {{\"列の見出し\": \"項目ID\"}} の形式です"),
                    format!("{object}.columns must map column headers to field ids"),
                ))
            }
            None => (spec, None, None, None),
        };
    let mut columns: Vec<Column> = Vec::new();
    for (header, field) in columns_map {
        let Some(field) = field.as_str().filter(|f| !f.trim().is_empty()) else {
            return Err(bad(
                format!("{object} の列「{header}」の項目IDが文字列ではありません"),
                format!("{object}: column '{header}' must map to a field id (text)"),
            ));
        };
        let field = field.trim().to_string();
        if normalize_header(header).is_empty() {
            return Err(bad(
                format!("{object} に空の見出しがあります"),
                format!("{object}: a column header is empty"),
            ));
        }
        let kind = match types.and_then(|t| t.get(&field)) {
            Some(v) => parse_kind(object, &field, v)?,
            None => default
                .and_then(|d| d.columns.iter().find(|c| c.0 == field))
                .map(|c| c.1)
                .unwrap_or(ValueKind::Text),
        };
        match columns.iter_mut().find(|c| c.field == field) {
            // Two headers for one field: either is accepted.
            Some(c) => c.headers.push(header.clone()),
            None => columns.push(Column {
                field,
                kind,
                headers: vec![header.clone()],
            }),
        }
    }
    if columns.is_empty() {
        return Err(bad(
            format!("{object} に列がありません"),
            format!("{object} maps no columns"),
        ));
    }
    let key = match key_header {
        Some(h) => {
            let Some(Value::String(f)) = columns_map.get(h) else {
                return Err(bad(
                    format!("{object} のキー「{h}」が columns にありません"),
                    format!("{object}: key '{h}' is not one of its columns"),
                ));
            };
            f.trim().to_string()
        }
        None if columns.iter().any(|c| c.field == "code") => "code".to_string(),
        None => {
            return Err(bad(
                format!("{object} にキーの列がありません。取引先コードなどの列を code に対応づけるか、\"key\" で列を指定してください"),
                format!("{object} has no key column: map the code column (e.g. 取引先コード) to field 'code', or name it with \"key\""),
            ))
        }
    };
    // The key column first: it is what a person looks for in an export.
    if let Some(i) = columns.iter().position(|c| c.field == key) {
        let k = columns.remove(i);
        columns.insert(0, k);
    }
    let label = match (label, default) {
        (Some(l), _) => Text::new(l, l),
        (None, Some(d)) => Text::new(d.label.0, d.label.1),
        (None, None) => {
            let short = &object[OBJECT_PREFIX.len()..];
            Text::new(format!("{short}（CSV）"), format!("{short} (CSV)"))
        }
    };
    Ok(ImportFormat {
        object: object.to_string(),
        label,
        key,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conn(formats: Value) -> Connection {
        let mut c = Connection::default();
        c.settings.insert("csv_root".into(), json!("/tmp/x"));
        c.settings.insert(FORMATS_SETTING.into(), formats);
        c
    }

    #[test]
    fn defaults_without_the_setting() {
        let f = formats(&Connection::default()).unwrap();
        let ids: Vec<&str> = f.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(ids, ["csv_customers", "csv_employees"]);
        assert_eq!(f[0].key_header(), "取引先コード");
        let s = f[1].schema();
        assert_eq!(
            s.field("joinDate").unwrap().field_type,
            connector_sdk::FieldType::Date
        );
        assert!(s.field("code").unwrap().unique);
    }

    #[test]
    fn the_short_form_replaces_a_default_and_the_long_form_adds_an_object() {
        let c = conn(json!(json!({
            "csv_customers": {"得意先CD": "code", "得意先名": "name"},
            "csv_suppliers": {"name": "仕入先", "key": "仕入先番号",
                              "columns": {"仕入先番号": "no", "仕入先名": "name", "登録日": "since"},
                              "types": {"since": "date"}}
        })
        .to_string()));
        let f = formats(&c).unwrap();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].columns.len(), 2);
        assert_eq!(f[0].key_header(), "得意先CD");
        let s = format_of(&c, "csv_suppliers").unwrap();
        assert_eq!(s.key, "no");
        assert_eq!(s.columns[0].field, "no");
        assert_eq!(s.label.ja, "仕入先");
        assert_eq!(
            s.columns.iter().find(|c| c.field == "since").unwrap().kind,
            ValueKind::Date
        );
        let e = format_of(&c, "csv_nothing").unwrap_err().to_string();
        assert!(e.contains("csv_suppliers"), "{e}");
    }

    #[test]
    fn bad_settings_are_named() {
        for (v, part) in [
            (json!("{not json"), "not JSON"),
            (json!({"customers": {"a": "code"}}), "csv_"),
            (json!({"csv_x": {"名前": "name"}}), "no key column"),
            (
                json!({"csv_x": {"key": "A", "columns": {"B": "b"}}}),
                "key 'A'",
            ),
            (
                json!({"csv_x": {"columns": {"A": "code"}, "types": {"code": "money"}}}),
                "text, date or number",
            ),
        ] {
            let e: connector_sdk::ConnectorError = formats(&conn(v)).unwrap_err().into();
            assert_eq!(e.kind, connector_sdk::ErrorKind::InvalidSettings);
            assert_eq!(e.field.as_deref(), Some(FORMATS_SETTING));
            assert!(e.message.contains(part), "{} / {part}", e.message);
            assert!(e.message_ja.is_some());
        }
    }

    #[test]
    fn headers_compare_without_width_case_or_spaces() {
        assert_eq!(normalize_header(" 住所１ "), normalize_header("住所1"));
        assert_eq!(normalize_header("ｔｅｌ"), "TEL");
        assert_eq!(normalize_header("\u{FEFF}取引先 コード"), "取引先コード");
    }
}
