//! Writing a batch with `import{Entity}`: each op is resolved to a code (its id, a match key, or
//! the code it brings), the records it touches are read first (to answer created / updated /
//! unchanged, honour create-only, update-only and expected versions), then at most two imports
//! run: `update` for existing codes and `insert` for new ones, so neither can do the other's job
//! if the master changed in between. A delete sets the master's deleted flag.

use connector_sdk::{
    ConnectorError, ErrorKind, WriteAction, WriteOp, WriteOutcome, WriteRequest, WriteResult,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};

use crate::assumed::{self, Entity};
use crate::errors;
use crate::http::Api;
use crate::read::{entity_of, export, Exported};
use crate::tenant::Tenant;
use crate::values;

type Item = Map<String, Value>;

fn code_of(item: &Item) -> Option<String> {
    item.get(assumed::CODE).and_then(values::code_text)
}

fn result(op: &WriteOp, outcome: WriteOutcome) -> WriteResult {
    WriteResult {
        op_id: op.op_id.clone(),
        outcome,
        id: None,
        version: None,
        modified_at: None,
        error: None,
    }
}

fn failed(op: &WriteOp, err: ConnectorError) -> WriteResult {
    let outcome = if err.kind == ErrorKind::Conflict && err.code == "version_conflict" {
        WriteOutcome::Conflict
    } else {
        WriteOutcome::Error
    };
    WriteResult {
        error: Some(err),
        ..result(op, outcome)
    }
}

/// Follows `export` pages by code until the listing ends.
fn page_through(
    api: &Api<'_>,
    tenant: &Tenant,
    e: &Entity,
    conditions: &Map<String, Value>,
    mut page: Exported,
    out: &mut HashMap<String, Item>,
) -> Result<(), ConnectorError> {
    loop {
        let last = page.items.iter().rev().find_map(code_of);
        let more = page.has_next;
        for item in page.items {
            if let Some(c) = code_of(&item) {
                out.insert(c, item);
            }
        }
        let (true, Some(last)) = (more, last) else {
            return Ok(());
        };
        let mut c = conditions.clone();
        c.insert(assumed::COND_CODE_FROM.into(), json!(last));
        page = export(api, tenant, e, c, assumed::MAX_PAGE_SIZE)?;
        page.items
            .retain(|i| code_of(i).is_some_and(|code| code > last));
    }
}

/// The stored records (deleted ones included) of these codes.
fn existing(
    api: &Api<'_>,
    tenant: &Tenant,
    e: &Entity,
    codes: &BTreeSet<String>,
) -> Result<HashMap<String, Item>, ConnectorError> {
    let mut out = HashMap::new();
    let (Some(first), Some(last)) = (codes.first(), codes.last()) else {
        return Ok(out);
    };
    let mut cond = Map::new();
    if e.deleted_flag.is_some() {
        cond.insert(assumed::COND_INCLUDE_DELETED.into(), json!(true));
    }
    if first == last {
        cond.insert(assumed::COND_CODE.into(), json!(first));
    } else {
        cond.insert(assumed::COND_CODE_FROM.into(), json!(first));
        cond.insert(assumed::COND_CODE_TO.into(), json!(last));
    }
    let page = export(api, tenant, e, cond.clone(), assumed::MAX_PAGE_SIZE)?;
    if page.has_next && page.total > assumed::PREREAD_RANGE_MAX {
        // A wide range over a large master: fewer calls one code at a time.
        for item in page.items {
            if let Some(c) = code_of(&item).filter(|c| codes.contains(c)) {
                out.insert(c, item);
            }
        }
        for code in codes
            .iter()
            .filter(|c| !out.contains_key(*c))
            .cloned()
            .collect::<Vec<_>>()
        {
            let mut one = Map::new();
            one.insert(assumed::COND_CODE.into(), json!(code));
            if e.deleted_flag.is_some() {
                one.insert(assumed::COND_INCLUDE_DELETED.into(), json!(true));
            }
            let p = export(api, tenant, e, one, 1)?;
            out.extend(
                p.items
                    .into_iter()
                    .filter_map(|i| code_of(&i).map(|c| (c, i))),
            );
        }
        return Ok(out);
    }
    page_through(api, tenant, e, &cond, page, &mut out)?;
    out.retain(|c, _| codes.contains(c));
    Ok(out)
}

