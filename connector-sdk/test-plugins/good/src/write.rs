//! Upserts, creates, updates and deletes against one table, one result per operation.

use connector_sdk::{
    ConnectorError, ErrorKind, Fields, WriteAction, WriteOp, WriteOutcome, WriteResult,
};
use serde_json::Value;

use crate::objects::ObjectDef;
use crate::store::{Stored, Tenant};

fn op_error(op: &WriteOp, err: ConnectorError) -> WriteResult {
    WriteResult {
        op_id: op.op_id.clone(),
        outcome: WriteOutcome::Error,
        id: op.id.clone(),
        version: None,
        modified_at: None,
        error: Some(err),
    }
}

fn done(op: &WriteOp, outcome: WriteOutcome, rec: &Stored) -> WriteResult {
    WriteResult {
        op_id: op.op_id.clone(),
        outcome,
        id: Some(rec.id.to_string()),
        version: Some(rec.version.to_string()),
        modified_at: Some(rec.modified_at()),
        error: None,
    }
}

fn unknown_field(def: &ObjectDef, field: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("object {} has no field '{field}'", def.id),
    )
    .with_code("unknown_field")
    .with_ja(format!("フィールド「{field}」は存在しません"))
    .with_field(field)
}

/// The live record an operation is about: by id, else by match key.
fn target(tenant: &Tenant, def: &ObjectDef, op: &WriteOp) -> Result<Option<u64>, ConnectorError> {
    let Some(table) = tenant.tables.get(def.id) else {
        return Ok(None);
    };
    if let Some(id) = &op.id {
        let found = id
            .parse::<u64>()
            .ok()
            .filter(|n| table.records.get(n).is_some_and(|r| !r.deleted));
        return match found {
            Some(n) => Ok(Some(n)),
            None if op.action == WriteAction::Upsert => Ok(None),
            None => Err(ConnectorError::new(
                ErrorKind::NotFound,
                format!("no record {id} in {}", def.id),
            )),
        };
    }
    if let Some(key) = &op.match_key {
        if def.field(&key.field).is_none() {
            return Err(unknown_field(def, &key.field));
        }
        return Ok(table
            .records
            .values()
            .find(|r| !r.deleted && r.fields.get(&key.field) == Some(&key.value))
            .map(|r| r.id));
    }
    Ok(None)
}

/// Another live record already holds a unique field's value.
fn unique_clash(
    tenant: &Tenant,
    def: &ObjectDef,
    fields: &Fields,
    except: Option<u64>,
) -> Option<ConnectorError> {
    let table = tenant.tables.get(def.id)?;
    def.fields.iter().filter(|f| f.unique).find_map(|f| {
        let value = fields.get(f.id)?;
        let clash = table
            .records
            .values()
            .any(|r| !r.deleted && Some(r.id) != except && r.fields.get(f.id) == Some(value));
        clash.then(|| {
            ConnectorError::new(
                ErrorKind::InvalidData,
                format!("{} '{}' already exists", f.id, value_text(value)),
            )
            .with_code("duplicate")
            .with_field(f.id)
        })
    })
}

fn value_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

pub fn apply(tenant: &mut Tenant, def: &ObjectDef, op: &WriteOp) -> WriteResult {
    if let Some(field) = op.fields.keys().find(|k| def.field(k).is_none()) {
        return op_error(op, unknown_field(def, field));
    }
    let found = match target(tenant, def, op) {
        Ok(f) => f,
        Err(e) => return op_error(op, e),
    };
    let seq = tenant.seq + 1;
    let Some(table) = tenant.tables.get_mut(def.id) else {
        return op_error(
            op,
            ConnectorError::new(ErrorKind::NotFound, "no such object"),
        );
    };
    if let (Some(id), Some(expected)) = (found, &op.expected_version) {
        if table
            .records
            .get(&id)
            .map(|r| r.version.to_string())
            .as_ref()
            != Some(expected)
        {
            let mut r = op_error(
                op,
                ConnectorError::new(ErrorKind::Conflict, "the record changed"),
            );
            r.outcome = WriteOutcome::Conflict;
            return r;
        }
    }
    match (op.action, found) {
        (WriteAction::Delete, Some(id)) => {
            let Some(rec) = table.records.get_mut(&id) else {
                return op_error(op, ConnectorError::new(ErrorKind::NotFound, "gone"));
            };
            rec.deleted = true;
            rec.version += 1;
            rec.seq = seq;
            tenant.seq = seq;
            let rec = rec.clone();
            done(op, WriteOutcome::Deleted, &rec)
        }
        (WriteAction::Delete | WriteAction::Update, None) => op_error(
            op,
            ConnectorError::new(ErrorKind::NotFound, format!("no such record in {}", def.id))
                .with_ja("対象のレコードがありません"),
        ),
        (WriteAction::Create, Some(_)) => op_error(
            op,
            ConnectorError::new(ErrorKind::InvalidData, "the record already exists")
                .with_code("duplicate"),
        ),
        (WriteAction::Upsert | WriteAction::Update, Some(id)) => {
            let Some(old) = table.records.get(&id).cloned() else {
                return op_error(op, ConnectorError::new(ErrorKind::NotFound, "gone"));
            };
            let mut merged = old.fields.clone();
            merged.extend(op.fields.clone());
            if merged == old.fields {
                return done(op, WriteOutcome::Unchanged, &old);
            }
            if let Some(e) = unique_clash(tenant, def, &merged, Some(id)) {
                return op_error(op, e);
            }
            let Some(rec) = tenant
                .tables
                .get_mut(def.id)
                .and_then(|t| t.records.get_mut(&id))
            else {
                return op_error(op, ConnectorError::new(ErrorKind::NotFound, "gone"));
            };
            rec.fields = merged;
            rec.version += 1;
            rec.seq = seq;
            let rec = rec.clone();
            tenant.seq = seq;
            done(op, WriteOutcome::Updated, &rec)
        }
        (WriteAction::Upsert | WriteAction::Create, None) => {
            let mut fields = op.fields.clone();
            if let Some(key) = &op.match_key {
                fields
                    .entry(key.field.clone())
                    .or_insert_with(|| key.value.clone());
            }
            if let Some(f) = def.fields.iter().find(|f| {
                f.required
                    && fields
                        .get(f.id)
                        .is_none_or(|v| v.is_null() || v.as_str() == Some(""))
            }) {
                return op_error(
                    op,
                    ConnectorError::new(
                        ErrorKind::InvalidData,
                        format!("field '{}' is required", f.id),
                    )
                    .with_code("required")
                    .with_field(f.id),
                );
            }
            if let Some(e) = unique_clash(tenant, def, &fields, None) {
                return op_error(op, e);
            }
            let Some(table) = tenant.tables.get_mut(def.id) else {
                return op_error(
                    op,
                    ConnectorError::new(ErrorKind::NotFound, "no such object"),
                );
            };
            table.next_id += 1;
            let rec = Stored {
                id: table.next_id,
                seq,
                version: 1,
                deleted: false,
                fields,
            };
            table.records.insert(rec.id, rec.clone());
            tenant.seq = seq;
            done(op, WriteOutcome::Created, &rec)
        }
    }
}
