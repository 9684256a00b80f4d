//! Reads: one bounded page per call through records.json, ordered by `更新日時, $id` and
//! walked by seek (`(更新日時, $id)` after the last record of the previous page, as the official
//! clients walk `$id > N … limit 500`). No kintone cursor is opened: a page read again with the
//! same SDK cursor answers the same records, so a run killed between reading a page and saving
//! its cursor loses nothing, and no cursor is left counting against the domain's 10. An idle or
//! small incremental run costs one call. Never offset paging (kintone caps offsets at 10,000).
//! The first listing of a whole app goes by record number instead, in windows the hub may read
//! at once ([`crate::walk`]).
//! A first run capped to the newest N (`ReadRequest::newest_first`) walks the window the other
//! way, `order by 更新日時 desc, $id desc`, by seek as well.

use connector_sdk::{Connection, ConnectorError, ErrorKind, ReadPage, ReadRequest};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::cursor::{cut_from, normalize_time, since_minute, Position};
use crate::form::{no_updated_time, Form, FormCache, ID, REVISION};
use crate::http::{require_app, Api};
use crate::manifest::READ_PAGE_SIZE;
use crate::values::to_record;
use crate::walk::{self, Walk};

pub fn read(
    api: &Api,
    forms: &FormCache,
    conn: &Connection,
    req: &ReadRequest,
) -> Result<ReadPage, ConnectorError> {
    let app = require_app(conn, &req.object)?;
    let size = req
        .page_size
        .unwrap_or(READ_PAGE_SIZE)
        .clamp(1, READ_PAGE_SIZE) as usize;
    let asked = req.fields.as_deref();
    let pos = match req.newest_first {
        true => None,
        false => Some(Position::start(
            req.cursor.as_deref(),
            req.since.as_deref(),
        )?),
    };
    if let Some(pos) = pos.clone() {
        if pos.walks() {
            // The walk learns the `更新日時` code from its first page's records when the form
            // is not known yet: a first run's full read costs no call for the form.
            let known = match (forms.cached(api, &app), &pos.updated) {
                (Some(form), _) => {
                    let updated = form.require_updated_time()?.to_string();
                    let fields = requested_fields(&form, asked, &updated)?;
                    Some((updated, fields))
                }
                (None, Some(u)) => Some((u.clone(), asked.map(|a| with_system(a, u)))),
                (None, None) => None,
            };
            return read_walk(api, &app, (size, asked), known, pos);
        }
    }
    let form = forms.get(api, &app)?;
    let updated = form.require_updated_time()?.to_string();
    let fields = requested_fields(&form, asked, &updated)?;
    let Some(mut pos) = pos else {
        return read_newest(api, &app, req, &updated, size, fields);
    };

    let mut params = json!({ "app": app, "query": pos.query(&updated, size) });
    if let Some(f) = &fields {
        params["fields"] = json!(f);
    }
    if req.count {
        params["totalCount"] = json!(true);
    }
    let answer = api
        .get("records", &params)
        .map_err(|e| e.to_connector(Some(&app)))?;
    if pos.starts_listing() {
        pos.cut = Some(cut_from(answer.date.as_deref()));
    }
    let raw = list(&answer.body, "records");
    let mut records = Vec::new();
    for r in &raw {
        pos.after = Some(seek_key(r, &updated).ok_or_else(|| bad_record(&app, &updated))?);
        if let Some(rec) = to_record(r, Some(&updated)) {
            if pos.accept(&rec) {
                records.push(rec);
            }
        }
    }
    let mut has_more = raw.len() == size;
    if !has_more {
        // What was updated after the listing began may sort behind where it was read (same
        // minute, lower id) and waits for the next listing. When the listing spanned a minute
        // (a long read, or one resumed by a later run) that next listing starts now, so a run
        // ends having seen every change made before it began.
        has_more = pos
            .cut
            .as_ref()
            .is_some_and(|cut| cut_from(answer.date.as_deref()) > *cut);
        pos.finish();
    }
    Ok(ReadPage {
        records,
        next_cursor: Some(pos.encode()),
        has_more,
        issues: Vec::new(),
        total: total_count(&answer.body),
        ..Default::default()
    })
}

