//! Reads of contacts and to-dos, one bounded page per call (see `cursor.rs`):
//!
//! - with no watermark yet, a **sweep** of the view by position (`start`/`count`, §2.2), each
//!   entry's document fetched (views carry only their columns; the privacy items are `$`
//!   items);
//! - afterwards, **changes**: `GET /api/data/documents?since=` lists what changed in the mail
//!   file since the watermark, oldest first; each is checked for the object's form and read.
//!
//! Deletions are not reported: DAS has no feed of deleted documents.

use chrono::Utc;
use connector_sdk::{ConnectorError, ReadPage, ReadRequest, Record};
use serde_json::Value;

use crate::assumed;
use crate::cursor::Cursor;
use crate::docs;
use crate::http::Api;
use crate::manifest::READ_PAGE_SIZE;
use crate::objects::DocObject;
use crate::values::{iso, parse_time};

/// The page size asked, bounded so a page plus its overlap fits one view request.
pub fn page_size(req: &ReadRequest) -> u32 {
    req.page_size
        .unwrap_or(READ_PAGE_SIZE)
        .clamp(1, assumed::MAX_COUNT - assumed::PAGE_OVERLAP)
}

pub fn read(api: &Api, obj: &DocObject, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
    let mut cursor = match &req.cursor {
        Some(c) => Cursor::decode(c, obj.id)?,
        None => Cursor::initial(obj.id, req.since.as_deref())?,
    };
    let page = page_size(req);
    let wanted = req.fields.as_deref();
    let (records, has_more) = if cursor.sweep.is_some() || cursor.mark.is_none() {
        sweep_page(api, obj, &mut cursor, page, wanted)?
    } else {
        changes_page(api, obj, &mut cursor, page, wanted)?
    };
    Ok(ReadPage {
        records,
        next_cursor: Some(cursor.encode()),
        has_more,
        issues: Vec::new(),
        ..Default::default()
    })
}

/// The server's clock from a `Date` header, else ours.
pub fn server_now(date: Option<&str>) -> chrono::DateTime<Utc> {
    date.and_then(parse_time).unwrap_or_else(Utc::now)
}

/// One page of the view by position; the page re-reads `PAGE_OVERLAP` entries before its start
/// and skips the ids read there before, so a deletion between pages loses nothing.
fn sweep_page(
    api: &Api,
    obj: &DocObject,
    cursor: &mut Cursor,
    page: u32,
    wanted: Option<&[String]>,
) -> Result<(Vec<Record>, bool), ConnectorError> {
    let mut sweep = cursor.sweep.take().unwrap_or_default();
    let from = sweep.next.saturating_sub(assumed::PAGE_OVERLAP);
    let count = sweep.next - from + page;
    let query = [
        ("start", from.to_string()),
        ("count", count.to_string()),
        // Only `@unid` (0x2): the documents are fetched anyway.
        ("systemcolumns", "2".to_string()),
        ("entrycount", "false".to_string()),
    ];
    let answer = api
        .get(&["api", "data", "collections", "name", obj.view], &query)?
        .ok(&format!("reading view {}", obj.view))?;
    if sweep.started.is_none() {
        sweep.started = Some(server_now(answer.date.as_deref()));
    }
    let entries: Vec<String> = answer
        .body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("@unid").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut taken: Vec<String> = Vec::new();
    let mut next = from + entries.len() as u32;
    for (i, unid) in entries.iter().enumerate() {
        if sweep.last_ids.contains(unid) || taken.contains(unid) {
            continue;
        }
        if taken.len() as u32 == page {
            next = from + i as u32;
            break;
        }
        taken.push(unid.clone());
    }
    let done = (entries.len() as u32) < count && next == from + entries.len() as u32;
    let mut records = Vec::with_capacity(taken.len());
    for unid in &taken {
        // Deleted since the view was read: nothing to report.
        let Some(doc) = docs::fetch(api, unid)? else {
            continue;
        };
        sweep.note(unid, docs::modified(&doc));
        if docs::is_of(obj, &doc) {
            records.extend(docs::record(obj, &doc, wanted));
        }
    }
    sweep.last_ids = overlap_ids(&entries[..(next - from) as usize]);
    sweep.next = next;
    cursor.sweep = Some(sweep);
    if done {
        cursor.finish_sweep();
    }
    Ok((records, !done))
}

/// The ids of the last `PAGE_OVERLAP` entries read: the next page re-reads those positions
/// and skips them.
pub fn overlap_ids(consumed: &[String]) -> Vec<String> {
    let keep = (assumed::PAGE_OVERLAP as usize).min(consumed.len());
    consumed[consumed.len() - keep..].to_vec()
}

/// One page of the changes since the watermark, oldest first.
fn changes_page(
    api: &Api,
    obj: &DocObject,
    cursor: &mut Cursor,
    page: u32,
    wanted: Option<&[String]>,
) -> Result<(Vec<Record>, bool), ConnectorError> {
    let mut query = Vec::new();
    if let Some(mark) = cursor.mark {
        // The bound's inclusiveness is not documented: re-ask the last second (see assumed).
        let since = mark - chrono::Duration::seconds(assumed::SINCE_OVERLAP_SECS);
        query.push(("since", iso(since)));
    }
    let answer = api
        .get(&["api", "data", "documents"], &query)?
        .ok("listing changed documents")?;
    let mut candidates: Vec<(chrono::DateTime<Utc>, String)> = answer
        .body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|d| {
                    let unid = d.get("@unid").and_then(Value::as_str)?.to_string();
                    let stamp = d
                        .get("@modified")
                        .and_then(Value::as_str)
                        .and_then(parse_time)?;
                    Some((stamp, unid))
                })
                .filter(|(stamp, unid)| cursor.is_new(unid, Some(*stamp)))
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    let mut records = Vec::new();
    let mut examined = 0;
    for (stamp, unid) in &candidates {
        if records.len() as u32 >= page || examined >= assumed::CANDIDATES_PER_PAGE {
            break;
        }
        examined += 1;
        // A small answer first: most changes of a mail file are mail.
        let form = docs::form_of(api, unid)?;
        if form.is_some_and(|f| f.eq_ignore_ascii_case(obj.form)) {
            if let Some(doc) = docs::fetch(api, unid)? {
                records.extend(docs::record(obj, &doc, wanted));
            }
        }
        cursor.advance(unid, *stamp);
    }
    Ok((records, examined < candidates.len()))
}
