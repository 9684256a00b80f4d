//! Writing records (reference §3): add, update by `id` or `updateKey`, upsert, delete; revision
//! checks; at most 100 records a call. Every function runs inside a `Tx` the caller rolls back
//! on error, so a failing record undoes the whole call (or the whole bulkRequest).

use super::assumed;
use super::auth::Perm;
use super::error::{KError, KResult};
use super::model::{FieldType, Record};
use super::params::{as_id, Params};
use super::records::{Env, WRITE_MAX};
use super::tx::Tx;
use super::values::{self, WriteCtx};
use serde_json::{json, Value};

fn app_id(tx: &Tx, env: &Env, p: &Params, perm: Perm) -> KResult<u64> {
    env.app(tx.store(), p, perm).map(|a| a.id)
}

fn batch<'p>(p: &'p Params, name: &str) -> KResult<&'p Vec<Value>> {
    match p.get(name) {
        Some(Value::Array(a)) if a.is_empty() => Err(KError::invalid(name, "必須です。")),
        Some(Value::Array(a)) if a.len() > WRITE_MAX => Err(KError::invalid(
            name,
            format!("一度に操作できるレコードは{WRITE_MAX}件までです。"),
        )),
        Some(Value::Array(a)) => Ok(a),
        _ => Err(KError::invalid(name, "必須です。")),
    }
}

/// Adds one record; answers (id, revision).
fn add_one(
    tx: &mut Tx,
    env: &Env,
    app: u64,
    input: Option<&Value>,
    prefix: &str,
) -> KResult<(u64, u64)> {
    let id = tx
        .next_id(app)
        .ok_or_else(|| KError::invalid("app", "アプリがありません。"))?;
    let rec = {
        let store = tx.store();
        let a = store
            .apps
            .get(&app)
            .ok_or_else(|| KError::invalid("app", "アプリがありません。"))?;
        let ctx = WriteCtx {
            store,
            caller: env.caller,
            now: env.now,
        };
        values::build(&ctx, a, None, input, prefix, id)?
    };
    let rev = rec.revision;
    tx.put(app, rec);
    Ok((id, rev))
}

/// The expected revision: absent or -1 skips the check.
fn expected_revision(v: Option<&Value>, key: &str) -> KResult<Option<u64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let s = match v {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.trim().to_string(),
                _ => String::new(),
            };
            if s == "-1" || s.is_empty() {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| KError::invalid(key, "数字でなければなりません。"))
        }
    }
}

fn check_revision(r: &Record, expected: Option<u64>) -> KResult<()> {
    match expected {
        Some(e) if e != r.revision => Err(KError::revision_conflict(r.id, e)),
        _ => Ok(()),
    }
}

/// Updates an existing record; answers its new revision.
fn update_one(
    tx: &mut Tx,
    env: &Env,
    app: u64,
    id: u64,
    input: Option<&Value>,
    revision: Option<u64>,
    prefix: &str,
) -> KResult<u64> {
    let rec = {
        let store = tx.store();
        let a = store
            .apps
            .get(&app)
            .ok_or_else(|| KError::invalid("app", "アプリがありません。"))?;
        let cur = a
            .records
            .get(&id)
            .ok_or_else(|| KError::record_not_found(id))?;
        check_revision(cur, revision)?;
        let ctx = WriteCtx {
            store,
            caller: env.caller,
            now: env.now,
        };
        values::build(&ctx, a, Some(cur), input, prefix, id)?
    };
    let rev = rec.revision;
    tx.put(app, rec);
    Ok(rev)
}

/// Which record an entry targets: by `id`, or by `updateKey` (whose value is also written to the
/// record, so an upsert insert carries it).
enum Target {
    Id(u64),
    Key { field: String, value: String },
}

fn target(tx: &Tx, app: u64, e: &serde_json::Map<String, Value>, prefix: &str) -> KResult<Target> {
    match (
        e.get("id").filter(|v| !v.is_null()),
        e.get("updateKey").filter(|v| !v.is_null()),
    ) {
        (Some(_), Some(_)) => Err(KError::invalid(
            format!("{prefix}.id"),
            "idとupdateKeyは同時に指定できません。",
        )),
        (Some(v), None) => as_id(v)
            .map(Target::Id)
            .ok_or_else(|| KError::invalid(format!("{prefix}.id"), "数字でなければなりません。")),
        (None, Some(k)) => {
            let field = k.get("field").and_then(|f| f.as_str()).unwrap_or("");
            let value = match k.get("value") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let def = tx.app(app).and_then(|a| a.field(field));
            let ok = def.is_some_and(|d| {
                d.unique && matches!(d.ty, FieldType::SingleLineText | FieldType::Number)
            });
            if !ok {
                return Err(KError::invalid(
                    format!("{prefix}.updateKey.field"),
                    "重複禁止が設定された文字列（1行）または数値フィールドを指定してください。",
                ));
            }
            Ok(Target::Key {
                field: field.to_string(),
                value,
            })
        }
        (None, None) => Err(KError::invalid(
            format!("{prefix}.id"),
            "idまたはupdateKeyを指定してください。",
        )),
    }
}

