//! Record writes (reference §4): insert, update, upsert with `duplicate_check_fields`, delete.
//! Every call answers one entry per input in order; the HTTP status says all, some or none.

use super::assumed;
use super::errors::{json_response, ZohoError};
use super::model::{parse_time, OrgData, Record};
use super::schema::{Field, CREATED_TIME, FULL_NAME, MODIFIED_TIME, OWNER};
use super::values::{
    display_name, json_path, mandatory_missing, parse_input, write_details, Change,
};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const MAX_WRITE: usize = 100;

#[derive(Debug, Clone)]
pub enum Mode {
    Insert,
    /// `path_id` for `PUT /{module}/{id}`.
    Update {
        path_id: Option<u64>,
    },
    Upsert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inserted,
    Updated,
    Failed,
}

/// Options only the sandbox's own bulk route uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extra {
    /// Honour `Created_Time` / `Modified_Time` in the input (seeding history for tests).
    pub keep_times: bool,
}

/// The `data` array of a write body and its `duplicate_check_fields`.
pub fn parse_body(body: &[u8], max: usize) -> Result<(Vec<Value>, Vec<String>), ZohoError> {
    let v: Value = serde_json::from_slice(body).map_err(|_| {
        ZohoError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_DATA",
            "body is not valid JSON",
        )
    })?;
    let data = match v.get("data") {
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ZohoError::invalid_param("data", "data must be an array")),
        None => return Err(ZohoError::missing_param("data")),
    };
    if data.is_empty() {
        return Err(ZohoError::invalid_param("data", "the data array is empty"));
    }
    if data.len() > max {
        return Err(ZohoError::limit(
            "data",
            max,
            format!("the number of records exceeds the limit of {max}"),
        ));
    }
    let dup = match v.get("duplicate_check_fields") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s.split(',').map(|x| x.trim().to_string()).collect(),
        _ => Vec::new(),
    };
    Ok((data, dup))
}

/// `duplicate_check_fields` must be system duplicate-check or unique fields of the module;
/// empty means the module's defaults (§4).
pub fn dup_fields(
    org: &OrgData,
    midx: usize,
    given: &[String],
) -> Result<Vec<&'static Field>, ZohoError> {
    let schema = org.modules[midx].schema;
    let allowed = schema.default_dup_fields();
    let names: Vec<&str> = if given.is_empty() {
        allowed.clone()
    } else {
        given.iter().map(String::as_str).collect()
    };
    names
        .into_iter()
        .map(|n| {
            schema
                .field(n)
                .filter(|f| allowed.contains(&f.api_name))
                .ok_or_else(|| {
                    ZohoError::new(
                        StatusCode::BAD_REQUEST,
                        "INVALID_DATA",
                        "the field cannot be used for duplicate check",
                    )
                    .details(json!({"api_name": n, "param": "duplicate_check_fields"}))
                })
        })
        .collect()
}

fn item_id(item: &Map<String, Value>) -> Option<Option<u64>> {
    match item.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().parse().ok()),
        Some(Value::Number(n)) => Some(n.as_u64()),
        Some(_) => Some(None),
    }
}

fn id_error(idx: usize) -> ZohoError {
    ZohoError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_DATA",
        "the related id given seems to be invalid",
    )
    .details(json!({"api_name": "id", "json_path": json_path(idx, "id")}))
}

