//! An app's form (`app/form/fields.json`) as the connector needs it: field codes exactly as
//! kintone has them (Japanese included), their kintone types, the code of the UPDATED_TIME
//! field for incremental reads, and the SDK schema. Cached a short while per account and app,
//! so one run's reads and writes do not fetch it for every page.

use connector_sdk::{
    Capabilities, ConnectorError, ErrorKind, FieldSchema, FieldType, LookupRef, ObjectSchema, Text,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{app_param, Api};

/// Long enough for one run, short enough that a form edit is seen by the next one.
const TTL: Duration = Duration::from_secs(300);

pub const ID: &str = "$id";
pub const REVISION: &str = "$revision";

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub code: String,
    /// kintone's type name, e.g. `SINGLE_LINE_TEXT`.
    pub kind: String,
    pub label: String,
    pub required: bool,
    pub unique: bool,
    pub options: Vec<String>,
    /// `(related app, related key field)` of a lookup.
    pub lookup: Option<(String, String)>,
    /// LINK's `protocol` or CALC's `format`.
    pub flavour: Option<String>,
    /// Columns of a SUBTABLE.
    pub columns: BTreeMap<String, FieldDef>,
}

impl FieldDef {
    /// Values kintone computes or keeps itself; never sent in a write.
    pub fn is_system(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "__ID__"
                | "__REVISION__"
                | "RECORD_NUMBER"
                | "CALC"
                | "STATUS"
                | "STATUS_ASSIGNEE"
                | "CATEGORY"
                | "CREATOR"
                | "CREATED_TIME"
                | "MODIFIER"
                | "UPDATED_TIME"
        )
    }

    /// A field `updateKey` accepts: single-line text or number with "prohibit duplicates".
    pub fn can_be_update_key(&self) -> bool {
        self.unique && matches!(self.kind.as_str(), "SINGLE_LINE_TEXT" | "NUMBER")
    }

    fn schema(&self) -> FieldSchema {
        let (field_type, options) = map_type(self);
        FieldSchema {
            id: self.code.clone(),
            label: self.label.clone(),
            field_type,
            required: self.required,
            unique: self.unique,
            read_only: self.is_system(),
            options,
            lookup: self.lookup.as_ref().map(|(app, key)| LookupRef {
                object: app.clone(),
                field: key.clone(),
            }),
        }
    }
}

fn map_type(f: &FieldDef) -> (FieldType, Vec<String>) {
    use FieldType::*;
    let t = match f.kind.as_str() {
        "SINGLE_LINE_TEXT" | "RECORD_NUMBER" | "__ID__" | "__REVISION__" => Text,
        "MULTI_LINE_TEXT" | "RICH_TEXT" => LongText,
        "NUMBER" => Number,
        "CALC" => match f.flavour.as_deref() {
            Some("DATE") => Date,
            Some("DATETIME") => DateTime,
            Some("TIME") => Time,
            Some("HOUR_MINUTE") | Some("DAY_HOUR_MINUTE") => Text,
            _ => Number,
        },
        "LINK" => match f.flavour.as_deref() {
            Some("MAIL") => Email,
            Some("CALL") => Phone,
            _ => Url,
        },
        "RADIO_BUTTON" | "DROP_DOWN" | "STATUS" => Picklist,
        "CHECK_BOX" | "MULTI_SELECT" | "CATEGORY" => MultiPicklist,
        "DATE" => Date,
        "DATETIME" | "CREATED_TIME" | "UPDATED_TIME" => DateTime,
        "TIME" => Time,
        "USER_SELECT" | "CREATOR" | "MODIFIER" | "STATUS_ASSIGNEE" => User,
        "FILE" => File,
        "SUBTABLE" => Subtable,
        _ => Other,
    };
    let options = match t {
        Picklist | MultiPicklist => f.options.clone(),
        _ => Vec::new(),
    };
    (t, options)
}

/// Layout-only and reference fields carry no record value.
fn has_value(kind: &str) -> bool {
    !matches!(
        kind,
        "LABEL" | "SPACER" | "HR" | "GROUP" | "REFERENCE_TABLE"
    )
}

