//! Calendar events (reference §5) as fields and back: `start`/`end` objects
//! (`{"date","time","utc"|"tzid"}`, no `time` for all-day events) as RFC 3339 times in the
//! local zone, plus `all_day`; organizer and attendees as read-only text.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use connector_sdk::{ConnectorError, Fields};
use serde_json::{json, Map, Value};

use crate::assumed;
use crate::errors;
use crate::objects::{event, event_field, EVENTS};
use crate::values::{from_item, local, parse_time, text_of, to_item};

/// The instant of a `start`/`end` object and whether it has no time (all-day).
pub fn when(v: &Value) -> Option<(DateTime<Utc>, bool)> {
    let date = NaiveDate::parse_from_str(v.get("date")?.as_str()?, "%Y-%m-%d").ok()?;
    let time = v.get("time").and_then(Value::as_str);
    let all_day = time.is_none();
    let t = match time {
        Some(t) => NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()?,
        None => NaiveTime::MIN,
    };
    let naive = date.and_time(t);
    if v.get("utc").and_then(Value::as_bool) == Some(true) {
        return Some((Utc.from_utc_datetime(&naive), all_day));
    }
    // A named zone, else floating (read in the local zone).
    let tz: Tz = v
        .get("tzid")
        .and_then(Value::as_str)
        .and_then(|z| z.parse().ok())
        .unwrap_or(assumed::LOCAL_TZ);
    let at = tz.from_local_datetime(&naive).earliest()?;
    Some((at.with_timezone(&Utc), all_day))
}

/// The start and end instants of an event (the end defaults to the start).
pub fn span(ev: &Map<String, Value>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let (start, _) = when(ev.get("start")?)?;
    let end = ev
        .get("end")
        .and_then(when)
        .map(|(t, _)| t)
        .unwrap_or(start);
    Some((start, end.max(start)))
}

pub fn id(ev: &Map<String, Value>) -> Option<String> {
    ev.get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn modified(ev: &Map<String, Value>) -> Option<DateTime<Utc>> {
    ev.get("last-modified")
        .and_then(Value::as_str)
        .and_then(parse_time)
}

fn person(p: &Value) -> String {
    let name = p.get("displayName").and_then(Value::as_str).unwrap_or("");
    match p
        .get("email")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
    {
        Some(mail) if !name.is_empty() => format!("{name} <{mail}>"),
        Some(mail) => mail.to_string(),
        None => name.to_string(),
    }
}

/// The event's fields (only `wanted` ones when the hub named them); empty ones are `null`.
pub fn fields(ev: &Map<String, Value>, wanted: Option<&[String]>) -> Fields {
    let start = ev.get("start").and_then(when);
    let end = ev.get("end").and_then(when);
    let mut out = Fields::new();
    let mut put = |k: &str, v: Value| {
        if wanted.is_none_or(|w| w.iter().any(|x| x == k)) {
            out.insert(k.to_string(), v);
        }
    };
    for k in [event::SUMMARY, event::LOCATION, event::DESCRIPTION] {
        let ty = event_field(k)
            .map(|f| f.ty)
            .unwrap_or(connector_sdk::FieldType::Text);
        put(k, from_item(ev.get(k), ty));
    }
    put(
        event::START,
        start
            .map(|(t, _)| Value::String(local(t)))
            .unwrap_or(Value::Null),
    );
    put(
        event::END,
        end.map(|(t, _)| Value::String(local(t)))
            .unwrap_or(Value::Null),
    );
    put(event::ALL_DAY, Value::Bool(start.is_some_and(|(_, a)| a)));
    put(
        event::ORGANIZER,
        ev.get("organizer")
            .map(|o| {
                o.get("email")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| person(o))
            })
            .filter(|s| !s.is_empty())
            .map(Value::String)
            .unwrap_or(Value::Null),
    );
    let attendees: Vec<String> = ev
        .get("attendees")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(person).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    put(
        event::ATTENDEES,
        if attendees.is_empty() {
            Value::Null
        } else {
            Value::String(attendees.join(", "))
        },
    );
    out
}

/// A `start`/`end` object in the local zone (the instant kept); all-day: the local date only.
fn when_json(t: DateTime<Utc>, all_day: bool) -> Value {
    let l = t.with_timezone(&assumed::LOCAL_TZ);
    if all_day {
        json!({"date": l.format("%Y-%m-%d").to_string()})
    } else {
        json!({
            "date": l.format("%Y-%m-%d").to_string(),
            "time": l.format("%H:%M:%S").to_string(),
            "tzid": assumed::LOCAL_TZ.name(),
        })
    }
}