/// A page of the first listing of the whole app, by record number ([`crate::walk`]): it
/// foretells the cursors of the windows after it, and holds back what was updated after the
/// listing began for the listing that follows.
fn read_walk(
    api: &Api,
    app: &str,
    (size, asked): (usize, Option<&[String]>),
    known: Option<(String, Option<Vec<String>>)>,
    mut pos: Position,
) -> Result<ReadPage, ConnectorError> {
    let begins = pos.walk.is_none();
    let query = match &pos.walk {
        Some(w) => w.query(size),
        None => walk::first_query(size),
    };
    let mut params = json!({ "app": app, "query": query });
    if let Some((_, Some(f))) = &known {
        params["fields"] = json!(f);
    }
    if begins {
        params["totalCount"] = json!(true);
    }
    let answer = api
        .get("records", &params)
        .map_err(|e| e.to_connector(Some(app)))?;
    let now = cut_from(answer.date.as_deref());
    let cut = pos.cut.get_or_insert_with(|| now.clone()).clone();
    let raw = list(&answer.body, "records");
    // Asked without `fields` (the form unknown): learn the code, check the asked ones, and
    // keep only those, as `fields` would have.
    let (updated, keep) = match known {
        Some((u, _)) => (u, None),
        None => match raw.first() {
            Some(first) => {
                let u = learn_updated(app, first, asked)?;
                pos.updated = Some(u.clone());
                let keep = asked.map(|a| with_system(a, &u));
                (u, keep)
            }
            None => (String::new(), None),
        },
    };
    let updated = updated.as_str();
    let (mut records, mut held, mut lowest) = (Vec::new(), false, None::<u64>);
    for r in &raw {
        let (ts, id) = seek_key(r, updated).ok_or_else(|| bad_record(app, updated))?;
        lowest = Some(lowest.map_or(id, |l| l.min(id)));
        if ts >= cut {
            held = true;
        } else if let Some(mut rec) = to_record(r, Some(updated)) {
            if let Some(keep) = &keep {
                rec.fields.retain(|code, _| keep.contains(code));
            }
            records.push(rec);
        }
    }
    let next = match &pos.walk {
        Some(w) => w.next(size, raw.len(), lowest),
        None => Walk::begin(
            raw.len(),
            lowest.unwrap_or(0),
            total_count(&answer.body),
            size,
        ),
    };
    let held = held || pos.walk.is_some_and(|w| w.held);
    let total = if begins {
        total_count(&answer.body)
    } else {
        None
    };
    let (has_more, ahead) = match next {
        Some(mut w) => {
            w.held = held;
            let ahead = w
                .foretold(size)
                .into_iter()
                .map(|w| {
                    pos.walk = Some(w);
                    pos.encode()
                })
                .collect();
            pos.walk = Some(w);
            (true, ahead)
        }
        None => {
            pos.walk = None;
            pos.updated = None;
            pos.finish();
            // What was held back, or changed after a minute turned, is read from `cut` on.
            (held || now > cut, Vec::new())
        }
    };
    Ok(ReadPage {
        records,
        next_cursor: Some(pos.encode()),
        has_more,
        ahead,
        total,
        ..Default::default()
    })
}

fn bad_record(app: &str, updated: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("app {app} answered a record without a record number or {updated}"),
    )
    .with_code("bad_record")
    .with_ja(format!(
        "アプリ{app}の応答に、レコード番号または{updated}のないレコードがありました"
    ))
}

/// Where a newest-first listing is: records from `w` on (the window), and the seek key of the
/// last record delivered. Continues only this listing; the hub never saves it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Newest {
    newest: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    before: Option<(String, u64)>,
}

