//! Writes of calendar events (reference §5): create → POST `{"events":[…]}`; update → GET the
//! event, write the fields onto it, PUT it back (so class, attendees and recurrence stay);
//! delete → DELETE. The reference gives the Calendar service no `If-Unmodified-Since`, so an
//! expected version is checked against the event's `last-modified` just before the PUT (see
//! `assumed::CALENDAR_SENDS_PRECONDITION`).

use chrono::{DateTime, Utc};
use connector_sdk::{
    Connection, ConnectorError, WriteAction, WriteOp, WriteOutcome, WriteRequest, WriteResult,
};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::errors;
use crate::event_json;
use crate::events_read::{list, path};
use crate::http::Api;
use crate::objects::{event_field, EVENTS};
use crate::values::{iso, normalize, parse_time, text_of};
use crate::window;
use crate::write::{run_ops, Done};

/// Pages a match-key lookup reads at most (100 events each).
const FIND_PAGES: u32 = 100;

pub fn write(
    api: &Api,
    conn: &Connection,
    req: &WriteRequest,
    now: DateTime<Utc>,
) -> Result<Vec<WriteResult>, ConnectorError> {
    let kind = window::setting(conn)?;
    let w = window::window(&kind, now);
    run_ops(&req.ops, |op| one(api, &w, op))
}

fn fetch(api: &Api, id: &str) -> Result<Option<Map<String, Value>>, ConnectorError> {
    let answer = api.get(&path(Some(id)), &[])?;
    if answer.status == 404 {
        return Ok(None);
    }
    let body = answer.ok(&format!("reading event {id}"))?.body;
    Ok(body
        .get("events")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(Value::as_object)
        .cloned())
}

fn version_of(api: &Api, id: &str) -> Result<Option<String>, ConnectorError> {
    Ok(fetch(api, id)?
        .as_ref()
        .and_then(event_json::modified)
        .map(iso))
}

/// The ids of events in the window whose `field` equals `value`.
fn find(
    api: &Api,
    w: &window::Window,
    field: &str,
    value: &Value,
) -> Result<Vec<String>, ConnectorError> {
    let f = event_field(field).ok_or_else(|| errors::unknown_field(EVENTS, field))?;
    let wanted = text_of(&normalize(field, value, f.ty));
    let count = crate::assumed::MAX_COUNT;
    let mut exact = Vec::new();
    let mut loose = Vec::new();
    for p in 0..FIND_PAGES {
        let (events, _) = list(api, w, p * count, count)?;
        for ev in &events {
            let have = text_of(&event_json::fields(ev, None)[field]);
            let Some(id) = event_json::id(ev) else {
                continue;
            };
            if have == wanted {
                exact.push(id);
            } else if have.trim().to_lowercase() == wanted.trim().to_lowercase() {
                loose.push(id);
            }
        }
        if (events.len() as u32) < count {
            break;
        }
    }
    Ok(if exact.is_empty() { loose } else { exact })
}

fn target(api: &Api, w: &window::Window, op: &WriteOp) -> Result<Option<String>, ConnectorError> {
    if let Some(id) = op.id.as_ref().filter(|s| !s.is_empty()) {
        return Ok(Some(id.clone()));
    }
    let Some(k) = op
        .match_key
        .as_ref()
        .filter(|k| !text_of(&k.value).is_empty())
    else {
        return Ok(None);
    };
    match find(api, w, &k.field, &k.value)?.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(errors::many_matches(
            &k.field,
            &text_of(&k.value),
            many.len(),
        )),
    }
}

fn fields_with_key(op: &WriteOp) -> connector_sdk::Fields {
    let mut fields = op.fields.clone();
    if let Some(k) = &op.match_key {
        fields
            .entry(k.field.clone())
            .or_insert_with(|| k.value.clone());
    }
    fields
}

fn none_found(op: &WriteOp) -> ConnectorError {
    match &op.match_key {
        Some(k) => errors::no_match(&k.field, &text_of(&k.value)),
        None => errors::no_target(),
    }
}

fn one(api: &Api, w: &window::Window, op: &WriteOp) -> Result<Done, ConnectorError> {
    match op.action {
        WriteAction::Create => create(api, op),
        WriteAction::Delete => match target(api, w, op)? {
            Some(id) => delete(api, &id),
            None => Err(none_found(op)),
        },
        WriteAction::Upsert | WriteAction::Update => {
            // Refuse unknown fields before looking anything up.
            event_json::check_names(&op.fields)?;
            match target(api, w, op)? {
                Some(id) => update(api, op, &id),
                None if op.action == WriteAction::Upsert => create(api, op),
                None => Err(none_found(op)),
            }
        }
    }
}

fn create(api: &Api, op: &WriteOp) -> Result<Done, ConnectorError> {
    let fields = fields_with_key(op);
    let mut ev = Map::new();
    event_json::apply(&mut ev, &fields)?;
    if !ev.contains_key("summary") {
        return Err(errors::missing(crate::objects::event::SUMMARY));
    }
    let answer = api
        .send(
            Method::POST,
            &path(None),
            &[],
            &[],
            Some(&json!({ "events": [ev] })),
        )?
        .ok("creating an event")?;
    let id = answer
        .location
        .as_deref()
        .and_then(crate::docs::id_from_location)
        .ok_or_else(|| errors::malformed("the Location of the new event"))?;
    let version = version_of(api, &id)?;
    Ok(Done::ok(WriteOutcome::Created, id, version))
}

fn update(api: &Api, op: &WriteOp, id: &str) -> Result<Done, ConnectorError> {
    let current = fetch(api, id)?.ok_or_else(|| errors::not_found(id))?;
    let stamp = event_json::modified(&current);
    if let (Some(expected), Some(now)) = (op.expected_version.as_deref(), stamp) {
        if parse_time(expected).is_some_and(|e| now > e) {
            return Ok(Done::conflict(
                Some(id.to_string()),
                errors::changed_since(id, expected),
            ));
        }
    }
    let mut next = current.clone();
    event_json::apply(&mut next, &op.fields)?;
    if event_json::fields(&next, None) == event_json::fields(&current, None) {
        return Ok(Done::ok(
            WriteOutcome::Unchanged,
            id.to_string(),
            stamp.map(iso),
        ));
    }
    // Server-kept properties are not sent back.
    for k in ["href", "last-modified", "sequence"] {
        next.remove(k);
    }
    let mut headers = Vec::new();
    if let (true, Some(t)) = (
        crate::assumed::CALENDAR_SENDS_PRECONDITION,
        op.expected_version.as_deref().and_then(parse_time),
    ) {
        headers.push(("If-Unmodified-Since", crate::values::http_date(t)));
    }
    let answer = api.send(
        Method::PUT,
        &path(Some(id)),
        &[],
        &headers,
        Some(&json!({ "events": [next] })),
    )?;
    if answer.status == 412 {
        return Ok(Done::conflict(
            Some(id.to_string()),
            errors::status_error(412, &answer.body, None, &format!("updating event {id}")),
        ));
    }
    answer.ok(&format!("updating event {id}"))?;
    let version = version_of(api, id)?;
    Ok(Done::ok(WriteOutcome::Updated, id.to_string(), version))
}

fn delete(api: &Api, id: &str) -> Result<Done, ConnectorError> {
    let answer = api.send(Method::DELETE, &path(Some(id)), &[], &[], None)?;
    if answer.status != 404 {
        answer.ok(&format!("deleting event {id}"))?;
    }
    Ok(Done::ok(WriteOutcome::Deleted, id.to_string(), None))
}
