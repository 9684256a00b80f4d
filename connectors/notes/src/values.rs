//! Item values between DAS document JSON (reference §2.3: dates as `{"type":"datetime"}` with
//! `strongtype=true`, rich text as multipart, multi-value items as arrays) and the SDK's: text,
//! decimal strings, RFC 3339 times in the local zone, `null` for empty.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use connector_sdk::{ConnectorError, FieldType};
use serde_json::{json, Map, Value};

use crate::assumed;
use crate::errors;

/// `yyyy-MM-ddTHH:mm:ssZ`, the DAS date format.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 1123, as in `Last-Modified` / `If-Unmodified-Since`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// RFC 3339 in the local zone: `2025-04-14T17:00:00+09:00`.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&assumed::LOCAL_TZ)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A time as the hub or Domino writes it: RFC 3339, RFC 1123, or a local date / date-time
/// without offset (midnight for a bare date).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    assumed::LOCAL_TZ
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// An item of a document by name; Notes item names are case-insensitive.
pub fn item<'a>(doc: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    doc.get(name).or_else(|| {
        doc.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Any JSON value as plain text (numbers as written, lists joined).
pub fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(text_of).collect::<Vec<_>>().join(", "),
        Value::Object(_) => plain_text(v).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Plain text of an HTML fragment: tags dropped, `<br>` and `</p>` become line breaks.
fn html_text(s: &str) -> String {
    let s = s
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim_end()
        .to_string()
}

/// The text of a typed value: rich text (multipart: its text/plain part, else the HTML one
/// stripped), or a date's ISO text.
fn plain_text(v: &Value) -> Option<String> {
    match v.get("type").and_then(Value::as_str)? {
        "multipart" => {
            let parts = v.get("content").and_then(Value::as_array)?;
            let part = |kind: &str| {
                parts.iter().find(|p| {
                    p.get("contentType")
                        .and_then(Value::as_str)
                        .is_some_and(|t| t.to_ascii_lowercase().starts_with(kind))
                })
            };
            if let Some(p) = part("text/plain") {
                return p.get("data").and_then(Value::as_str).map(str::to_string);
            }
            part("text/html")
                .and_then(|p| p.get("data").and_then(Value::as_str))
                .map(html_text)
        }
        "richtext" => {
            let data = v.get("data").and_then(Value::as_str)?;
            let html = v
                .get("contentType")
                .and_then(Value::as_str)
                .is_none_or(|t| t.contains("html"));
            Some(if html {
                html_text(data)
            } else {
                data.to_string()
            })
        }
        "datetime" => v.get("data").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn is_time(t: FieldType) -> bool {
    matches!(t, FieldType::DateTime | FieldType::Date)
}

/// A DAS item as the SDK value of a field of type `ty`; empty and absent are `null`.
pub fn from_item(v: Option<&Value>, ty: FieldType) -> Value {
    let v = match v {
        None | Some(Value::Null) => return Value::Null,
        Some(Value::Array(a)) if is_time(ty) => match a.first() {
            Some(first) => first,
            None => return Value::Null,
        },
        Some(v) => v,
    };
    let text = text_of(v);
    if text.trim().is_empty() {
        return Value::Null;
    }
    match ty {
        FieldType::DateTime | FieldType::Date => match parse_time(&text) {
            Some(t) if ty == FieldType::Date => Value::String(
                t.with_timezone(&assumed::LOCAL_TZ)
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            Some(t) => Value::String(local(t)),
            None => Value::String(text),
        },
        FieldType::Boolean => match v {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Bool(matches!(text.trim(), "1" | "true" | "yes")),
        },
        _ => Value::String(text),
    }
}

/// The SDK value of `field` (type `ty`) as the JSON item DAS writes: text, a typed date, or
/// `""` to empty the item.
pub fn to_item(
    field: &str,
    v: &Value,
    ty: FieldType,
    options: &[&str],
) -> Result<Value, ConnectorError> {
    let empty = match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    if empty {
        return Ok(Value::String(String::new()));
    }
    match ty {
        FieldType::DateTime | FieldType::Date => {
            let t = v
                .as_str()
                .and_then(parse_time)
                .ok_or_else(|| errors::bad_value(field, "a date and time (RFC 3339)"))?;
            Ok(json!({"type": "datetime", "data": iso(t)}))
        }
        _ => {
            let text = match v {
                Value::Array(a) => {
                    let items: Vec<Value> = a.iter().map(|x| Value::String(text_of(x))).collect();
                    return Ok(Value::Array(items));
                }
                Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
                other => text_of(other),
            };
            if !options.is_empty() && !options.contains(&text.trim()) {
                return Err(errors::bad_value(
                    field,
                    &format!("one of {}", options.join(", ")),
                ));
            }
            Ok(Value::String(text))
        }
    }
}

/// The value as a read would give it back after writing it (to answer `unchanged`).
pub fn normalize(field: &str, v: &Value, ty: FieldType) -> Value {
    match to_item(field, v, ty, &[]) {
        Ok(item) => from_item(Some(&item), ty),
        Err(_) => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_become_sdk_values_and_back() {
        let d = json!({"type": "datetime", "data": "2025-04-14T08:00:00Z"});
        assert_eq!(
            from_item(Some(&d), FieldType::DateTime),
            json!("2025-04-14T17:00:00+09:00")
        );
        assert_eq!(
            to_item(
                "Due",
                &json!("2025-04-14T17:00:00+09:00"),
                FieldType::DateTime,
                &[]
            )
            .unwrap(),
            d
        );
        assert_eq!(
            to_item("Due", &json!("2025-04-14"), FieldType::DateTime, &[]).unwrap(),
            json!({"type": "datetime", "data": "2025-04-13T15:00:00Z"})
        );
        assert!(to_item("Due", &json!("next week"), FieldType::DateTime, &[]).is_err());
        let rich = json!({"type": "multipart", "content": [
            {"contentType": "text/html; charset=UTF-8", "data": "a<br>b"},
            {"contentType": "text/plain; charset=UTF-8", "data": "a\nb"}]});
        assert_eq!(from_item(Some(&rich), FieldType::LongText), json!("a\nb"));
        let html =
            json!({"type": "richtext", "contentType": "text/html", "data": "<p>x &amp; y</p>"});
        assert_eq!(from_item(Some(&html), FieldType::LongText), json!("x & y"));
        assert_eq!(from_item(Some(&json!("")), FieldType::Text), Value::Null);
        assert_eq!(from_item(Some(&json!(2)), FieldType::Picklist), json!("2"));
        assert_eq!(
            from_item(Some(&json!(["a", "b"])), FieldType::Text),
            json!("a, b")
        );
        assert!(to_item(
            "Importance",
            &json!("High"),
            FieldType::Picklist,
            &["1", "2", "3"]
        )
        .is_err());
        assert_eq!(
            normalize("x", &json!("2025-04-14T08:00:00Z"), FieldType::DateTime),
            json!("2025-04-14T17:00:00+09:00")
        );
        assert_eq!(normalize("x", &json!(""), FieldType::Text), Value::Null);
    }
}