/// The record input with the update key's value set in it.
fn with_key(input: Option<&Value>, field: &str, value: &str) -> Value {
    let mut rec = match input {
        Some(Value::Object(o)) => o.clone(),
        _ => serde_json::Map::new(),
    };
    rec.insert(field.to_string(), json!({ "value": value }));
    Value::Object(rec)
}

pub fn add_record(tx: &mut Tx, env: &Env, p: &Params) -> KResult<Value> {
    let app = app_id(tx, env, p, Perm::Add)?;
    let (id, rev) = add_one(tx, env, app, p.get("record"), "record")?;
    Ok(json!({"id": id.to_string(), "revision": rev.to_string()}))
}

pub fn add_records(tx: &mut Tx, env: &Env, p: &Params) -> KResult<Value> {
    let app = app_id(tx, env, p, Perm::Add)?;
    let mut ids = Vec::new();
    let mut revs = Vec::new();
    for (i, r) in batch(p, "records")?.iter().enumerate() {
        let (id, rev) = add_one(tx, env, app, Some(r), &format!("records[{i}]"))?;
        ids.push(id.to_string());
        revs.push(rev.to_string());
    }
    Ok(json!({"ids": ids, "revisions": revs}))
}

/// One update entry (`record.json` PUT or an element of `records.json` PUT). Answers
/// (id, revision, inserted).
fn update_entry(
    tx: &mut Tx,
    env: &Env,
    app: u64,
    e: &serde_json::Map<String, Value>,
    upsert: bool,
    prefix: &str,
    record_prefix: &str,
) -> KResult<(u64, u64, bool)> {
    let revision = expected_revision(e.get("revision"), &format!("{prefix}.revision"))?;
    let input = e.get("record");
    let (found, input) = match target(tx, app, e, prefix)? {
        Target::Id(id) => {
            let exists = tx.app(app).is_some_and(|a| a.records.contains_key(&id));
            (exists.then_some(id), input.cloned())
        }
        Target::Key { field, value } => {
            let hit = tx.app(app).and_then(|a| a.find_unique(&field, &value));
            if hit.is_none() && !upsert {
                return Err(KError::of(
                    assumed::UPDATE_KEY_NO_MATCH,
                    format!(
                        "updateKeyに指定した値（{field}: {value}）のレコードが見つかりません。"
                    ),
                ));
            }
            (hit, Some(with_key(input, &field, &value)))
        }
    };
    match found {
        Some(id) => {
            let rev = update_one(tx, env, app, id, input.as_ref(), revision, record_prefix)?;
            Ok((id, rev, false))
        }
        None if upsert => {
            env.caller.app(tx.store(), app, env.space, Perm::Add)?;
            let (id, rev) = add_one(tx, env, app, input.as_ref(), record_prefix)?;
            Ok((id, rev, true))
        }
        None => match e.get("id").and_then(as_id) {
            Some(id) => Err(KError::record_not_found(id)),
            None => Err(KError::invalid(format!("{prefix}.id"), "必須です。")),
        },
    }
}

pub fn update_record(tx: &mut Tx, env: &Env, p: &Params) -> KResult<Value> {
    let app = app_id(tx, env, p, Perm::Edit)?;
    let (_, rev, _) = update_entry(tx, env, app, &p.0, false, "record", "record")?;
    Ok(json!({"revision": rev.to_string()}))
}

pub fn update_records(tx: &mut Tx, env: &Env, p: &Params) -> KResult<Value> {
    let app = app_id(tx, env, p, Perm::Edit)?;
    let upsert = p.bool("upsert");
    let mut out = Vec::new();
    for (i, e) in batch(p, "records")?.iter().enumerate() {
        let prefix = format!("records[{i}]");
        let Some(e) = e.as_object() else {
            return Err(KError::invalid(
                prefix,
                "レコードの形式が正しくありません。",
            ));
        };
        let (id, rev, inserted) = update_entry(
            tx,
            env,
            app,
            e,
            upsert,
            &prefix,
            &format!("{prefix}.record"),
        )?;
        let mut r = json!({"id": id.to_string(), "revision": rev.to_string()});
        if upsert {
            r["operation"] = json!(if inserted { "INSERT" } else { "UPDATE" });
        }
        out.push(r);
    }
    Ok(json!({ "records": out }))
}

pub fn delete_records(tx: &mut Tx, env: &Env, p: &Params) -> KResult<Value> {
    let app = app_id(tx, env, p, Perm::Delete)?;
    let ids = batch(p, "ids")?.clone();
    let revisions = p.array("revisions");
    if !revisions.is_empty() && revisions.len() != ids.len() {
        return Err(KError::invalid(
            "revisions",
            "idsとrevisionsの件数が一致しません。",
        ));
    }
    for (i, v) in ids.iter().enumerate() {
        let id = as_id(v)
            .ok_or_else(|| KError::invalid(format!("ids[{i}]"), "数字でなければなりません。"))?;
        let rev = expected_revision(revisions.get(i), &format!("revisions[{i}]"))?;
        let cur = tx
            .app(app)
            .and_then(|a| a.records.get(&id))
            .ok_or_else(|| KError::record_not_found(id))?;
        check_revision(cur, rev)?;
        tx.remove(app, id);
    }
    Ok(json!({}))
}
