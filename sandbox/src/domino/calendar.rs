//! The Calendar service (reference §5). Events are `Appointment` documents of the mail file, so
//! the Data service shows the same entries (with `OrgConfidential` where the calendar says
//! `class: "private"`).

use super::assumed::{self, appt};
use super::auth::AuthUser;
use super::data::{db_path, find};
use super::http::{http_date, iso, json_response, parse_iso, parse_json, DasError};
use super::model::{Database, Document, Item, Store, User};
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

type Params = HashMap<String, String>;

fn open<'a>(s: &'a Store, path: &str) -> Result<&'a Database, DasError> {
    if !s.settings.enabled("Calendar") {
        return Err(DasError::bare(StatusCode::FORBIDDEN));
    }
    find(s, path)
}

fn is_event(d: &Document) -> bool {
    d.form()
        .is_some_and(|f| f.eq_ignore_ascii_case(assumed::FORM_APPOINTMENT))
}

fn uid(d: &Document) -> String {
    d.text("ApptUNID")
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| d.unid.clone())
}

fn find_event<'a>(db: &'a Database, id: &str, user: &User) -> Option<&'a Document> {
    db.docs
        .values()
        .find(|d| is_event(d) && d.readable_by(user) && uid(d).eq_ignore_ascii_case(id))
}

fn start_end(d: &Document) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = d.get(appt::START)?.as_datetime()?;
    let end = d
        .get(appt::END)
        .and_then(Item::as_datetime)
        .unwrap_or(start);
    Some((start, end.max(start)))
}

fn zone(d: &Document) -> Option<Tz> {
    d.text(appt::TZID).and_then(|z| z.parse::<Tz>().ok())
}

/// `{"date","time","utc":true}` or `{"date","time","tzid"}`; all-day events have no time.
fn when(t: DateTime<Utc>, tz: Option<Tz>, all_day: bool) -> Value {
    let (date, time) = match tz {
        Some(z) => {
            let l = t.with_timezone(&z);
            (
                l.format("%Y-%m-%d").to_string(),
                l.format("%H:%M:%S").to_string(),
            )
        }
        None => (
            t.format("%Y-%m-%d").to_string(),
            t.format("%H:%M:%S").to_string(),
        ),
    };
    let mut m = Map::new();
    m.insert("date".into(), json!(date));
    if !all_day {
        m.insert("time".into(), json!(time));
        match tz {
            Some(z) => m.insert("tzid".into(), json!(z.name())),
            None => m.insert("utc".into(), json!(true)),
        };
    }
    Value::Object(m)
}

/// "Display Name <mail>" into `{"displayName","email"}`.
fn person(s: &str) -> Value {
    match s.rsplit_once('<') {
        Some((name, mail)) => json!({
            "displayName": name.trim(),
            "email": mail.trim_end_matches('>').trim(),
        }),
        None => json!({"displayName": s.trim()}),
    }
}

pub fn class_of(d: &Document) -> String {
    if d.text(assumed::ORG_CONFIDENTIAL).as_deref() == Some("1") {
        d.text(appt::CLASS)
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "private".into())
    } else {
        "public".into()
    }
}

