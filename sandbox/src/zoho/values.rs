//! Field values in and out: write-side checks by `data_type` and `length` (INVALID_DATA,
//! MANDATORY_NOT_FOUND, reference §4) and the JSON a record reads as (§8: string ids, `{id,name}`
//! lookups, ISO 8601 datetimes with the user's offset).

use super::assumed;
use super::errors::ZohoError;
use super::model::{fmt_time, parse_time, ModuleData, OrgData, Record};
use super::schema::{self, Field, Kind, CREATED_BY, CREATED_TIME, MODIFIED_BY, MODIFIED_TIME};
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

/// One validated change: `None` clears the field.
pub type Change = (&'static Field, Option<Value>);

pub fn json_path(idx: usize, api_name: &str) -> String {
    format!("$.data[{idx}].{api_name}")
}

fn record_error(code: &'static str, message: &str, details: Value) -> ZohoError {
    ZohoError::new(StatusCode::BAD_REQUEST, code, message).details(details)
}

pub fn invalid_data(idx: usize, fd: &Field, extra: Option<(&str, Value)>) -> ZohoError {
    let mut d = json!({
        "api_name": fd.api_name,
        "json_path": json_path(idx, fd.api_name),
        "expected_data_type": fd.kind.data_type(),
    });
    if let Some((k, v)) = extra {
        d[k] = v;
    }
    record_error("INVALID_DATA", "invalid data", d)
}

pub fn mandatory_missing(idx: usize, api_name: &str) -> ZohoError {
    record_error(
        "MANDATORY_NOT_FOUND",
        "required field not found",
        json!({"api_name": api_name, "json_path": json_path(idx, api_name)}),
    )
}

fn bad_reference(idx: usize, fd: &Field) -> ZohoError {
    record_error(
        "INVALID_DATA",
        "the related id given seems to be invalid",
        json!({"api_name": fd.api_name, "json_path": json_path(idx, fd.api_name)}),
    )
}

/// An id given as `{"id": …}`, a string or a number.
fn reference_id(v: &Value) -> Option<u64> {
    let v = match v {
        Value::Object(o) => o.get("id")?,
        other => other,
    };
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.is_ascii()
        && !s.chars().any(char::is_whitespace)
}

/// Checks one value against its field; `Ok(None)` means "clear".
fn coerce(
    org: &OrgData,
    idx: usize,
    fd: &'static Field,
    v: &Value,
) -> Result<Option<Value>, ZohoError> {
    if v.is_null() {
        return Ok(None);
    }
    let bad = || invalid_data(idx, fd, None);
    let text = |v: &Value| -> Result<Option<String>, ZohoError> {
        let s = v.as_str().ok_or_else(bad)?;
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > fd.length as usize {
            return Err(invalid_data(
                idx,
                fd,
                Some(("maximum_length", json!(fd.length))),
            ));
        }
        Ok(Some(s.to_string()))
    };
    let out = match fd.kind {
        Kind::Text | Kind::TextArea | Kind::Phone | Kind::Website => text(v)?.map(Value::String),
        Kind::Email => match text(v)? {
            Some(s) if plausible_email(&s) => Some(Value::String(s)),
            Some(_) => return Err(bad()),
            None => None,
        },
        Kind::Picklist => match text(v)? {
            Some(s)
                if assumed::PICKLIST_ACCEPTS_UNLISTED
                    || fd.picklist.iter().any(|(a, _)| *a == s) =>
            {
                Some(Value::String(s))
            }
            Some(_) => return Err(bad()),
            None => None,
        },
        Kind::MultiPicklist => {
            let items = v.as_array().ok_or_else(bad)?;
            if items.iter().any(|i| !i.is_string()) {
                return Err(bad());
            }
            (!items.is_empty()).then(|| v.clone())
        }
        Kind::Integer => {
            let n = v
                .as_i64()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(bad)?;
            Some(json!(n))
        }
        Kind::BigInt => Some(json!(v.as_i64().ok_or_else(bad)?)),
        Kind::Double | Kind::Currency => {
            v.as_f64().ok_or_else(bad)?;
            Some(v.clone())
        }
        Kind::Boolean => Some(Value::Bool(v.as_bool().ok_or_else(bad)?)),
        Kind::Date => {
            let s = v.as_str().ok_or_else(bad)?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
            Some(Value::String(s.to_string()))
        }
        Kind::DateTime => {
            let t = v.as_str().and_then(parse_time).ok_or_else(bad)?;
            Some(Value::String(fmt_time(t)))
        }
        Kind::Lookup(target) => {
            let id = reference_id(v).ok_or_else(|| bad_reference(idx, fd))?;
            let exists = schema::module_index(target)
                .and_then(|m| org.modules.get(m))
                .is_some_and(|m| m.get(id).is_some());
            if !exists {
                return Err(bad_reference(idx, fd));
            }
            Some(Value::String(id.to_string()))
        }
        Kind::Owner => {
            let id = reference_id(v).ok_or_else(|| bad_reference(idx, fd))?;
            if id != org.info.user.id {
                return Err(bad_reference(idx, fd));
            }
            Some(Value::String(id.to_string()))
        }
    };
    Ok(out)
}

/// Validates the fields of `data[idx]`: unknown names and wrong values fail the record;
/// read-only system fields are skipped.
pub fn parse_input(
    org: &OrgData,
    module: &ModuleData,
    input: &Map<String, Value>,
    idx: usize,
) -> Result<Vec<Change>, ZohoError> {
    let mut out = Vec::new();
    for (k, v) in input {
        if k == "id" || k.starts_with('$') {
            continue;
        }
        let Some(fd) = module.schema.field(k) else {
            return Err(record_error(
                "INVALID_DATA",
                "invalid data",
                json!({"api_name": k, "json_path": json_path(idx, k)}),
            ));
        };
        if fd.read_only && assumed::IGNORE_READ_ONLY_ON_WRITE {
            continue;
        }
        out.push((fd, coerce(org, idx, fd, v)?));
    }
    Ok(out)
}

/// `{name, id, email}` of a user of the org (owners, Created_By, Modified_By).
pub fn user_ref(org: &OrgData, id: u64) -> Value {
    let u = &org.info.user;
    if u.id == id {
        json!({"name": u.full_name(), "id": id.to_string(), "email": u.email})
    } else {
        json!({"name": null, "id": id.to_string(), "email": null})
    }
}

/// What a lookup to `r` shows as `name`.
pub fn display_name(module: &ModuleData, r: &Record) -> String {
    r.fields
        .get(module.schema.display_field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn render_value(org: &OrgData, r: &Record, fd: &Field) -> Value {
    match fd.api_name {
        CREATED_TIME => return json!(fmt_time(r.created)),
        MODIFIED_TIME => return json!(fmt_time(r.modified)),
        CREATED_BY => return user_ref(org, r.created_by),
        MODIFIED_BY => return user_ref(org, r.modified_by),
        _ => {}
    }
    let Some(v) = r.fields.get(fd.api_name) else {
        return Value::Null;
    };
    match fd.kind {
        Kind::Owner => v
            .as_str()
            .and_then(|s| s.parse().ok())
            .map(|id| user_ref(org, id))
            .unwrap_or(Value::Null),
        Kind::Lookup(target) => {
            let id = v.as_str().and_then(|s| s.parse::<u64>().ok());
            let m = schema::module_index(target).and_then(|i| org.modules.get(i));
            match (id, m) {
                (Some(id), Some(m)) => match m.get(id) {
                    Some(t) => json!({"name": display_name(m, t), "id": id.to_string()}),
                    // The target was deleted: Zoho clears the lookup.
                    None => Value::Null,
                },
                _ => Value::Null,
            }
        }
        _ => v.clone(),
    }
}

/// A record as the API returns it: every field, or `id` plus the requested ones.
pub fn render(
    org: &OrgData,
    module: &ModuleData,
    r: &Record,
    only: Option<&[&'static Field]>,
) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id.to_string()));
    match only {
        Some(fields) => {
            for fd in fields {
                m.insert(fd.api_name.into(), render_value(org, r, fd));
            }
        }
        None => {
            for fd in module.schema.fields {
                m.insert(fd.api_name.into(), render_value(org, r, fd));
            }
        }
    }
    if only.is_none() && module.schema.has_currency() {
        m.insert("$currency_symbol".into(), json!("¥"));
    }
    Value::Object(m)
}

/// The `details` of a successful write (§4).
pub fn write_details(org: &OrgData, r: &Record) -> Value {
    let by = |id: u64| {
        let u = user_ref(org, id);
        json!({"name": u["name"], "id": u["id"]})
    };
    json!({
        "Modified_Time": fmt_time(r.modified),
        "Modified_By": by(r.modified_by),
        "Created_Time": fmt_time(r.created),
        "id": r.id.to_string(),
        "Created_By": by(r.created_by),
    })
}

/// Resolves `fields=` names (§4: mandatory when listing, at most 50).
pub fn requested_fields(module: &ModuleData, list: &str) -> Result<Vec<&'static Field>, ZohoError> {
    let mut out: Vec<&'static Field> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if name == "id" {
            continue;
        }
        let fd = module.schema.field(name).ok_or_else(|| {
            ZohoError::new(StatusCode::BAD_REQUEST, "INVALID_DATA", "invalid data")
                .details(json!({"api_name": name, "param": "fields"}))
        })?;
        if !out.iter().any(|f| f.api_name == fd.api_name) {
            out.push(fd);
        }
    }
    if out.len() > 50 {
        return Err(ZohoError::limit(
            "fields",
            50,
            "more than 50 fields requested",
        ));
    }
    Ok(out)
}