fn parse_field(code: &str, p: &Value) -> FieldDef {
    let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut options: Vec<(i64, String)> = p
        .get("options")
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let idx = v
                        .get("index")
                        .and_then(|i| {
                            i.as_i64()
                                .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
                        })
                        .unwrap_or(i64::MAX);
                    (idx, k.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    options.sort();
    let lookup = p.get("lookup").filter(|l| l.is_object()).map(|l| {
        let app = l
            .pointer("/relatedApp/app")
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let key = l
            .get("relatedKeyField")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        (app, key)
    });
    let columns = p
        .get("fields")
        .and_then(Value::as_object)
        .map(|cols| {
            cols.iter()
                .map(|(c, v)| (c.clone(), parse_field(c, v)))
                .collect()
        })
        .unwrap_or_default();
    let flavour = [s("protocol"), s("format")]
        .into_iter()
        .find(|v| !v.is_empty())
        .map(str::to_string);
    FieldDef {
        code: code.to_string(),
        kind: s("type").to_string(),
        label: {
            let l = s("label");
            if l.is_empty() { code } else { l }.to_string()
        },
        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
        unique: p.get("unique").and_then(Value::as_bool).unwrap_or(false),
        options: options.into_iter().map(|(_, k)| k).collect(),
        lookup,
        flavour,
        columns,
    }
}

/// One app's form.
#[derive(Debug, Clone)]
pub struct Form {
    pub app: String,
    /// `$id` and `$revision` first, then by field code.
    pub fields: Vec<FieldDef>,
    pub updated_time: Option<String>,
}

impl Form {
    pub fn from_properties(app: &str, body: &Value) -> Form {
        let empty = Map::new();
        let props = body
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let mut fields: Vec<FieldDef> = props
            .iter()
            .filter(|(_, p)| has_value(p.get("type").and_then(Value::as_str).unwrap_or("")))
            .map(|(c, p)| parse_field(c, p))
            .collect();
        for (code, kind, label) in [
            (ID, "__ID__", "レコードID"),
            (REVISION, "__REVISION__", "リビジョン"),
        ] {
            if !fields.iter().any(|f| f.code == code) {
                fields.push(parse_field(code, &json!({"type": kind, "label": label})));
            }
        }
        fields.sort_by_key(|f| match f.kind.as_str() {
            "__ID__" => 0,
            "__REVISION__" => 1,
            _ => 2,
        });
        let updated_time = fields
            .iter()
            .find(|f| f.kind == "UPDATED_TIME")
            .map(|f| f.code.clone());
        Form {
            app: app.to_string(),
            fields,
            updated_time,
        }
    }

    pub fn field(&self, code: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.code == code)
    }

    /// The UPDATED_TIME field's code (`更新日時` in Japanese apps), needed to read changes.
    pub fn require_updated_time(&self) -> Result<&str, ConnectorError> {
        (self.updated_time.as_deref()).ok_or_else(|| no_updated_time(&self.app))
    }

    /// The field that names a record to a person (see [`crate::assumed::TITLE_WORDS`]).
    pub fn title_field(&self) -> Option<String> {
        let text = |f: &&FieldDef| f.kind == "SINGLE_LINE_TEXT";
        let named = |word: &str| {
            let word = word.to_lowercase();
            self.fields.iter().filter(text).find(|f| {
                f.code.to_lowercase().contains(&word) || f.label.to_lowercase().contains(&word)
            })
        };
        (crate::assumed::TITLE_WORDS.iter().find_map(|w| named(w)))
            .or_else(|| self.fields.iter().filter(text).find(|f| f.unique))
            .or_else(|| self.fields.iter().find(text))
            .map(|f| f.code.clone())
    }

    /// `record_url`: the app's record page ([`crate::http::Api::record_url`]).
    pub fn schema(&self, name: &str, record_url: Option<String>) -> ObjectSchema {
        ObjectSchema {
            title_field: self.title_field(),
            record_url,
            read_options: vec![],
            id: self.app.clone(),
            name: Text::new(name, name),
            fields: self.fields.iter().map(FieldDef::schema).collect(),
            capabilities: Capabilities {
                read: true,
                create: true,
                update: true,
                delete: true,
                incremental: true,
                private_records: false,
                files: false,
            },
        }
    }
}

/// (account identity, app) → (fetched at, form).
type Entries = HashMap<(String, String), (Instant, Arc<Form>)>;