/// The event JSON of §5.
pub fn render(db_href: &str, d: &Document) -> Value {
    let id = uid(d);
    let mut m = Map::new();
    m.insert(
        "href".into(),
        json!(format!("{db_href}/api/calendar/events/{id}")),
    );
    m.insert("id".into(), json!(id));
    for (key, item) in [
        ("summary", appt::SUBJECT),
        ("location", appt::LOCATION),
        ("description", appt::BODY),
    ] {
        if let Some(v) = d.text(item).filter(|v| !v.is_empty()) {
            m.insert(key.into(), json!(v));
        }
    }
    let kind = d
        .text(appt::TYPE)
        .unwrap_or_else(|| appt::TYPE_APPOINTMENT.into());
    let all_day = kind == appt::TYPE_ALL_DAY;
    if let Some((start, end)) = start_end(d) {
        let tz = zone(d);
        m.insert("start".into(), when(start, tz, all_day));
        m.insert("end".into(), when(end, tz, all_day));
    }
    m.insert("class".into(), json!(class_of(d)));
    let transparency = if d.text(appt::BUSY).as_deref() == Some("2") {
        "transparent"
    } else {
        "opaque"
    };
    m.insert("transparency".into(), json!(transparency));
    m.insert("status".into(), json!("confirmed"));
    let seq = d
        .get(appt::SEQUENCE)
        .and_then(Item::as_number)
        .unwrap_or(0.0);
    m.insert("sequence".into(), json!(seq as i64));
    m.insert("last-modified".into(), json!(iso(d.modified)));
    if let Some(c) = d.text(appt::CHAIR).filter(|c| !c.is_empty()) {
        m.insert("organizer".into(), person(&c));
    }
    let attendees = d
        .get(appt::ATTENDEES)
        .map(Item::as_list)
        .unwrap_or_default();
    if !attendees.is_empty() {
        let list: Vec<Value> = attendees
            .iter()
            .map(|a| {
                let mut p = person(a);
                p["role"] = json!("req-participant");
                p["status"] = json!("needs-action");
                p["rsvp"] = json!(true);
                p["userType"] = json!("individual");
                p
            })
            .collect();
        m.insert("attendees".into(), Value::Array(list));
    }
    m.insert("x-lotus-appttype".into(), json!({"data": kind}));
    Value::Object(m)
}

/// A `start`/`end` object: instant, zone (None = UTC) and whether it has no time.
fn parse_when(v: &Value, name: &str) -> Result<(DateTime<Utc>, Option<Tz>, bool), DasError> {
    let bad = || DasError::bad_request(format!("Invalid event {name}."));
    let date = v
        .get("date")
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(bad)?;
    let utc = v.get("utc").and_then(Value::as_bool).unwrap_or(false);
    let tz: Option<Tz> = match v.get("tzid").and_then(Value::as_str) {
        Some(z) => Some(
            z.parse::<Tz>()
                .map_err(|_| DasError::bad_request(format!("Unknown time zone {z}.")))?,
        ),
        None if utc => None,
        // Floating time: read in the server's zone.
        None => appt::DEFAULT_TZ.parse::<Tz>().ok(),
    };
    let (time, all_day) = match v.get("time").and_then(Value::as_str) {
        Some(t) => (
            NaiveTime::parse_from_str(t, "%H:%M:%S").map_err(|_| bad())?,
            false,
        ),
        None => (NaiveTime::MIN, true),
    };
    let local = date.and_time(time);
    let instant = match tz {
        Some(z) => z
            .from_local_datetime(&local)
            .earliest()
            .ok_or_else(bad)?
            .with_timezone(&Utc),
        None => Utc.from_utc_datetime(&local),
    };
    Ok((instant, tz, all_day))
}

/// Writes the event's properties onto its document.
fn apply(d: &mut Document, ev: &Value) -> Result<(), DasError> {
    let Value::Object(o) = ev else {
        return Err(DasError::bad_request("An event must be a JSON object."));
    };
    let start = o
        .get("start")
        .ok_or_else(|| DasError::bad_request("The event start is missing."))?;
    let (start, tz, all_day) = parse_when(start, "start")?;
    let end = match o.get("end") {
        Some(e) => parse_when(e, "end")?.0,
        None if all_day => start + Duration::days(1),
        None => start + Duration::hours(1),
    };
    if end < start {
        return Err(DasError::bad_request("The event ends before it starts."));
    }
    d.set(appt::START, Item::DateTime(start));
    d.set(appt::END, Item::DateTime(end));
    match tz {
        Some(z) => d.set(appt::TZID, Item::text(z.name())),
        None => d.remove(appt::TZID),
    }
    for (key, item) in [
        ("summary", appt::SUBJECT),
        ("location", appt::LOCATION),
        ("description", appt::BODY),
    ] {
        match o.get(key).and_then(Value::as_str) {
            Some(v) if item == appt::BODY => d.set(item, Item::RichText(v.to_string())),
            Some(v) => d.set(item, Item::text(v)),
            None => d.remove(item),
        }
    }
    let class = o
        .get("class")
        .and_then(Value::as_str)
        .unwrap_or("public")
        .to_ascii_lowercase();
    match class.as_str() {
        "private" | "confidential" => {
            d.set(assumed::ORG_CONFIDENTIAL, Item::text("1"));
            d.remove(assumed::PUBLIC_ACCESS);
            if class == "confidential" {
                d.set(appt::CLASS, Item::text("confidential"));
            } else {
                d.remove(appt::CLASS);
            }
        }
        "public" => {
            d.remove(assumed::ORG_CONFIDENTIAL);
            d.remove(appt::CLASS);
            d.set(assumed::PUBLIC_ACCESS, Item::text("1"));
        }
        other => return Err(DasError::bad_request(format!("Invalid class {other}."))),
    }
    let transparent = o.get("transparency").and_then(Value::as_str) == Some("transparent");
    d.set(appt::BUSY, Item::text(if transparent { "2" } else { "1" }));
    if let Some(org) = o.get("organizer") {
        let name = org.get("displayName").and_then(Value::as_str).unwrap_or("");
        let mail = org.get("email").and_then(Value::as_str).unwrap_or("");
        d.set(appt::CHAIR, Item::text(format!("{name} <{mail}>")));
    }
    let attendees: Vec<String> = o
        .get("attendees")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let name = p.get("displayName").and_then(Value::as_str).unwrap_or("");
                    let mail = p.get("email").and_then(Value::as_str).unwrap_or("");
                    format!("{name} <{mail}>")
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = if all_day {
        appt::TYPE_ALL_DAY
    } else if attendees.is_empty() {
        appt::TYPE_APPOINTMENT
    } else {
        appt::TYPE_MEETING
    };
    if attendees.is_empty() {
        d.remove(appt::ATTENDEES);
    } else {
        d.set(appt::ATTENDEES, Item::TextList(attendees));
    }
    d.set(appt::TYPE, Item::text(kind));
    Ok(())
}

