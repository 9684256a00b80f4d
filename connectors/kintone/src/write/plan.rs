//! From SDK write ops to kintone record entries, grouped by the call that carries them:
//! - create → POST records.json;
//! - update by id (with `revision` when an expected version is given) or by match key
//!   (`updateKey`, never creates: `GAIA_RE20` when nothing matches) → PUT records.json;
//! - upsert by match key → PUT records.json with `upsert: true`;
//! - delete by id (with `revisions`) → DELETE records.json.
//!
//! Ops kintone would refuse anyway (unknown field, bad number, unusable key) fail here,
//! without a call.

use connector_sdk::{ConnectorError, ErrorKind, WriteAction, WriteOp};
use serde_json::{json, Value};

use crate::assumed;
use crate::form::Form;
use crate::values::{key_value, record_payload, Refused};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Create,
    Update,
    Upsert,
    Delete,
}

#[derive(Debug, Clone)]
pub struct Planned {
    /// Index of the op in the request.
    pub op: usize,
    pub kind: Kind,
    /// One element of `records[]`: the record itself for a create, `{id|updateKey, record,
    /// revision}` for an update or upsert; for deletes `{id, revision}`.
    pub entry: Value,
    /// The record id when the op names one.
    pub id: Option<String>,
}

/// Either a planned entry or the reason the op cannot be sent.
pub fn plan(form: &Form, index: usize, op: &WriteOp) -> Result<Planned, ConnectorError> {
    let revision = op
        .expected_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::to_string);
    let by_id = op
        .id
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let planned = |kind, entry| Planned {
        op: index,
        kind,
        entry,
        id: by_id.clone(),
    };
    match op.action {
        WriteAction::Delete => {
            let id = by_id.clone().ok_or_else(|| {
                ConnectorError::new(ErrorKind::InvalidData, "a delete needs the record id")
                    .with_ja("削除にはレコードIDが必要です")
            })?;
            Ok(planned(
                Kind::Delete,
                json!({ "id": id, "revision": revision.unwrap_or_else(|| "-1".into()) }),
            ))
        }
        WriteAction::Create => {
            let record = record_payload(form, &op.fields, None).map_err(Refused::into_error)?;
            Ok(planned(Kind::Create, record))
        }
        WriteAction::Upsert | WriteAction::Update => {
            if let Some(id) = &by_id {
                let record = record_payload(form, &op.fields, None).map_err(Refused::into_error)?;
                let mut e = json!({ "id": id, "record": record });
                if let Some(r) = revision {
                    e["revision"] = json!(r);
                }
                return Ok(planned(Kind::Update, e));
            }
            let Some(key) = &op.match_key else {
                if op.action == WriteAction::Upsert {
                    let record =
                        record_payload(form, &op.fields, None).map_err(Refused::into_error)?;
                    return Ok(planned(Kind::Create, record));
                }
                return Err(ConnectorError::new(
                    ErrorKind::InvalidData,
                    "an update needs the record id or a match key",
                )
                .with_ja("更新にはレコードIDまたは照合キーが必要です"));
            };
            let def = form.field(&key.field).filter(|d| d.can_be_update_key());
            let Some(def) = def else {
                return Err(ConnectorError::new(
                    ErrorKind::InvalidSettings,
                    format!(
                        "match key '{}' of app {} must be a single-line text or number field with 'prohibit duplicate values'",
                        key.field, form.app
                    ),
                )
                .with_ja(format!(
                    "照合キー「{}」は、アプリ{}で「値の重複を禁止する」を設定した文字列(1行)または数値フィールドにしてください",
                    key.field, form.app
                ))
                .with_field(key.field.clone()));
            };
            let value = key_value(def, &key.value).map_err(Refused::into_error)?;
            let skip = (!assumed::KEY_FIELD_IN_RECORD).then_some(key.field.as_str());
            let record = record_payload(form, &op.fields, skip).map_err(Refused::into_error)?;
            let mut e = json!({
                "updateKey": { "field": key.field, "value": value },
                "record": record,
            });
            if let Some(r) = revision {
                e["revision"] = json!(r);
            }
            let kind = match op.action {
                WriteAction::Upsert => Kind::Upsert,
                _ => Kind::Update,
            };
            Ok(planned(kind, e))
        }
    }
}

/// The body of one call of `kind` carrying `entries` (for a direct call or a bulkRequest).
pub fn payload(app: &str, kind: Kind, entries: &[&Value]) -> Value {
    match kind {
        Kind::Create => json!({ "app": app, "records": entries }),
        Kind::Update => json!({ "app": app, "records": entries }),
        Kind::Upsert => json!({ "app": app, "upsert": true, "records": entries }),
        Kind::Delete => {
            let ids: Vec<&Value> = entries.iter().filter_map(|e| e.get("id")).collect();
            let revs: Vec<&Value> = entries.iter().filter_map(|e| e.get("revision")).collect();
            if revs.iter().all(|r| r.as_str() == Some("-1")) {
                json!({ "app": app, "ids": ids })
            } else {
                json!({ "app": app, "ids": ids, "revisions": revs })
            }
        }
    }
}

pub fn method(kind: Kind) -> &'static str {
    match kind {
        Kind::Create => "POST",
        Kind::Update | Kind::Upsert => "PUT",
        Kind::Delete => "DELETE",
    }
}