/// Live records by the text of `field`, for match keys other than the code.
fn index_by(
    api: &Api<'_>,
    tenant: &Tenant,
    e: &Entity,
    field: &str,
) -> Result<HashMap<String, Vec<String>>, ConnectorError> {
    let cond = Map::new();
    let first = export(api, tenant, e, cond.clone(), assumed::MAX_PAGE_SIZE)?;
    let mut all = HashMap::new();
    page_through(api, tenant, e, &cond, first, &mut all)?;
    let mut index: HashMap<String, Vec<String>> = HashMap::new();
    for (code, item) in all {
        if let Some(v) = item.get(field).and_then(values::code_text) {
            index.entry(v).or_default().push(code);
        }
    }
    Ok(index)
}

fn is_deleted(e: &Entity, item: &Item) -> bool {
    e.deleted_flag
        .is_some_and(|f| item.get(f) == Some(&Value::Bool(true)))
}

/// An op ready to import.
struct Planned {
    op: usize,
    code: String,
    row: Item,
    success: WriteOutcome,
}

/// The API row of an op's fields (without the code) and the code the fields bring.
fn convert(e: &Entity, op: &WriteOp) -> Result<(Item, Option<String>), ConnectorError> {
    let mut row = Item::new();
    let mut code = None;
    for (k, v) in &op.fields {
        if k == assumed::CODE {
            code = values::code_text(v);
            continue;
        }
        if Some(k.as_str()) == e.deleted_flag {
            return Err(errors::bad_field(e, k, false));
        }
        let api = values::to_api(e, k, v)?;
        row.insert(k.clone(), api);
    }
    Ok((row, code))
}

enum Target {
    Code(String),
    /// A match key to look up: field and value text.
    Key(String, String),
    New,
}

fn target_of(e: &Entity, op: &WriteOp) -> Result<Target, ConnectorError> {
    if let Some(id) = op.id.as_deref().filter(|s| !s.is_empty()) {
        return Ok(Target::Code(id.to_string()));
    }
    match &op.match_key {
        Some(k) => {
            let value = values::code_text(&k.value).ok_or_else(|| {
                errors::bad_value(&k.field, "a non-empty match value", "空でない値")
            })?;
            if k.field == assumed::CODE {
                Ok(Target::Code(value))
            } else if e.field(&k.field).is_some() {
                Ok(Target::Key(k.field.clone(), value))
            } else {
                Err(errors::bad_field(e, &k.field, false))
            }
        }
        None => Ok(Target::New),
    }
}