/// The one event of a `{"events":[…]}` body.
fn one_event(body: &[u8], headers: &HeaderMap) -> Result<Value, DasError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("text/calendar") {
        return Err(DasError::bad_request(
            "iCalendar input is not supported by the sandbox; send JSON.",
        ));
    }
    let v = parse_json(body)?;
    match v.get("events").and_then(Value::as_array).map(Vec::as_slice) {
        Some([ev]) => Ok(ev.clone()),
        _ => Err(DasError::bad_request(
            "The request must hold exactly one event in \"events\".",
        )),
    }
}

fn int(q: &Params, name: &str) -> Result<Option<i64>, DasError> {
    q.get(name)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| DasError::invalid_param(name, v))
        })
        .transpose()
}

/// The `[since, before)` window: since/before, or sincenow/days; a year from now by default.
fn window(q: &Params) -> Result<(DateTime<Utc>, DateTime<Utc>), DasError> {
    let sincenow = q
        .get("sincenow")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "false" | "0"));
    let days = int(q, "days")?;
    if (q.contains_key("since") && sincenow) || (q.contains_key("before") && days.is_some()) {
        return Err(DasError::bad_request(
            "Invalid combination of date range parameters.",
        ));
    }
    let since = match q.get("since") {
        Some(v) => parse_iso(v).ok_or_else(|| DasError::invalid_param("since", v))?,
        None => Utc::now(),
    };
    let before = match (q.get("before"), days) {
        (Some(v), _) => parse_iso(v).ok_or_else(|| DasError::invalid_param("before", v))?,
        (None, Some(d)) if d >= 0 => since + Duration::days(d),
        (None, Some(d)) => return Err(DasError::invalid_param("days", &d.to_string())),
        (None, None) => since + Duration::days(365),
    };
    Ok((since, before))
}

