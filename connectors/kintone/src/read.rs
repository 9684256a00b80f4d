//! Reads: one bounded page per call, ordered by `更新日時, $id`.
//! - A full read (no watermark) goes through the cursor API (size ≤ 500): one POST, then one
//!   GET per page; kintone drops a cursor read to its end, and one left on error is deleted.
//! - A read from a watermark (`since`, or a saved cursor) asks records.json for the first page
//!   (`更新日時 >= "w" … limit`, the limit raised by what was already delivered at `w`): an idle
//!   or small incremental run costs one call and opens no cursor. When more is waiting, the
//!   rest comes through a cursor. Never offset paging.

use connector_sdk::{Connection, ConnectorError, ReadPage, ReadRequest, Record};
use serde_json::{json, Value};

use crate::assumed;
use crate::cursor::{cut_from, Position};
use crate::errors::ApiError;
use crate::form::{Form, FormCache, ID, REVISION};
use crate::http::{require_app, Api};
use crate::manifest::READ_PAGE_SIZE;
use crate::values::to_record;

pub fn read(
    api: &Api,
    forms: &FormCache,
    conn: &Connection,
    req: &ReadRequest,
) -> Result<ReadPage, ConnectorError> {
    let app = require_app(conn, &req.object)?;
    let form = forms.get(api, &app)?;
    let updated = form.require_updated_time()?.to_string();
    let size = req
        .page_size
        .unwrap_or(READ_PAGE_SIZE)
        .clamp(1, READ_PAGE_SIZE) as usize;
    let fields = requested_fields(&form, req.fields.as_deref(), &updated)?;
    let mut pos = Position::start(req.cursor.as_deref(), req.since.as_deref())?;
    let ctx = Ctx {
        api,
        updated: &updated,
    };

    if let Some(kc) = pos.kc.clone() {
        match ctx.next_page(&kc) {
            Ok((raw, next)) => return Ok(ctx.page(&mut pos, &raw, next)),
            Err(e) if assumed::is_gone_cursor(e.status(), e.code()) => {
                // Expired (10 minutes) or deleted: start again from the watermark below.
                pos.kc = None;
                pos.cut = None;
                pos.more = true;
            }
            Err(e) => {
                let ce = e.to_connector(Some(&app));
                if !ce.is_retryable() {
                    ctx.drop_cursor(&kc);
                }
                return Err(ce);
            }
        }
    }

    if pos.w.is_some() && !pos.more {
        // Ask for the records already delivered at the watermark on top of a page, so they
        // do not crowd out new ones; deliver at most a page.
        let limit = (size + pos.seen.len()).min(READ_PAGE_SIZE as usize);
        let mut params = json!({
            "app": app,
            "query": format!("{} limit {limit}", pos.query(&updated)),
        });
        if let Some(f) = &fields {
            params["fields"] = json!(f);
        }
        let answer = api
            .get("records", &params)
            .map_err(|e| e.to_connector(Some(&app)))?;
        pos.cut = Some(cut_from(answer.date.as_deref()));
        let raw = list(&answer.body, "records");
        let mut records = Vec::new();
        let mut consumed = 0;
        for r in raw.iter().filter_map(|r| to_record(r, Some(&updated))) {
            if records.len() == size {
                break;
            }
            consumed += 1;
            if pos.accept(&r) {
                records.push(r);
            }
        }
        let complete = raw.len() < limit && consumed == raw.len();
        if complete {
            pos.finish();
        } else {
            // The rest through a cursor from the moved watermark (the overlap is `seen`).
            pos.cut = None;
            pos.more = true;
        }
        return Ok(ReadPage {
            records,
            next_cursor: Some(pos.encode()),
            has_more: !complete,
            issues: Vec::new(),
        });
    }

    let mut body = json!({ "app": app, "query": pos.query(&updated), "size": size });
    if let Some(f) = &fields {
        body["fields"] = json!(f);
    }
    let created = api
        .post("records/cursor", &body)
        .map_err(|e| e.to_connector(Some(&app)))?;
    let kc = created
        .body
        .get("id")
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .ok_or_else(|| {
            ApiError::http(200, None, "cursor answer without id", "kintone")
                .to_connector(Some(&app))
        })?;
    pos.kc = Some(kc.clone());
    pos.cut = Some(cut_from(created.date.as_deref()));
    pos.n = 0;
    match ctx.next_page(&kc) {
        Ok((raw, next)) => Ok(ctx.page(&mut pos, &raw, next)),
        Err(e) => {
            // A retry would open another cursor: do not leave this one counting.
            ctx.drop_cursor(&kc);
            Err(e.to_connector(Some(&app)))
        }
    }
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
    let mut out: Vec<String> = vec![ID.into(), REVISION.into(), updated.to_string()];
    for f in asked {
        if form.field(f).is_none() {
            return Err(crate::values::Refused {
                field: f.clone(),
                en: format!("app {} has no field with this code", form.app),
                ja: format!("アプリ{}にこのフィールドコードはありません", form.app),
            }
            .into_error());
        }
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    Ok(Some(out))
}

fn list(body: &Value, key: &str) -> Vec<Value> {
    body.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

struct Ctx<'a> {
    api: &'a Api<'a>,
    updated: &'a str,
}

impl Ctx<'_> {
    fn next_page(&self, kc: &str) -> Result<(Vec<Value>, bool), ApiError> {
        let a = self.api.get("records/cursor", &json!({ "id": kc }))?;
        let next = match a.body.get("next") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true",
            _ => false,
        };
        Ok((list(&a.body, "records"), next))
    }

    fn page(&self, pos: &mut Position, raw: &[Value], next: bool) -> ReadPage {
        pos.n += raw.len() as u64;
        let records = self.deliver(pos, raw);
        if !next {
            // kintone deletes a cursor read to its end.
            pos.finish();
        }
        ReadPage {
            records,
            next_cursor: Some(pos.encode()),
            has_more: next,
            issues: Vec::new(),
        }
    }

    fn deliver(&self, pos: &mut Position, raw: &[Value]) -> Vec<Record> {
        raw.iter()
            .filter_map(|r| to_record(r, Some(self.updated)))
            .filter(|r| pos.accept(r))
            .collect()
    }

    /// Best effort: a cursor left open counts against the domain's 10 until it expires.
    fn drop_cursor(&self, kc: &str) {
        let _ = self.api.delete("records/cursor", &json!({ "id": kc }));
    }
}