/// A page of the window newest first: `order by 更新日時 desc, $id desc`, walked by seek (what
/// sorts before the last record delivered), never by offset.
fn read_newest(
    api: &Api,
    app: &str,
    req: &ReadRequest,
    updated: &str,
    size: usize,
    fields: Option<Vec<String>>,
) -> Result<ReadPage, ConnectorError> {
    let bad_cursor = || {
        ConnectorError::new(
            ErrorKind::InvalidData,
            "the read position is not one of a newest-first listing",
        )
        .with_code("bad_cursor")
        .with_ja("読み取り位置が読み取れません")
    };
    let mut pos = match req.cursor.as_deref() {
        Some(c) => serde_json::from_str::<Newest>(c)
            .ok()
            .filter(|p| p.newest)
            .ok_or_else(bad_cursor)?,
        None => Newest {
            newest: true,
            w: match req.since.as_deref() {
                Some(s) => Some(since_minute(s).ok_or_else(|| {
                    ConnectorError::new(
                        ErrorKind::InvalidData,
                        format!("'since' is not an RFC 3339 time: {s}"),
                    )
                    .with_ja(format!("取り込み開始日時「{s}」の形式が正しくありません"))
                })?),
                None => None,
            },
            before: None,
        },
    };
    let mut conditions = Vec::new();
    if let Some(w) = &pos.w {
        conditions.push(format!("{updated} >= \"{w}\""));
    }
    if let Some((ts, id)) = &pos.before {
        conditions.push(format!(
            "({updated} < \"{ts}\" or ({updated} = \"{ts}\" and $id < {id}))"
        ));
    }
    let order = format!("order by {updated} desc, $id desc limit {size}");
    let query = if conditions.is_empty() {
        order
    } else {
        format!("{} {order}", conditions.join(" and "))
    };
    let mut params = json!({ "app": app, "query": query });
    if let Some(f) = &fields {
        params["fields"] = json!(f);
    }
    if req.count {
        params["totalCount"] = json!(true);
    }
    let answer = api
        .get("records", &params)
        .map_err(|e| e.to_connector(Some(app)))?;
    let raw = list(&answer.body, "records");
    let mut records = Vec::new();
    for r in &raw {
        pos.before = Some(seek_key(r, updated).ok_or_else(|| bad_record(app, updated))?);
        if let Some(rec) = to_record(r, Some(updated)) {
            records.push(rec);
        }
    }
    Ok(ReadPage {
        records,
        next_cursor: Some(serde_json::to_string(&pos).unwrap_or_default()),
        has_more: raw.len() == size,
        issues: Vec::new(),
        newest_first: true,
        total: total_count(&answer.body),
        ..Default::default()
    })
}

/// records.json's `totalCount` (a string), when it was asked for.
fn total_count(body: &Value) -> Option<u64> {
    match body.get("totalCount")? {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// (`更新日時` in UTC, `$id`) of a raw record: where the next page starts.
fn seek_key(raw: &Value, updated: &str) -> Option<(String, u64)> {
    let value = |code: &str| raw.get(code)?.get("value")?.as_str();
    let id = value(ID)?.trim().parse().ok()?;
    let ts = normalize_time(value(updated)?)?;
    Some((ts, id))
}

/// The `fields` parameter: `None` for all, else the asked codes plus what a read needs.
fn requested_fields(
    form: &Form,
    asked: Option<&[String]>,
    updated: &str,
) -> Result<Option<Vec<String>>, ConnectorError> {
    let Some(asked) = asked else {
        return Ok(None);
    };
    if let Some(f) = asked.iter().find(|f| form.field(f).is_none()) {
        return Err(no_such_field(&form.app, f));
    }
    Ok(Some(with_system(asked, updated)))
}

/// The asked codes and what a read needs: the record number, its revision and `更新日時`.
fn with_system(asked: &[String], updated: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![ID.into(), REVISION.into(), updated.to_string()];
    for f in asked {
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

fn no_such_field(app: &str, code: &str) -> ConnectorError {
    crate::values::Refused {
        field: code.to_string(),
        en: format!("app {app} has no field with this code"),
        ja: format!("アプリ{app}にこのフィールドコードはありません"),
    }
    .into_error()
}

/// The code of the `更新日時` (UPDATED_TIME) field of a record read with all its fields; the
/// asked codes must each be one of its fields.
fn learn_updated(
    app: &str,
    raw: &Value,
    asked: Option<&[String]>,
) -> Result<String, ConnectorError> {
    let map = raw.as_object().ok_or_else(|| bad_record(app, "更新日時"))?;
    let typed = |code: &&String| {
        map.get(code.as_str())
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str)
            == Some("UPDATED_TIME")
    };
    let updated = map.keys().find(typed).ok_or_else(|| no_updated_time(app))?;
    if let Some(f) = asked
        .unwrap_or_default()
        .iter()
        .find(|f| !map.contains_key(f.as_str()))
    {
        return Err(no_such_field(app, f));
    }
    Ok(updated.clone())
}

fn list(body: &Value, key: &str) -> Vec<Value> {
    body.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}
