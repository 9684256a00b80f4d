//! Reading records (reference §3, §7): `record.json` and `records.json` GET with `fields`,
//! `query` and `totalCount`, the limits, and the record JSON with its system fields.

use super::auth::{Caller, Perm};
use super::error::{KError, KResult};
use super::eval::{self, Compiled};
use super::model::{App, FieldType, Record, Store};
use super::params::Params;
use super::query;
use super::time;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

pub const GET_LIMIT_DEFAULT: u64 = 100;
pub const GET_LIMIT_MAX: u64 = 500;
pub const OFFSET_MAX: u64 = 10_000;
pub const WRITE_MAX: usize = 100;

/// Who calls, through which path, when.
pub struct Env<'a> {
    pub caller: &'a Caller,
    /// The guest space of a `/k/guest/{space}/v1` path.
    pub space: Option<u64>,
    pub now: DateTime<Utc>,
}

impl Env<'_> {
    pub fn app<'s>(&self, store: &'s Store, p: &Params, perm: Perm) -> KResult<&'s App> {
        let id = p.id("app")?;
        self.caller.app(store, id, self.space, perm)
    }
}

/// `fields` as given; `None` (every field) when absent or empty.
pub fn fields_param(p: &Params) -> Option<Vec<String>> {
    let f = p.strings("fields");
    (!f.is_empty()).then_some(f)
}

fn typed(ty: &str, v: Value) -> Value {
    json!({"type": ty, "value": v})
}

/// A record as the API returns it, limited to `fields` when given.
pub fn record_json(store: &Store, app: &App, r: &Record, fields: Option<&[String]>) -> Value {
    let want = |code: &str| fields.is_none_or(|f| f.iter().any(|x| x == code));
    let mut m = Map::new();
    if want("$id") {
        m.insert("$id".into(), typed("__ID__", json!(r.id.to_string())));
    }
    if want("$revision") {
        m.insert(
            "$revision".into(),
            typed("__REVISION__", json!(r.revision.to_string())),
        );
    }
    let user = |code: &str| json!({"code": code, "name": store.user_name(code)});
    for f in app.fields.iter().filter(|f| want(&f.code)) {
        let v = match f.ty {
            FieldType::RecordNumber => json!(record_number(app, r.id)),
            FieldType::Creator => user(&r.creator),
            FieldType::Modifier => user(&r.modifier),
            FieldType::CreatedTime => json!(time::fmt(r.created_at)),
            FieldType::UpdatedTime => json!(time::fmt(r.updated_at)),
            FieldType::UserSelect => Value::Array(
                r.values
                    .get(&f.code)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).map(user).collect())
                    .unwrap_or_default(),
            ),
            _ => r
                .values
                .get(&f.code)
                .cloned()
                .unwrap_or_else(|| super::values::empty_value(f.ty)),
        };
        m.insert(f.code.clone(), typed(f.ty.wire(), v));
    }
    Value::Object(m)
}

/// `APPCODE-7` when the app has a code, else `7`.
pub fn record_number(app: &App, id: u64) -> String {
    if app.code.is_empty() {
        id.to_string()
    } else {
        format!("{}-{id}", app.code)
    }
}

pub fn get_record(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    let app = env.app(store, p, Perm::View)?;
    let id = p.id("id")?;
    let r = app
        .records
        .get(&id)
        .ok_or_else(|| KError::record_not_found(id))?;
    Ok(json!({ "record": record_json(store, app, r, None) }))
}

/// Parses and checks a query for `app`.
pub fn compile(app: &App, env: &Env, q: &str) -> KResult<Compiled> {
    let parsed = query::parse(q)?;
    eval::compile(app, &parsed, env.now, env.caller.code())
}

pub fn get_records(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    let app = env.app(store, p, Perm::View)?;
    let q = p.str("query").unwrap_or_default();
    let c = compile(app, env, &q)?;
    let limit = c.limit.unwrap_or(GET_LIMIT_DEFAULT);
    if limit > GET_LIMIT_MAX {
        return Err(KError::query(format!(
            "limit には{GET_LIMIT_MAX}以下の値を指定してください。"
        )));
    }
    let offset = c.offset.unwrap_or(0);
    if offset > OFFSET_MAX {
        return Err(KError::query(format!(
            "offset には{OFFSET_MAX}以下の値を指定してください。"
        )));
    }
    let want_total = p.bool("totalCount");
    let sel = super::select::select(app, &c, offset, Some(limit), want_total);
    let fields = fields_param(p);
    let records: Vec<Value> = sel
        .ids
        .iter()
        .filter_map(|id| app.records.get(id))
        .map(|r| record_json(store, app, r, fields.as_deref()))
        .collect();
    Ok(json!({
        "records": records,
        "totalCount": sel.total.map(|t| t.to_string()),
    }))
}