/// Runs one batch against the org, in order, and returns the per-record entries.
pub fn write_batch(
    org: &mut OrgData,
    midx: usize,
    items: &[Value],
    mode: &Mode,
    dup: &[&'static Field],
    now: i64,
    extra: Extra,
) -> Vec<(Outcome, Value)> {
    items
        .iter()
        .enumerate()
        .map(
            |(idx, item)| match write_one(org, midx, idx, item, mode, dup, now, extra) {
                Ok((outcome, v)) => (outcome, v),
                Err(e) => (Outcome::Failed, e.body()),
            },
        )
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn write_one(
    org: &mut OrgData,
    midx: usize,
    idx: usize,
    item: &Value,
    mode: &Mode,
    dup: &[&'static Field],
    now: i64,
    extra: Extra,
) -> Result<(Outcome, Value), ZohoError> {
    let Some(input) = item.as_object() else {
        return Err(
            ZohoError::new(StatusCode::BAD_REQUEST, "INVALID_DATA", "invalid data")
                .details(json!({"json_path": format!("$.data[{idx}]")})),
        );
    };
    let md = &org.modules[midx];
    let changes = parse_input(org, md, input, idx)?;

    let (existing, dup_field) = match mode {
        Mode::Insert => (None, None),
        Mode::Update { path_id } => {
            let id = match (path_id, item_id(input)) {
                (Some(p), _) => *p,
                (None, Some(Some(id))) => id,
                (None, Some(None)) => return Err(id_error(idx)),
                (None, None) => return Err(mandatory_missing(idx, "id")),
            };
            (Some(md.get(id).ok_or_else(|| id_error(idx))?), None)
        }
        Mode::Upsert => {
            let mut found = None;
            for fd in dup {
                let given = changes.iter().find(|(f, _)| f.api_name == fd.api_name);
                if let Some((_, Some(v))) = given {
                    if let Some(id) = md.find_by(fd.api_name, v).first() {
                        found = md.get(*id).map(|r| (r, fd.api_name));
                        break;
                    }
                }
            }
            match found {
                Some((r, f)) => (Some(r), Some(f)),
                None => (None, None),
            }
        }
    };

    let mut fields = existing.map(|r| r.fields.clone()).unwrap_or_default();
    if existing.is_none() {
        fields.insert(OWNER, Value::String(org.info.user.id.to_string()));
    }
    apply(&mut fields, &changes);
    if md.schema.field(FULL_NAME).is_some() {
        let get = |k: &str| {
            fields
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let full = assumed::full_name(&get("Last_Name"), &get("First_Name"));
        fields.insert(FULL_NAME, Value::String(full));
    }
    for fd in md.schema.fields.iter().filter(|f| f.mandatory) {
        if !fields.contains_key(fd.api_name) {
            return Err(mandatory_missing(idx, fd.api_name));
        }
    }
    let self_id = existing.map(|r| r.id);
    for fd in md.schema.fields.iter().filter(|f| f.unique) {
        let Some(v) = fields.get(fd.api_name) else {
            continue;
        };
        if let Some(other) = md
            .find_by(fd.api_name, v)
            .into_iter()
            .find(|id| Some(*id) != self_id)
        {
            return Err(duplicate(org, midx, idx, fd, other));
        }
    }

    let user = org.info.user.id;
    let keep = |k: &str| {
        extra
            .keep_times
            .then(|| input.get(k).and_then(Value::as_str).and_then(parse_time))
            .flatten()
    };
    let (created, modified) = (keep(CREATED_TIME), keep(MODIFIED_TIME));
    let record = match existing {
        Some(r) => Record {
            id: r.id,
            created: created.unwrap_or(r.created),
            modified: modified.unwrap_or(now),
            created_by: r.created_by,
            modified_by: user,
            fields,
        },
        None => Record {
            id: 0,
            created: created.unwrap_or(now),
            modified: modified.or(created).unwrap_or(now),
            created_by: user,
            modified_by: user,
            fields,
        },
    };
    let inserted = existing.is_none();
    let mut record = record;
    if inserted {
        record.id = org.next_id();
    }
    let details = write_details(org, &record);
    org.modules[midx].put(record);

    let (outcome, message) = if inserted {
        (Outcome::Inserted, "record added")
    } else {
        (Outcome::Updated, "record updated")
    };
    let mut entry = json!({
        "code": "SUCCESS",
        "details": details,
        "message": message,
        "status": "success",
    });
    if matches!(mode, Mode::Upsert) {
        entry["action"] = json!(if inserted { "insert" } else { "update" });
        entry["duplicate_field"] = json!(dup_field);
    }
    Ok((outcome, entry))
}

fn apply(fields: &mut BTreeMap<&'static str, Value>, changes: &[Change]) {
    for (fd, v) in changes {
        match v {
            Some(v) => {
                fields.insert(fd.api_name, v.clone());
            }
            None => {
                fields.remove(fd.api_name);
            }
        }
    }
}

fn duplicate(org: &OrgData, midx: usize, idx: usize, fd: &Field, other: u64) -> ZohoError {
    let md = &org.modules[midx];
    let u = &org.info.user;
    ZohoError::new(StatusCode::BAD_REQUEST, "DUPLICATE_DATA", "duplicate data").details(json!({
        "api_name": fd.api_name,
        "json_path": json_path(idx, fd.api_name),
        "duplicate_record": {
            "id": other.to_string(),
            "Owner": {"name": u.full_name(), "id": u.id.to_string()},
            "module": {"api_name": md.schema.api_name, "id": super::metadata::module_id(org, md.schema).to_string()},
            "display_name": md.get(other).map(|r| display_name(md, r)),
        },
    }))
}

/// `DELETE ?ids=` (§4): one entry per id.
pub fn delete_ids(org: &mut OrgData, midx: usize, ids: &[&str], now: i64) -> Vec<(Outcome, Value)> {
    let user = org.info.user.id;
    ids.iter()
        .map(|raw| {
            let md = &mut org.modules[midx];
            let removed = raw.trim().parse::<u64>().ok().and_then(|id| md.remove(id));
            match removed {
                Some(r) => {
                    md.deleted.push(super::model::Deleted {
                        id: r.id,
                        display_name: display_name(md, &r),
                        created_by: r.created_by,
                        deleted_by: user,
                        deleted_time: now,
                        kind: "recycle".into(),
                    });
                    let entry = json!({
                        "code": "SUCCESS",
                        "details": {"id": r.id.to_string()},
                        "message": "record deleted",
                        "status": "success",
                    });
                    (Outcome::Updated, entry)
                }
                None => {
                    let e = ZohoError::new(
                        StatusCode::BAD_REQUEST,
                        "INVALID_DATA",
                        "the related id given seems to be invalid",
                    )
                    .details(json!({"id": raw}));
                    (Outcome::Failed, e.body())
                }
            }
        })
        .collect()
}

/// `{"data":[…]}` with 201/200 when all succeeded, 207 when mixed, and the assumed status when
/// none did.
pub fn respond(results: Vec<(Outcome, Value)>, mode: Option<&Mode>) -> Response {
    let ok = results
        .iter()
        .filter(|(o, _)| *o != Outcome::Failed)
        .count();
    let status = if ok == 0 {
        assumed::ALL_FAILED_STATUS
    } else if ok < results.len() {
        StatusCode::MULTI_STATUS
    } else {
        match mode {
            Some(Mode::Insert) => StatusCode::CREATED,
            Some(Mode::Upsert) if results.iter().all(|(o, _)| *o == Outcome::Inserted) => {
                assumed::UPSERT_ALL_INSERTED_STATUS
            }
            _ => StatusCode::OK,
        }
    };
    let data: Vec<Value> = results.into_iter().map(|(_, v)| v).collect();
    json_response(status, &json!({ "data": data }))
}