fn as_bool(field: &str, v: &Value) -> Result<bool, ConnectorError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        other => match text_of(other).trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            _ => Err(errors::bad_value(field, "true or false")),
        },
    }
}

fn time_of(field: &str, v: &Value) -> Result<Option<DateTime<Utc>>, ConnectorError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        other => parse_time(&text_of(other))
            .map(Some)
            .ok_or_else(|| errors::bad_value(field, "a date and time (RFC 3339)")),
    }
}

/// Refuses fields events do not have, and computed ones, by name.
pub fn check_names(fields: &Fields) -> Result<(), ConnectorError> {
    for k in fields.keys() {
        let f = event_field(k).ok_or_else(|| errors::unknown_field(EVENTS, k))?;
        if f.read_only {
            return Err(errors::read_only(f.id));
        }
    }
    Ok(())
}

/// Writes `fields` onto an event (a new one, or the current one read back, so that what the
/// fields do not name — class, attendees, recurrence — stays as it is).
pub fn apply(ev: &mut Map<String, Value>, fields: &Fields) -> Result<(), ConnectorError> {
    check_names(fields)?;
    for k in [event::SUMMARY, event::LOCATION, event::DESCRIPTION] {
        if let Some(v) = fields.get(k) {
            match to_item(k, v, connector_sdk::FieldType::Text, &[])? {
                Value::String(s) if s.is_empty() => {
                    ev.remove(k);
                }
                other => {
                    ev.insert(k.to_string(), Value::String(text_of(&other)));
                }
            }
        }
    }
    let current_start = ev.get("start").and_then(when);
    let current_end = ev.get("end").and_then(when);
    let all_day = match fields.get(event::ALL_DAY) {
        Some(v) => as_bool(event::ALL_DAY, v)?,
        None => current_start.is_some_and(|(_, a)| a),
    };
    let start = match fields.get(event::START) {
        Some(v) => time_of(event::START, v)?,
        None => current_start.map(|(t, _)| t),
    };
    let start = start.ok_or_else(|| errors::missing(event::START))?;
    let end = match fields.get(event::END) {
        Some(v) => time_of(event::END, v)?,
        // A start moved alone keeps the event's length.
        None => match (current_start, current_end) {
            (Some((s, _)), Some((e, _))) => Some(start + (e - s)),
            (_, e) => e.map(|(t, _)| t),
        },
    };
    ev.insert("start".into(), when_json(start, all_day));
    match end {
        Some(e) if e < start => {
            return Err(errors::bad_value(event::END, "a time after the start"));
        }
        Some(e) => {
            ev.insert("end".into(), when_json(e, all_day));
        }
        None => {
            ev.remove("end");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_fields() {
        let ev = json!({"id": "E1", "summary": "定例会議",
            "start": {"date": "2025-04-14", "time": "10:00:00", "tzid": "Asia/Tokyo"},
            "end": {"date": "2025-04-14", "time": "02:00:00", "utc": true},
            "organizer": {"displayName": "山田", "email": "y@example.jp"},
            "attendees": [{"displayName": "佐藤", "email": "s@example.jp"}], "class": "public"});
        let ev = ev.as_object().unwrap().clone();
        let f = fields(&ev, None);
        assert_eq!(f["start"], json!("2025-04-14T10:00:00+09:00"));
        assert_eq!(f["end"], json!("2025-04-14T11:00:00+09:00"));
        assert_eq!(f["all_day"], json!(false));
        assert_eq!(f["organizer"], json!("y@example.jp"));
        assert_eq!(f["attendees"], json!("佐藤 <s@example.jp>"));
        assert_eq!(f["location"], Value::Null);

        let mut w = ev.clone();
        let mut change = Fields::new();
        change.insert("start".into(), json!("2025-04-14T03:00:00Z"));
        change.insert("location".into(), json!("本社"));
        apply(&mut w, &change).unwrap();
        assert_eq!(
            w["start"],
            json!({"date": "2025-04-14", "time": "12:00:00", "tzid": "Asia/Tokyo"})
        );
        assert_eq!(w["end"]["time"], json!("13:00:00"));
        assert_eq!(w["class"], json!("public"));
        assert_eq!(fields(&w, None)["location"], json!("本社"));
        let mut bad = Fields::new();
        bad.insert("organizer".into(), json!("x"));
        assert!(apply(&mut w, &bad).is_err());

        let day = json!({"start": {"date": "2025-04-01"}, "end": {"date": "2025-04-02"}});
        let f = fields(day.as_object().unwrap(), None);
        assert_eq!(
            (f["start"].clone(), f["all_day"].clone()),
            (json!("2025-04-01T00:00:00+09:00"), json!(true))
        );
    }
}