pub fn write(
    api: &Api<'_>,
    tenant: &Tenant,
    req: &WriteRequest,
) -> Result<Vec<WriteResult>, ConnectorError> {
    let e = entity_of(&req.object)?;
    let ops = &req.ops;
    let mut done: Vec<Option<WriteResult>> = vec![None; ops.len()];
    let mut rows: Vec<Option<(Item, Option<String>)>> = vec![None; ops.len()];
    let mut targets: Vec<Option<Target>> = Vec::with_capacity(ops.len());

    for (i, op) in ops.iter().enumerate() {
        let prepared = (|| {
            if op.action == WriteAction::Delete && e.deleted_flag.is_none() {
                return Err(ConnectorError::new(
                    ErrorKind::Unsupported,
                    format!("{} records cannot be deleted through the API", e.en),
                )
                .with_code("delete_unsupported")
                .with_ja(format!("{}は API から削除できません", e.ja)));
            }
            Ok((convert(e, op)?, target_of(e, op)?))
        })();
        match prepared {
            Ok((row, target)) => {
                rows[i] = Some(row);
                targets.push(Some(target));
            }
            Err(err) => {
                done[i] = Some(failed(op, err));
                targets.push(None);
            }
        }
    }

    // Match keys other than the code: one scan of the master per field.
    let mut indexes: HashMap<String, HashMap<String, Vec<String>>> = HashMap::new();
    for t in targets.iter().flatten() {
        if let Target::Key(field, _) = t {
            if !indexes.contains_key(field) {
                indexes.insert(field.clone(), index_by(api, tenant, e, field)?);
            }
        }
    }

    // The code each op writes.
    let mut codes: Vec<Option<String>> = vec![None; ops.len()];
    for (i, op) in ops.iter().enumerate() {
        let (Some(target), Some((_, brought))) = (&targets[i], &rows[i]) else {
            continue;
        };
        let code = match target {
            Target::Code(c) => Ok(c.clone()),
            Target::Key(field, value) => {
                match indexes
                    .get(field)
                    .and_then(|ix| ix.get(value))
                    .map(Vec::as_slice)
                {
                    Some([one]) => Ok(one.clone()),
                    Some(many) if many.len() > 1 => {
                        Err(errors::many_matches(e, field, value, many.len()))
                    }
                    _ if op.action == WriteAction::Upsert || op.action == WriteAction::Create => {
                        brought.clone().ok_or_else(|| errors::missing_code(e))
                    }
                    _ => Err(errors::no_record(e, &format!("{field} = {value}"))),
                }
            }
            Target::New => brought.clone().ok_or_else(|| errors::missing_code(e)),
        };
        let code = code.and_then(|c| match brought {
            Some(b) if *b != c => Err(ConnectorError::new(
                ErrorKind::InvalidData,
                format!("the code of {} record {c} cannot be changed to {b}", e.en),
            )
            .with_code("code_immutable")
            .with_ja(format!("{}のコードは変更できません（{c} → {b}）", e.ja))
            .with_field(assumed::CODE)),
            _ => Ok(c),
        });
        match code {
            Ok(c) => codes[i] = Some(c),
            Err(err) => done[i] = Some(failed(op, err)),
        }
    }

    let wanted: BTreeSet<String> = codes.iter().flatten().cloned().collect();
    let stored = existing(api, tenant, e, &wanted)?;

    let mut updates = Vec::new();
    let mut inserts = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (Some(code), Some((row, _))) = (&codes[i], rows[i].take()) else {
            continue;
        };
        let ex = stored.get(code);
        let version = ex
            .and_then(|x| x.get(assumed::UPDATED_AT))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(expected) = op.expected_version.as_deref() {
            if ex.is_some() && version.as_deref() != Some(expected) {
                done[i] = Some(failed(
                    op,
                    ConnectorError::new(
                        ErrorKind::Conflict,
                        format!("{} record {code} changed since it was read", e.en),
                    )
                    .with_code("version_conflict")
                    .with_ja(format!("{} {code} は読み取り後に変更されています", e.ja)),
                ));
                continue;
            }
        }
        let live = ex.filter(|x| !is_deleted(e, x));
        let plan = |row: Item, success| Planned {
            op: i,
            code: code.clone(),
            row,
            success,
        };
        match (op.action, ex, live) {
            (WriteAction::Create, Some(_), _) => {
                done[i] = Some(failed(op, errors::exists(e, code)))
            }
            (WriteAction::Create, None, _) | (WriteAction::Upsert, None, _) => {
                inserts.push(plan(row, WriteOutcome::Created))
            }
            (WriteAction::Update | WriteAction::Delete, _, None) => {
                let already = op.action == WriteAction::Delete && ex.is_some();
                done[i] = Some(if already {
                    WriteResult {
                        id: Some(code.clone()),
                        version,
                        ..result(op, WriteOutcome::Deleted)
                    }
                } else {
                    failed(op, errors::no_record(e, &format!("code {code}")))
                });
            }
            (WriteAction::Delete, _, Some(_)) => {
                let mut r = Item::new();
                if let Some(flag) = e.deleted_flag {
                    r.insert(flag.into(), Value::Bool(true));
                }
                updates.push(plan(r, WriteOutcome::Deleted));
            }
            (WriteAction::Upsert, Some(_), None) => {
                // A soft-deleted record written again comes back to life.
                let mut r = row;
                if let Some(flag) = e.deleted_flag {
                    r.insert(flag.into(), Value::Bool(false));
                }
                updates.push(plan(r, WriteOutcome::Updated));
            }
            (WriteAction::Update | WriteAction::Upsert, _, Some(x)) => {
                if row.iter().all(|(k, v)| values::same(x, k, v)) {
                    done[i] = Some(WriteResult {
                        id: Some(code.clone()),
                        version,
                        ..result(op, WriteOutcome::Unchanged)
                    });
                } else {
                    updates.push(plan(row, WriteOutcome::Updated));
                }
            }
        }
    }

    let mut imported_any = false;
    for (mode, group) in [
        (assumed::MODE_UPDATE, updates),
        (assumed::MODE_INSERT, inserts),
    ] {
        for chunk in group.chunks(assumed::MAX_IMPORT_ITEMS as usize) {
            match import(api, tenant, e, mode, chunk) {
                Ok(per_row) => {
                    imported_any = true;
                    for (p, outcome) in chunk.iter().zip(per_row) {
                        let op = &ops[p.op];
                        done[p.op] = Some(match outcome {
                            Ok(()) => WriteResult {
                                id: Some(p.code.clone()),
                                ..result(op, p.success)
                            },
                            Err(err) => failed(op, err),
                        });
                    }
                }
                // Nothing written yet: the whole call failed and may be retried as it is.
                Err(err) if !imported_any => return Err(err),
                // Some rows are stored: report this chunk's ops failed (retryable or not).
                Err(err) => {
                    for p in chunk {
                        done[p.op] = Some(failed(&ops[p.op], err.clone()));
                    }
                }
            }
        }
    }

    Ok(done
        .into_iter()
        .zip(ops)
        .map(|(r, op)| {
            r.unwrap_or_else(|| {
                failed(
                    op,
                    ConnectorError::new(ErrorKind::Internal, "the op was not processed"),
                )
            })
        })
        .collect())
}