/// Forms by account identity and app, for `TTL`.
#[derive(Default)]
pub struct FormCache {
    entries: Mutex<Entries>,
    /// Held while a form is fetched: calls served at once by one worker wait for the first
    /// one's answer instead of each asking kintone.
    fetching: Mutex<()>,
}

/// An app without an `更新日時` (UPDATED_TIME) field cannot be read for changes.
pub fn no_updated_time(app: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Unsupported,
        format!("app {app} has no 'updated datetime' field"),
    )
    .with_ja(format!(
        "アプリ{app}に「更新日時」フィールドがありません。フォームに追加してください"
    ))
}

impl FormCache {
    /// The app's form when it is already known (no call).
    pub fn cached(&self, api: &Api, app: &str) -> Option<Arc<Form>> {
        self.fresh(&(api.identity(), app.to_string()))
    }

    pub fn get(&self, api: &Api, app: &str) -> Result<Arc<Form>, ConnectorError> {
        let key = (api.identity(), app.to_string());
        if let Some(form) = self.fresh(&key) {
            return Ok(form);
        }
        let _one_at_a_time = self.fetching.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(form) = self.fresh(&key) {
            return Ok(form);
        }
        let form = Arc::new(fetch(api, app)?);
        self.lock().insert(key, (Instant::now(), form.clone()));
        Ok(form)
    }

    fn fresh(&self, key: &(String, String)) -> Option<Arc<Form>> {
        let entries = self.lock();
        let (at, form) = entries.get(key)?;
        (at.elapsed() < TTL).then(|| form.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub fn fetch(api: &Api, app: &str) -> Result<Form, ConnectorError> {
    let mut params = app_param(app);
    params["lang"] = json!("default");
    let answer = api
        .get("app/form/fields", &params)
        .map_err(|e| e.to_connector(Some(app)))?;
    Ok(Form::from_properties(app, &answer.body))
}

/// The app's name from `app.json`, if the token may read it.
pub fn app_name(api: &Api, app: &str) -> Result<Option<String>, ConnectorError> {
    match api.get("app", &json!({ "id": app })) {
        Ok(a) => Ok(a
            .body
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)),
        Err(e) => {
            let ce = e.to_connector(Some(app));
            match ce.kind {
                // Some tokens may not read app settings; the form still names the app by id.
                ErrorKind::PermissionDenied => Ok(None),
                _ => Err(ce),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_maps_types_and_keeps_japanese_codes() {
        let body = json!({"properties": {
            "会社名": {"type":"SINGLE_LINE_TEXT","code":"会社名","label":"会社名","required":true,"unique":true},
            "金額": {"type":"NUMBER","code":"金額","label":"金額"},
            "ランク": {"type":"DROP_DOWN","code":"ランク","label":"ランク","options":{"B":{"label":"B","index":"1"},"A":{"label":"A","index":"0"}}},
            "顧客レコード番号": {"type":"NUMBER","code":"顧客レコード番号","label":"顧客","lookup":{"relatedApp":{"app":"1","code":""},"relatedKeyField":"レコード番号"}},
            "更新日時": {"type":"UPDATED_TIME","code":"更新日時","label":"更新日時"},
            "明細": {"type":"SUBTABLE","code":"明細","fields":{"品名":{"type":"SINGLE_LINE_TEXT","code":"品名","label":"品名"}}},
            "ラベル": {"type":"LABEL","code":"ラベル"}
        }});
        let form = Form::from_properties("2", &body);
        assert_eq!(form.updated_time.as_deref(), Some("更新日時"));
        assert!(form.field("ラベル").is_none());
        let s = form.schema("活動履歴", None);
        let f = |c: &str| s.field(c).unwrap().clone();
        assert_eq!(s.title_field.as_deref(), Some("会社名"));
        assert_eq!(s.fields[0].id, "$id");
        assert!(f("$id").read_only && f("更新日時").read_only);
        assert!(f("会社名").required && f("会社名").unique);
        assert_eq!(f("金額").field_type, FieldType::Number);
        assert_eq!(f("ランク").options, vec!["A", "B"]);
        let lk = f("顧客レコード番号");
        assert_eq!(lk.field_type, FieldType::Number);
        assert_eq!(lk.lookup.unwrap().field, "レコード番号");
        assert_eq!(f("明細").field_type, FieldType::Subtable);
        assert_eq!(form.field("明細").unwrap().columns.len(), 1);
    }
}
