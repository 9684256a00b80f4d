//! DAS error bodies (reference §3) and the date formats of the wire.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde_json::{json, Value};

/// An error as DAS answers it: `{"code","text","message"}`, only `code` and `text`, or no body.
#[derive(Debug)]
pub struct DasError {
    status: StatusCode,
    message: Option<String>,
    empty: bool,
}

impl DasError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        DasError {
            status,
            message: Some(message.into()),
            empty: false,
        }
    }

    /// `{"code","text"}` only: a disabled service or a CSRF mismatch.
    pub fn bare(status: StatusCode) -> Self {
        DasError {
            status,
            message: None,
            empty: false,
        }
    }

    /// No body at all: 412 and 304.
    pub fn empty(status: StatusCode) -> Self {
        DasError {
            status,
            message: None,
            empty: true,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn invalid_param(name: &str, value: &str) -> Self {
        Self::bad_request(format!("Invalid parameter {name}: {value}"))
    }

    pub fn json_parse() -> Self {
        Self::bad_request("Error while parsing the JSON content")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for DasError {
    fn into_response(self) -> Response {
        if self.empty {
            return self.status.into_response();
        }
        let text = self.status.canonical_reason().unwrap_or("Error");
        let mut body = json!({"code": self.status.as_u16(), "text": text});
        if let Some(m) = self.message {
            body["message"] = Value::String(m);
        }
        json_response(self.status, &body)
    }
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

/// Renders an injected fault (crate::control) as a DAS error.
pub fn render_fault(status: StatusCode, code: &str) -> Response {
    DasError::new(status, format!("Injected sandbox fault: {code}")).into_response()
}

/// `yyyy-MM-ddTHH:mm:ssZ`, the DAS date format.
pub fn iso(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// RFC 1123, as in `Last-Modified`.
pub fn http_date(dt: DateTime<Utc>) -> String {
    dt.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an RFC 1123 / RFC 2822 date, or an ISO one.
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc2822(s)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .map(|d| d.with_timezone(&Utc))
        .ok()
}

/// ISO date-time as sent in query parameters and items; a bare date means midnight UTC.
pub fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(Utc.from_utc_datetime(&d));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Utc.from_utc_datetime(&d))
}

/// Whole seconds: DAS compares modification times at one-second precision (§2.5).
pub fn secs(dt: DateTime<Utc>) -> i64 {
    dt.timestamp()
}

pub fn header_str<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

pub fn parse_json(body: &[u8]) -> Result<Value, DasError> {
    serde_json::from_slice(body).map_err(|_| DasError::json_parse())
}

/// A new UNID: 32 uppercase hex characters.
pub fn new_unid() -> String {
    uuid::Uuid::new_v4().simple().to_string().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip_at_second_precision() {
        let t = Utc.with_ymd_and_hms(2024, 5, 1, 2, 3, 4).single();
        let t = t.unwrap_or_default();
        let s = http_date(t);
        assert_eq!(s, "Wed, 01 May 2024 02:03:04 GMT");
        assert_eq!(parse_http_date(&s), Some(t));
        assert_eq!(iso(t), "2024-05-01T02:03:04Z");
        assert_eq!(
            parse_iso("2024-05-01"),
            Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).single()
        );
        assert!(parse_http_date("yesterday").is_none());
    }
}
