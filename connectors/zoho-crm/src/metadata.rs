//! Modules and their fields (`/settings/modules`, `/settings/fields`) as SDK object schemas,
//! and a short-lived cache of field metadata, which reads (the `fields` parameter) and writes
//! (value types) both need on every call.

use connector_sdk::{
    Capabilities, ConnectorError, ErrorKind, FieldSchema, FieldType, LookupRef, ObjectSchema, Text,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::assumed;
use crate::http::Api;

/// Suffix of the derived, read-only field that carries a lookup's related name
/// (`Account_Name` holds the related id, `Account_Name.name` its name).
pub const NAME_SUFFIX: &str = ".name";

/// How long field metadata is reused: a run's pages share it, a new field shows up soon.
const CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, PartialEq)]
pub struct FieldMeta {
    pub api_name: String,
    pub label: String,
    pub data_type: String,
    pub required: bool,
    pub unique: bool,
    pub read_only: bool,
    pub options: Vec<String>,
    pub lookup_module: Option<String>,
}

impl FieldMeta {
    pub fn is_lookup(&self) -> bool {
        is_lookup_type(&self.data_type)
    }
}

pub fn is_lookup_type(data_type: &str) -> bool {
    matches!(data_type, "lookup" | "ownerlookup" | "userlookup")
}

fn flag(v: &Value, key: &str) -> bool {
    match v.get(key) {
        Some(Value::Bool(b)) => *b,
        // `unique` is an object in some API versions: `{}` when not unique.
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

fn text<'v>(v: &'v Value, keys: &[&str]) -> Option<&'v str> {
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

pub fn parse_field(v: &Value, module: &str) -> Option<FieldMeta> {
    let api_name = text(v, &["api_name"])?.to_string();
    let data_type = text(v, &["data_type"]).unwrap_or("text").to_string();
    let options = v
        .get("pick_list_values")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| text(p, &["actual_value", "display_value"]).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let lookup_module = v
        .pointer("/lookup/module/api_name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            (data_type == "ownerlookup" || data_type == "userlookup").then(|| "Users".into())
        });
    let system_unique = assumed::SYSTEM_DUPLICATE_CHECK
        .iter()
        .any(|(m, f)| *m == module && *f == api_name);
    Some(FieldMeta {
        label: text(v, &["display_label", "field_label"])
            .unwrap_or(&api_name)
            .to_string(),
        required: flag(v, "system_mandatory"),
        unique: flag(v, "unique") || system_unique,
        read_only: flag(v, "read_only") || flag(v, "field_read_only"),
        options,
        lookup_module,
        data_type,
        api_name,
    })
}

/// Zoho `data_type` → SDK type. Unknown types travel as `other` (JSON kept as is).
pub fn field_type(data_type: &str) -> FieldType {
    match data_type {
        "text" | "autonumber" => FieldType::Text,
        "textarea" => FieldType::LongText,
        "email" => FieldType::Email,
        "phone" => FieldType::Phone,
        "website" | "url" => FieldType::Url,
        "picklist" => FieldType::Picklist,
        "multiselectpicklist" => FieldType::MultiPicklist,
        "lookup" => FieldType::Lookup,
        "ownerlookup" | "userlookup" => FieldType::User,
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "integer" | "bigint" | "double" | "currency" | "decimal" | "percent" => FieldType::Number,
        "boolean" => FieldType::Boolean,
        "fileupload" | "imageupload" => FieldType::File,
        "subform" => FieldType::Subtable,
        _ => FieldType::Other,
    }
}

/// The field that names a record ([`crate::assumed::TITLE_FIELDS`]).
fn title_field(fields: &[FieldSchema]) -> Option<String> {
    let text = |f: &&FieldSchema| matches!(f.field_type, FieldType::Text | FieldType::Email);
    (crate::assumed::TITLE_FIELDS.iter())
        .find_map(|t| fields.iter().filter(text).find(|f| f.id == *t))
        .or_else(|| fields.iter().filter(text).find(|f| f.required))
        .map(|f| f.id.clone())
}

/// The web page of a record of `module` for a connection whose API domain is `api_domain`
/// (see [`crate::assumed::RECORD_PAGE`]); `None` off Zoho's own hosts.
pub fn record_url(api_domain: &str, module: &str) -> Option<String> {
    use crate::assumed::{API_HOST_PREFIX, RECORD_PAGE, WEB_HOST_PREFIX};
    let tld = api_domain
        .trim_end_matches('/')
        .strip_prefix(API_HOST_PREFIX)?;
    // Canada's API is zohoapis.ca but its web UI zohocloud.ca.
    let tld = if tld == "ca" { "zohocloud.ca" } else { tld };
    let host = match tld.strip_prefix("zohocloud.") {
        Some(rest) => format!("https://crm.zohocloud.{rest}"),
        None => format!("{WEB_HOST_PREFIX}{tld}"),
    };
    Some(format!("{host}{}", RECORD_PAGE.replace("{module}", module)))
}