/// `GET /events`: `{"events":[…]}` with `Content-Range: items a-b` (no total); an empty range is
/// 200 with no body and no Content-Type.
pub async fn list(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
) -> Response {
    let r = st.read(|s| {
        let db = open(s, &db_path(&p))?;
        let count = int(&q, "count")?.unwrap_or(50);
        if !(1..=100).contains(&count) {
            return Err(DasError::invalid_param("count", &count.to_string()));
        }
        let start = int(&q, "start")?.unwrap_or(0);
        if start < 0 {
            return Err(DasError::invalid_param("start", &start.to_string()));
        }
        if q.get("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("icalendar"))
        {
            return Err(DasError::bad_request(
                "format=icalendar is not supported by the sandbox.",
            ));
        }
        let (since, before) = window(&q)?;
        let mut events: Vec<(&Document, DateTime<Utc>)> = db
            .docs
            .values()
            .filter(|d| is_event(d) && d.readable_by(&user.0))
            .filter_map(|d| start_end(d).map(|(s, e)| (d, s, e)))
            .filter(|(_, s, e)| *s < before && *e >= since)
            .map(|(d, s, _)| (d, s))
            .collect();
        events.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.noteid.cmp(&b.0.noteid)));
        let fields: Option<Vec<String>> = q
            .get("fields")
            .map(|f| f.split(',').map(|x| x.trim().to_string()).collect());
        let href = db.href();
        let page: Vec<Value> = events
            .iter()
            .skip(start as usize)
            .take(count as usize)
            .map(|(d, _)| {
                let mut ev = render(&href, d);
                if let (Some(fields), Value::Object(m)) = (&fields, &mut ev) {
                    m.retain(|k, _| k == "href" || k == "id" || fields.iter().any(|f| f == k));
                }
                ev
            })
            .collect();
        if page.is_empty() {
            return Ok(StatusCode::OK.into_response());
        }
        let last = start as usize + page.len() - 1;
        let mut resp = json_response(StatusCode::OK, &json!({"events": page}));
        if let Ok(v) = HeaderValue::from_str(&format!("items {start}-{last}")) {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        Ok(resp)
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn create(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = db_path(&p);
    let r = st.write(|s| {
        open(s, &path)?;
        let ev = one_event(&body, &headers)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let mut draft = Document {
            unid: String::new(),
            noteid: 0,
            created: Utc::now(),
            modified: Utc::now(),
            parent: None,
            authors: vec![],
            items: Default::default(),
        };
        draft.set(
            appt::CHAIR,
            Item::text(format!("{} <{}>", user.0.display_name, user.0.email)),
        );
        apply(&mut draft, &ev)?;
        draft.set(appt::SEQUENCE, Item::Number(0.0));
        let unid = db.create(
            Some(assumed::FORM_APPOINTMENT),
            draft.items.into_iter().collect(),
            &user.0.full_name,
            Utc::now(),
        );
        if let Some(d) = db.doc_mut(&unid) {
            d.set("ApptUNID", Item::text(unid.clone()));
        }
        Ok((db.href(), unid))
    });
    match r {
        Ok((href, unid)) => {
            let mut resp = StatusCode::CREATED.into_response();
            let loc = format!("{}{href}/api/calendar/events/{unid}", st.base_url);
            if let Ok(v) = HeaderValue::from_str(&loc) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn not_found() -> DasError {
    DasError::not_found("The event was not found.")
}

pub async fn get_one(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
) -> Response {
    let id = p.get("uid").cloned().unwrap_or_default();
    let r = st.read(|s| {
        let db = open(s, &db_path(&p))?;
        let d = find_event(db, &id, &user.0).ok_or_else(not_found)?;
        let mut resp = json_response(StatusCode::OK, &json!({"events": [render(&db.href(), d)]}));
        if let Ok(v) = HeaderValue::from_str(&http_date(d.modified)) {
            resp.headers_mut().insert(header::LAST_MODIFIED, v);
        }
        Ok::<_, DasError>(resp)
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn update(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let id = p.get("uid").cloned().unwrap_or_default();
    let path = db_path(&p);
    let r = st.write(|s| {
        open(s, &path)?;
        let ev = one_event(&body, &headers)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let key = find_event(db, &id, &user.0)
            .ok_or_else(not_found)?
            .unid
            .clone();
        let Some(doc) = db.doc_mut(&key) else {
            return Err(not_found());
        };
        let mut next = doc.clone();
        apply(&mut next, &ev)?;
        let seq = next
            .get(appt::SEQUENCE)
            .and_then(Item::as_number)
            .unwrap_or(0.0);
        next.set(appt::SEQUENCE, Item::Number(seq + 1.0));
        next.modified = Utc::now();
        *doc = next;
        Ok(())
    });
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn delete(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
) -> Response {
    let id = p.get("uid").cloned().unwrap_or_default();
    let path = db_path(&p);
    let r = st.write(|s| {
        open(s, &path)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let key = find_event(db, &id, &user.0)
            .ok_or_else(not_found)?
            .unid
            .clone();
        db.docs.remove(&key);
        Ok(())
    });
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}
