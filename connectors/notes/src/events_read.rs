//! Reads of calendar events through the Calendar service (reference §5), one bounded page per
//! call: every run sweeps the `events_window` range by position (`start`/`count`, sorted by
//! start) and reports the events changed since the watermark (`last-modified`) or that entered
//! the range since the last sweep. Private entries come back flagged: a non-public class, or
//! Readers items on the entry's document (§7).

use chrono::{DateTime, Utc};
use connector_sdk::{Connection, ConnectorError, ErrorKind, ReadPage, ReadRequest, Record};
use serde_json::{Map, Value};

use crate::assumed;
use crate::cursor::{Cursor, Sweep};
use crate::docs;
use crate::event_json;
use crate::http::Api;
use crate::objects::EVENTS;
use crate::privacy;
use crate::read::{overlap_ids, page_size, server_now};
use crate::values::iso;
use crate::window::{self, Window};

/// `api/calendar/events` (and one event below it) as path segments.
pub fn path(id: Option<&str>) -> Vec<&str> {
    let mut p = vec!["api", "calendar", "events"];
    p.extend(id);
    p
}

/// Events of one listing page, and the server's `Date`.
pub type Listing = (Vec<Map<String, Value>>, Option<String>);

/// One page of the range; an empty range is 200 with no body.
pub fn list(api: &Api, w: &Window, start: u32, count: u32) -> Result<Listing, ConnectorError> {
    let mut query: Vec<(&str, String)> = w.query().to_vec();
    query.push(("start", start.to_string()));
    query.push(("count", count.to_string()));
    let answer = api.get(&path(None), &query)?.ok("reading the calendar")?;
    let events = answer
        .body
        .get("events")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|e| e.as_object().cloned()).collect())
        .unwrap_or_default();
    Ok((events, answer.date))
}

/// Whether the entry's document restricts readers (the event's id is its UNID, see assumed);
/// an entry without a readable document is judged by its class alone.
fn restricted(api: &Api, id: &str) -> Result<bool, ConnectorError> {
    if !assumed::EVENT_ID_IS_UNID {
        return Ok(false);
    }
    match docs::fetch(api, id) {
        Ok(Some(doc)) => Ok(privacy::document(&doc)),
        Ok(None) => Ok(false),
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::PermissionDenied | ErrorKind::NotFound | ErrorKind::InvalidData
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// The record of an event (private when its class or its document says so).
pub fn record(
    api: &Api,
    ev: &Map<String, Value>,
    wanted: Option<&[String]>,
) -> Result<Option<Record>, ConnectorError> {
    let Some(id) = event_json::id(ev) else {
        return Ok(None);
    };
    let stamp = event_json::modified(ev).map(iso);
    let private = privacy::event_class(ev) || restricted(api, &id)?;
    Ok(Some(Record {
        id,
        version: stamp.clone(),
        modified_at: stamp,
        private,
        deleted: false,
        fields: event_json::fields(ev, wanted),
    }))
}

pub fn read(
    api: &Api,
    conn: &Connection,
    req: &ReadRequest,
    now: DateTime<Utc>,
) -> Result<ReadPage, ConnectorError> {
    let kind = window::for_read(conn, req)?;
    let mut cursor = match &req.cursor {
        Some(c) => Cursor::decode(c, EVENTS)?,
        None => Cursor::initial(EVENTS, req.since.as_deref())?,
    };
    let page = page_size(req);
    let mut sweep = cursor.sweep.take().unwrap_or_else(|| Sweep {
        window: Some(window::window(&kind, now)),
        ..Sweep::default()
    });
    let w = sweep
        .window
        .clone()
        .unwrap_or_else(|| window::window(&kind, now));
    let from = sweep.next.saturating_sub(assumed::PAGE_OVERLAP);
    let count = sweep.next - from + page;
    let (events, date) = list(api, &w, from, count)?;
    if sweep.started.is_none() {
        sweep.started = Some(server_now(date.as_deref()));
    }
    let mut taken: Vec<&Map<String, Value>> = Vec::new();
    let mut taken_ids: Vec<String> = Vec::new();
    let mut next = from + events.len() as u32;
    for (i, ev) in events.iter().enumerate() {
        let Some(id) = event_json::id(ev) else {
            continue;
        };
        if sweep.last_ids.contains(&id) || taken_ids.contains(&id) {
            continue;
        }
        if taken.len() as u32 == page {
            next = from + i as u32;
            break;
        }
        taken.push(ev);
        taken_ids.push(id);
    }
    let done = (events.len() as u32) < count && next == from + events.len() as u32;
    let mut records = Vec::new();
    for (ev, id) in taken.iter().zip(&taken_ids) {
        let stamp = event_json::modified(ev);
        sweep.note(id, stamp);
        // Entered the range since the last sweep (a "today" window moves every day).
        let entered = match (&cursor.window, event_json::span(ev)) {
            (Some(prev), Some((s, e))) => !prev.holds(s, e),
            _ => false,
        };
        if cursor.is_new(id, stamp) || entered {
            records.extend(record(api, ev, req.fields.as_deref())?);
        }
    }
    let consumed: Vec<String> = events[..(next - from) as usize]
        .iter()
        .filter_map(event_json::id)
        .collect();
    sweep.last_ids = overlap_ids(&consumed);
    sweep.next = next;
    cursor.sweep = Some(sweep);
    if done {
        cursor.finish_sweep();
    }
    Ok(ReadPage {
        records,
        next_cursor: Some(cursor.encode()),
        has_more: !done,
        issues: Vec::new(),
        ..Default::default()
    })
}