/// `record_url`: the module's web page of a record ([`record_url`]), if known.
pub fn object_schema(
    module: &Value,
    fields: &[FieldMeta],
    record_url: Option<String>,
) -> Option<ObjectSchema> {
    let id = text(module, &["api_name"])?.to_string();
    let label = text(module, &["plural_label", "module_name", "singular_label"])
        .unwrap_or(&id)
        .to_string();
    let allowed = |k: &str| module.get(k).and_then(Value::as_bool).unwrap_or(true);
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        out.push(FieldSchema {
            id: f.api_name.clone(),
            label: f.label.clone(),
            field_type: field_type(&f.data_type),
            required: f.required,
            unique: f.unique,
            read_only: f.read_only,
            options: f.options.clone(),
            lookup: f.lookup_module.as_ref().map(|m| LookupRef {
                object: m.clone(),
                field: "id".into(),
            }),
        });
        if f.is_lookup() {
            out.push(FieldSchema {
                id: format!("{}{NAME_SUFFIX}", f.api_name),
                label: format!("{} (name)", f.label),
                field_type: FieldType::Text,
                required: false,
                unique: false,
                read_only: true,
                options: Vec::new(),
                lookup: None,
            });
        }
    }
    Some(ObjectSchema {
        title_field: title_field(&out),
        record_url,
        read_options: vec![],
        id,
        name: Text::new(label.clone(), label),
        fields: out,
        capabilities: Capabilities {
            read: allowed("viewable"),
            create: allowed("creatable"),
            update: allowed("editable"),
            delete: allowed("deletable"),
            incremental: true,
            private_records: false,
            files: false,
        },
    })
}

/// The modules the API can reach (`api_supported`).
pub fn fetch_modules(api: &Api) -> Result<Vec<Value>, ConnectorError> {
    let answer = api.get("settings/modules", &[], None)?;
    Ok(answer
        .body
        .get("modules")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|m| m.get("api_supported").and_then(Value::as_bool) == Some(true))
                .cloned()
                .collect()
        })
        .unwrap_or_default())
}

pub fn fetch_fields(api: &Api, module: &str) -> Result<Vec<FieldMeta>, ConnectorError> {
    let answer = api.get("settings/fields", &[("module", module.to_string())], None)?;
    let fields = answer
        .body
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::NotFound,
                format!("Zoho CRM has no fields for module '{module}'"),
            )
            .with_ja(format!("モジュール「{module}」の項目を取得できません"))
        })?;
    Ok(fields
        .iter()
        .filter_map(|f| parse_field(f, module))
        .collect())
}

type CacheKey = (String, u64, String);
type CacheMap = HashMap<CacheKey, (Instant, Arc<Vec<FieldMeta>>)>;

/// Field metadata per org (base URL + token digest) and module, for a few minutes.
#[derive(Default)]
pub struct FieldCache {
    entries: Mutex<CacheMap>,
    /// Held while fields are fetched: calls served at once by one worker wait for the first
    /// one's answer instead of each asking Zoho.
    fetching: Mutex<()>,
}

impl FieldCache {
    pub fn fields(&self, api: &Api, module: &str) -> Result<Arc<Vec<FieldMeta>>, ConnectorError> {
        let (base, token) = api.identity();
        let key = (base, token, module.to_string());
        if let Some(f) = self.fresh(&key) {
            return Ok(f);
        }
        let _one_at_a_time = self.fetching.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = self.fresh(&key) {
            return Ok(f);
        }
        let fresh = Arc::new(fetch_fields(api, module)?);
        let mut map = self.lock();
        map.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        map.insert(key, (Instant::now(), fresh.clone()));
        Ok(fresh)
    }

    fn fresh(&self, key: &CacheKey) -> Option<Arc<Vec<FieldMeta>>> {
        let map = self.lock();
        let (at, f) = map.get(key)?;
        (at.elapsed() < CACHE_TTL).then(|| f.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheMap> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_keep_api_names_and_flags() {
        let f = parse_field(
            &json!({"api_name": "Account_Name", "display_label": "取引先名", "data_type": "text",
                    "system_mandatory": true, "unique": {}}),
            "Accounts",
        )
        .unwrap();
        assert!(
            f.required && f.unique,
            "system duplicate-check field is unique"
        );
        let l = parse_field(
            &json!({"api_name": "Account_Name", "data_type": "lookup",
                    "lookup": {"module": {"api_name": "Accounts", "id": "1"}}}),
            "Contacts",
        )
        .unwrap();
        assert!(!l.unique);
        let s = object_schema(
            &json!({"api_name": "Contacts", "plural_label": "連絡先"}),
            &[l],
            record_url("https://www.zohoapis.jp", "Contacts"),
        )
        .unwrap();
        assert_eq!(
            s.record_url.as_deref(),
            Some("https://crm.zoho.jp/crm/tab/Contacts/{id}")
        );
        assert_eq!(record_url("http://127.0.0.1:9/", "Contacts"), None);
        assert_eq!(s.fields[0].field_type, FieldType::Lookup);
        assert_eq!(s.fields[0].lookup.as_ref().unwrap().object, "Accounts");
        assert_eq!(s.fields[1].id, "Account_Name.name");
        assert!(s.fields[1].read_only);
    }
}
