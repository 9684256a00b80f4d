//! Writes of contacts and to-dos, one document per request (DAS has no batch): create → POST
//! `?form=&computewithform=true`; update → PATCH (only the items sent, §2.4) after reading the
//! document (an unchanged record is not written); delete → DELETE. `expected_version` becomes
//! `If-Unmodified-Since`, and a 412 the outcome `conflict` (§2.5). The version a write answers
//! is the document's `@modified` read back.

use connector_sdk::{
    ConnectorError, ErrorKind, WriteAction, WriteOp, WriteOutcome, WriteRequest, WriteResult,
};
use reqwest::Method;
use serde_json::{Map, Value};

use crate::docs;
use crate::errors;
use crate::find::find;
use crate::http::Api;
use crate::objects::DocObject;
use crate::values::{from_item, http_date, item, normalize, parse_time, text_of, to_item};

/// What one op came to.
pub struct Done {
    pub outcome: WriteOutcome,
    pub id: Option<String>,
    pub version: Option<String>,
    pub error: Option<ConnectorError>,
}

impl Done {
    pub fn ok(outcome: WriteOutcome, id: String, version: Option<String>) -> Self {
        Done {
            outcome,
            id: Some(id),
            version,
            error: None,
        }
    }

    pub fn conflict(id: Option<String>, e: ConnectorError) -> Self {
        Done {
            outcome: WriteOutcome::Conflict,
            id,
            version: None,
            error: Some(e),
        }
    }
}

/// Errors that belong to one record; any other fails the whole call while nothing is written
/// yet (the hub then retries, refreshes or stops), and only its op afterwards.
fn per_record(e: &ConnectorError) -> bool {
    matches!(
        e.kind,
        ErrorKind::InvalidData | ErrorKind::NotFound | ErrorKind::Conflict
    )
}

/// Runs each op through `one`, in order: one result per op.
pub fn run_ops(
    ops: &[WriteOp],
    mut one: impl FnMut(&WriteOp) -> Result<Done, ConnectorError>,
) -> Result<Vec<WriteResult>, ConnectorError> {
    let mut out = Vec::with_capacity(ops.len());
    let mut wrote_any = false;
    for op in ops {
        let done = match one(op) {
            Ok(d) => d,
            Err(e) if !per_record(&e) && !wrote_any => return Err(e),
            Err(e) => Done {
                outcome: WriteOutcome::Error,
                id: op.id.clone(),
                version: None,
                error: Some(e),
            },
        };
        wrote_any |= matches!(
            done.outcome,
            WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Deleted
        );
        out.push(WriteResult {
            op_id: op.op_id.clone(),
            outcome: done.outcome,
            id: done.id,
            modified_at: done.version.clone(),
            version: done.version,
            error: done.error,
        });
    }
    Ok(out)
}

pub fn write(
    api: &Api,
    obj: &DocObject,
    req: &WriteRequest,
) -> Result<Vec<WriteResult>, ConnectorError> {
    run_ops(&req.ops, |op| one(api, obj, op))
}

/// The op's fields as DAS items, refusing unknown and computed fields by name.
fn body(obj: &DocObject, op: &WriteOp) -> Result<Map<String, Value>, ConnectorError> {
    let mut fields = op.fields.clone();
    if let Some(k) = &op.match_key {
        if !fields.contains_key(&k.field) {
            fields.insert(k.field.clone(), k.value.clone());
        }
    }
    let mut out = Map::new();
    for (k, v) in &fields {
        let f = obj
            .field(k)
            .ok_or_else(|| errors::unknown_field(obj.id, k))?;
        if f.read_only {
            return Err(errors::read_only(f.id));
        }
        out.insert(f.id.to_string(), to_item(f.id, v, f.ty, f.options)?);
    }
    Ok(out)
}

/// The record a write addresses: its id, else the one document matching the key; `None`
/// when there is none (an upsert then creates).
fn target(api: &Api, obj: &DocObject, op: &WriteOp) -> Result<Option<String>, ConnectorError> {
    if let Some(id) = op.id.as_ref().filter(|s| !s.is_empty()) {
        return Ok(Some(id.clone()));
    }
    let Some(k) = op
        .match_key
        .as_ref()
        .filter(|k| !text_of(&k.value).is_empty())
    else {
        return Ok(None);
    };
    let found = find(api, obj, &k.field, &k.value)?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(errors::many_matches(
            &k.field,
            &text_of(&k.value),
            many.len(),
        )),
    }
}

/// `If-Unmodified-Since` from the version the hub expects (`@modified`, RFC 3339).
fn precondition(op: &WriteOp) -> Result<Vec<(&'static str, String)>, ConnectorError> {
    match op.expected_version.as_deref() {
        None => Ok(Vec::new()),
        Some(v) => {
            let t = parse_time(v).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!("expected version '{v}' is not a Notes modification time"),
                )
                .with_ja(format!("期待するバージョン「{v}」を解釈できません"))
            })?;
            Ok(vec![("If-Unmodified-Since", http_date(t))])
        }
    }
}

