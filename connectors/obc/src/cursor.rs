//! The read cursor: a pass over the records changed since a watermark, paged by code (keyset,
//! so records changed during the pass do not shift its pages), and the server time the pass
//! began, which becomes the next pass's watermark.
//!
//! ```json
//! {"v":1,"since":"2025-04-01T09:59:59Z","start":"2025-04-01T10:00:00Z","after":"000100"}
//! ```

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use connector_sdk::{ConnectorError, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::assumed;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub v: u32,
    /// `updatedSince` of every page of this pass; `None` reads every live record.
    #[serde(default)]
    pub since: Option<String>,
    /// When the pass began by the server's clock (set by its first page).
    #[serde(default)]
    pub start: Option<String>,
    /// The last code the pass reported; the next page starts after it.
    #[serde(default)]
    pub after: Option<String>,
}

pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn parse_time(s: &str, what: &str) -> Result<DateTime<Utc>, ConnectorError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ConnectorError::new(
                ErrorKind::InvalidData,
                format!("{what} '{s}' is not an RFC 3339 date-time"),
            )
            .with_code("bad_cursor")
        })
}

impl Cursor {
    /// The saved cursor, or a new pass from the hub's `since` (first-run window).
    pub fn start(saved: Option<&str>, since: Option<&str>) -> Result<Cursor, ConnectorError> {
        if let Some(s) = saved {
            let c: Cursor = serde_json::from_str(s).map_err(|e| {
                ConnectorError::new(
                    ErrorKind::Internal,
                    format!("the saved 奉行 read position is unreadable ({e}); reset the flow's cursor to read everything again"),
                )
                .with_code("bad_cursor")
                .with_ja("保存された読み取り位置を読めません。連携サービスの読み取り位置をリセットしてください")
            })?;
            if c.v != VERSION {
                return Err(ConnectorError::new(
                    ErrorKind::Internal,
                    format!("the saved 奉行 read position has version {}, this connector reads {VERSION}", c.v),
                )
                .with_code("bad_cursor"));
            }
            return Ok(c);
        }
        let since = match since {
            Some(s) => Some(stamp(parse_time(s, "since")?)),
            None => None,
        };
        Ok(Cursor {
            v: VERSION,
            since,
            start: None,
            after: None,
        })
    }

    /// The same pass, after `code`.
    pub fn next_page(&self, start: DateTime<Utc>, code: &str) -> Cursor {
        Cursor {
            v: VERSION,
            since: self.since.clone(),
            start: Some(self.start.clone().unwrap_or_else(|| stamp(start))),
            after: Some(code.to_string()),
        }
    }

    /// The pass after this one: everything changed since this pass began (less the overlap).
    pub fn next_pass(&self, start: DateTime<Utc>) -> Result<Cursor, ConnectorError> {
        let began = match &self.start {
            Some(s) => parse_time(s, "start")?,
            None => start,
        };
        Ok(Cursor {
            v: VERSION,
            since: Some(stamp(
                began - Duration::seconds(assumed::WATERMARK_OVERLAP_SECS),
            )),
            start: None,
            after: None,
        })
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pass_keeps_its_start_and_the_next_begins_a_second_before_it() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let c = Cursor::start(None, Some("2025-04-01T19:00:00+09:00")).unwrap();
        assert_eq!(c.since.as_deref(), Some("2025-04-01T10:00:00Z"));
        let p2 = c.next_page(t("2025-04-02T00:00:00Z"), "000100");
        let p3 = p2.next_page(t("2025-04-02T00:05:00Z"), "000200");
        assert_eq!(p3.start.as_deref(), Some("2025-04-02T00:00:00Z"));
        let next = p3.next_pass(t("2025-04-02T00:09:00Z")).unwrap();
        assert_eq!(next.since.as_deref(), Some("2025-04-01T23:59:59Z"));
        assert_eq!(next.after, None);
        let back = Cursor::start(Some(&next.encode()), None).unwrap();
        assert_eq!(back, next);
        assert!(Cursor::start(Some("{"), None).is_err());
    }
}
