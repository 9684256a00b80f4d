//! The cursor API (reference §4): matching record ids fixed at creation, values read at each
//! GET; size 1–500 (default 100); no `limit`/`offset` in the query; at most 10 live cursors per
//! domain; a cursor expires 10 minutes after creation or its last GET with records left.

use super::assumed;
use super::auth::Perm;
use super::error::{KError, KResult};
use super::model::Store;
use super::params::Params;
use super::records::{self, Env, GET_LIMIT_MAX};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};

pub const MAX_LIVE: usize = 10;
pub const DEFAULT_SIZE: u64 = 100;

#[derive(Debug)]
pub struct Cursor {
    app: u64,
    ids: VecDeque<u64>,
    fields: Option<Vec<String>>,
    size: usize,
    expires: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct Cursors {
    live: HashMap<String, Cursor>,
}

impl Cursors {
    fn purge(&mut self, now: DateTime<Utc>) {
        self.live.retain(|_, c| c.expires > now);
    }

    pub fn live_count(&mut self, now: DateTime<Utc>) -> usize {
        self.purge(now);
        self.live.len()
    }

    pub fn clear(&mut self) {
        self.live.clear();
    }
}

fn ttl() -> Duration {
    Duration::seconds(assumed::CURSOR_TTL_SECS)
}

fn not_found(id: &str) -> KError {
    KError::of(
        assumed::CURSOR_NOT_FOUND,
        format!("指定したカーソル（id: {id}）が見つかりません。有効期限が切れたか、すべてのレコードを取得済みです。"),
    )
}

pub fn create(store: &Store, cursors: &mut Cursors, env: &Env, p: &Params) -> KResult<Value> {
    let app = env.app(store, p, super::auth::Perm::View)?;
    let size = match p.get("size") {
        None => DEFAULT_SIZE,
        Some(v) => super::params::as_id(v)
            .filter(|n| (1..=GET_LIMIT_MAX).contains(n))
            .ok_or_else(|| {
                KError::invalid(
                    "size",
                    format!("1以上{GET_LIMIT_MAX}以下の値を指定してください。"),
                )
            })?,
    };
    let q = p.str("query").unwrap_or_default();
    let c = records::compile(app, env, &q)?;
    if c.limit.is_some() || c.offset.is_some() {
        return Err(KError::query(
            "カーソルのクエリには limit と offset を指定できません。",
        ));
    }
    cursors.purge(env.now);
    if cursors.live.len() >= MAX_LIVE {
        return Err(KError::of(
            assumed::CURSOR_LIMIT,
            format!("作成できるカーソルは{MAX_LIVE}個までです。不要なカーソルを削除してください。"),
        ));
    }
    let sel = super::select::select(app, &c, 0, None, false);
    let total = sel.ids.len();
    let id = uuid::Uuid::new_v4().to_string();
    cursors.live.insert(
        id.clone(),
        Cursor {
            app: app.id,
            ids: sel.ids.into(),
            fields: records::fields_param(p),
            size: size as usize,
            expires: env.now + ttl(),
        },
    );
    Ok(json!({"id": id, "totalCount": total.to_string()}))
}

pub fn next(store: &Store, cursors: &mut Cursors, env: &Env, p: &Params) -> KResult<Value> {
    let id = p.str("id").unwrap_or_default();
    cursors.purge(env.now);
    let c = cursors.live.get_mut(&id).ok_or_else(|| not_found(&id))?;
    let app = env.caller.app(store, c.app, env.space, Perm::View)?;
    let take = c.size.min(c.ids.len());
    let page: Vec<u64> = c.ids.drain(..take).collect();
    let records: Vec<Value> = page
        .iter()
        .filter_map(|i| app.records.get(i))
        .map(|r| records::record_json(store, app, r, c.fields.as_deref()))
        .collect();
    let more = !c.ids.is_empty();
    if more {
        c.expires = env.now + ttl();
    } else {
        cursors.live.remove(&id);
    }
    Ok(json!({"records": records, "next": more}))
}

pub fn delete(store: &Store, cursors: &mut Cursors, env: &Env, p: &Params) -> KResult<Value> {
    let id = p.str("id").unwrap_or_default();
    cursors.purge(env.now);
    let c = cursors.live.get(&id).ok_or_else(|| not_found(&id))?;
    env.caller.app(store, c.app, env.space, Perm::View)?;
    cursors.live.remove(&id);
    Ok(json!({}))
}