/// One import call; one outcome per planned row, in order.
fn import(
    api: &Api<'_>,
    tenant: &Tenant,
    e: &Entity,
    mode: &str,
    chunk: &[Planned],
) -> Result<Vec<Result<(), ConnectorError>>, ConnectorError> {
    let items: Vec<Value> = chunk
        .iter()
        .map(|p| {
            let mut row = p.row.clone();
            row.insert(assumed::CODE.into(), json!(p.code));
            Value::Object(row)
        })
        .collect();
    let answer = api.post(
        &e.import_path(),
        Some(&tenant.id),
        &json!({"items": items, "mode": mode}),
    )?;
    let mut by_index: HashMap<usize, &Value> = HashMap::new();
    for r in answer
        .body
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(i) = r.get("index").and_then(Value::as_u64) {
            by_index.insert(i as usize, r);
        }
    }
    Ok((0..chunk.len())
        .map(|i| match by_index.get(&i) {
            Some(r) if r.get("status").and_then(Value::as_str) == Some(assumed::RESULT_SUCCESS) => {
                Ok(())
            }
            Some(r) => {
                let messages: Vec<String> = r
                    .get("messages")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.as_str().map(str::to_string))
                    .collect();
                Err(errors::row_error(e, &messages))
            }
            None => Err(ConnectorError::new(
                ErrorKind::Internal,
                format!("import{} gave no result for row {i}", e.name),
            )
            .with_ja("奉行クラウドから登録結果が返りませんでした")),
        })
        .collect())
}