/// Reads the document back for the version the write produced.
fn version_of(api: &Api, unid: &str) -> Result<Option<String>, ConnectorError> {
    Ok(docs::fetch(api, unid)?
        .as_ref()
        .and_then(docs::modified)
        .map(crate::values::iso))
}

fn one(api: &Api, obj: &DocObject, op: &WriteOp) -> Result<Done, ConnectorError> {
    let items = if op.action == WriteAction::Delete {
        Map::new()
    } else {
        body(obj, op)?
    };
    match op.action {
        WriteAction::Create => create(api, obj, items),
        WriteAction::Delete => match target(api, obj, op)? {
            Some(id) => delete(api, op, &id),
            None => Err(match &op.match_key {
                Some(k) => errors::no_match(&k.field, &text_of(&k.value)),
                None => errors::no_target(),
            }),
        },
        WriteAction::Upsert | WriteAction::Update => match target(api, obj, op)? {
            Some(id) => update(api, obj, op, &id, items),
            None if op.action == WriteAction::Upsert => create(api, obj, items),
            None => Err(match &op.match_key {
                Some(k) => errors::no_match(&k.field, &text_of(&k.value)),
                None => errors::no_target(),
            }),
        },
    }
}

fn create(api: &Api, obj: &DocObject, items: Map<String, Value>) -> Result<Done, ConnectorError> {
    for f in obj.fields.iter().filter(|f| f.required) {
        if items.get(f.id).is_none_or(|v| text_of(v).trim().is_empty()) {
            return Err(errors::missing(f.id));
        }
    }
    let query = [
        ("form", obj.form.to_string()),
        ("computewithform", "true".to_string()),
    ];
    let answer = api
        .send(
            Method::POST,
            &["api", "data", "documents"],
            &query,
            &[],
            Some(&Value::Object(items)),
        )?
        .ok(&format!("creating a {} document", obj.form))?;
    let unid = answer
        .location
        .as_deref()
        .and_then(docs::id_from_location)
        .ok_or_else(|| errors::malformed("the Location of the new document"))?;
    let version = version_of(api, &unid)?;
    Ok(Done::ok(WriteOutcome::Created, unid, version))
}

fn update(
    api: &Api,
    obj: &DocObject,
    op: &WriteOp,
    unid: &str,
    items: Map<String, Value>,
) -> Result<Done, ConnectorError> {
    let current = docs::fetch(api, unid)?.ok_or_else(|| errors::not_found(unid))?;
    let stamp = docs::modified(&current);
    if let (Some(expected), Some(now)) = (op.expected_version.as_deref(), stamp) {
        if parse_time(expected).is_some_and(|e| now > e) {
            return Ok(Done::conflict(
                Some(unid.to_string()),
                errors::changed_since(unid, expected),
            ));
        }
    }
    let same = items.iter().all(|(k, v)| {
        obj.field(k)
            .is_some_and(|f| from_item(item(&current, f.id), f.ty) == normalize(f.id, v, f.ty))
    });
    if same {
        return Ok(Done::ok(
            WriteOutcome::Unchanged,
            unid.to_string(),
            stamp.map(crate::values::iso),
        ));
    }
    let headers = precondition(op)?;
    let answer = api.send(
        Method::PATCH,
        &docs::path(unid),
        &[("computewithform", "true".to_string())],
        &headers,
        Some(&Value::Object(items)),
    )?;
    if answer.status == 412 {
        return Ok(Done::conflict(
            Some(unid.to_string()),
            errors::status_error(412, &answer.body, None, &format!("updating {unid}")),
        ));
    }
    answer.ok(&format!("updating document {unid}"))?;
    let version = version_of(api, unid)?;
    Ok(Done::ok(WriteOutcome::Updated, unid.to_string(), version))
}

fn delete(api: &Api, op: &WriteOp, unid: &str) -> Result<Done, ConnectorError> {
    let headers = precondition(op)?;
    let answer = api.send(Method::DELETE, &docs::path(unid), &[], &headers, None)?;
    match answer.status {
        // Already gone: what the delete wanted.
        404 => Ok(Done::ok(WriteOutcome::Deleted, unid.to_string(), None)),
        409 | 412 => Ok(Done::conflict(
            Some(unid.to_string()),
            errors::status_error(
                answer.status,
                &answer.body,
                None,
                &format!("deleting {unid}"),
            ),
        )),
        _ => {
            answer.ok(&format!("deleting document {unid}"))?;
            Ok(Done::ok(WriteOutcome::Deleted, unid.to_string(), None))
        }
    }
}
