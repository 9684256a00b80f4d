//! The API's JSON shapes (API.md). Times are RFC 3339 in Japan time; secrets never appear:
//! a connection shows which credential keys are set, never their values.

use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use hub_domain::{Connection, Flow, Millis, Run, RunError};
use hub_messages::Message;
use serde_json::{json, Value};

pub fn ts(ms: Option<Millis>) -> Value {
    match ms.and_then(|m| Utc.timestamp_millis_opt(m).single()) {
        Some(t) => Value::String(t.with_timezone(&Tokyo).to_rfc3339()),
        None => Value::Null,
    }
}

pub fn connection(c: &Connection) -> Value {
    // The API has no page language: a coded reason in both, Japanese first.
    let status_message = c.status_message.as_deref().map(Message::stored_both);
    json!({
        "id": c.id,
        "connector": c.connector_id,
        "name": c.name,
        "registration_number": c.registration_number,
        "phone": c.phone,
        "settings": c.settings,
        "credentials_set": c.credential_keys,
        "status": c.status,
        "status_message": status_message,
        // The one status (from the last check or run that used it) with its time; `status`
        // above is its state, kept as it was.
        "status_detail": {
            "state": c.status,
            "checked_at": ts(c.checked_at),
            "message": status_message,
        },
        "token": {
            "status": c.token.status,
            "expires_at": ts(c.token.expires_at),
            "refreshed_at": ts(c.token.refreshed_at),
        },
        "created_at": ts(Some(c.created_at)),
        "updated_at": ts(Some(c.updated_at)),
    })
}

pub fn flow(f: &Flow) -> Value {
    let mut v = serde_json::to_value(&f.spec).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("id".into(), json!(f.id));
        m.insert("next_run_at".into(), ts(f.next_fire_at));
        m.insert("created_at".into(), ts(Some(f.created_at)));
        m.insert("updated_at".into(), ts(Some(f.updated_at)));
    }
    v
}

pub fn pending_record(p: &hub_domain::PendingRecord) -> Value {
    json!({
        "record": p.record,
        "side": p.side,
        "code": p.code,
        "message": Message::stored_both(&p.message),
        "title": p.title,
        "since": ts(Some(p.since)),
        "first_run": p.first_run_id,
        "last_run": p.last_run_id,
    })
}

/// A record's error with its message in both languages (the API has no page language).
pub fn run_error(e: &RunError) -> Value {
    json!({
        "record": e.record,
        "side": e.side,
        "code": e.code,
        "message": Message::stored_both(&e.message),
        "title": e.title,
        "url": e.url,
        "field": e.field,
        "value": e.value,
    })
}

pub fn run(r: &Run, errors: Option<&[RunError]>) -> Value {
    let mut v = json!({
        "id": r.id,
        "flow": r.flow_id,
        "trigger": r.trigger,
        "status": r.status,
        "queued_at": ts(Some(r.queued_at)),
        "started_at": ts(r.started_at),
        "finished_at": ts(r.finished_at),
        "scheduled_for": ts(r.scheduled_for),
        "attempt": r.attempt,
        "counts": r.counts,
        "message": r.message.as_deref().map(Message::stored_both),
    });
    if let Some(e) = errors {
        v["errors"] = e.iter().map(run_error).collect();
    }
    v
}
