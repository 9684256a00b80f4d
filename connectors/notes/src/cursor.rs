//! The read cursor: a durable watermark on modification times (`@modified` of documents,
//! `last-modified` of events) plus the position of a sweep in progress. Saved by the hub after
//! each page, so a later run — days later, in a new worker — resumes from it.
//!
//! A sweep pages through a view or the calendar range by position. Its watermark never moves
//! past the moment the sweep started, so an entry changed during the sweep at a position
//! already passed is read by the next one.
//!
//! ```json
//! {"v":1,"object":"contacts","mark":"2025-04-01T08:00:00Z","mark_ids":["A1…"],
//!  "sweep":{"next":50,"last_ids":["…"],"started":"2025-04-02T01:00:00Z",
//!           "top":"2025-04-01T09:00:00Z","top_ids":["…"],"window":null},
//!  "window":null}
//! ```

use chrono::{DateTime, Utc};
use connector_sdk::{ConnectorError, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::errors;
use crate::values::parse_time;
use crate::window::Window;

pub const VERSION: u32 = 1;

/// Most ids kept for one second of the watermark; beyond this the next read may report some of
/// them again (harmless: the hub sees them unchanged).
const MAX_IDS_AT_MARK: usize = 1_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub v: u32,
    /// The object the cursor belongs to: a cursor of another object is refused.
    pub object: String,
    /// Everything modified up to this time has been reported.
    pub mark: Option<DateTime<Utc>>,
    /// Ids reported with exactly `mark` (one-second precision: the second is read again).
    #[serde(default)]
    pub mark_ids: Vec<String>,
    #[serde(default)]
    pub sweep: Option<Sweep>,
    /// Events: the range of the last finished sweep; an event that entered the range since is
    /// reported although it did not change.
    #[serde(default)]
    pub window: Option<Window>,
}

/// A positional listing in progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Position (0-based) of the next entry to read.
    pub next: u32,
    /// Ids at the last positions read before `next`: the re-read overlap skips them.
    #[serde(default)]
    pub last_ids: Vec<String>,
    /// The server's clock when the sweep began.
    pub started: Option<DateTime<Utc>>,
    /// Newest modification seen so far, and the ids that carry it.
    pub top: Option<DateTime<Utc>>,
    #[serde(default)]
    pub top_ids: Vec<String>,
    /// Events: the range this sweep lists (fixed for the whole sweep).
    #[serde(default)]
    pub window: Option<Window>,
}

impl Cursor {
    /// A first read: from `since` when given, else from the beginning.
    pub fn initial(object: &str, since: Option<&str>) -> Result<Self, ConnectorError> {
        let mark = match since {
            Some(s) => Some(parse_time(s).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!("'since' is not an RFC 3339 time: {s}"),
                )
                .with_ja(format!("開始日時「{s}」を解釈できません"))
            })?),
            None => None,
        };
        Ok(Cursor {
            v: VERSION,
            object: object.to_string(),
            mark,
            ..Cursor::default()
        })
    }

    pub fn decode(s: &str, object: &str) -> Result<Self, ConnectorError> {
        serde_json::from_str::<Cursor>(s)
            .ok()
            .filter(|c| c.v == VERSION && c.object == object)
            .ok_or_else(errors::bad_cursor)
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Not yet reported: after the watermark, or at it under an id not seen there.
    pub fn is_new(&self, id: &str, stamp: Option<DateTime<Utc>>) -> bool {
        match (self.mark, stamp) {
            (Some(m), Some(s)) if s < m => false,
            (Some(m), Some(s)) if s == m => !self.mark_ids.iter().any(|i| i == id),
            _ => true,
        }
    }

    /// Moves the watermark to `stamp` (a change reported in time order).
    pub fn advance(&mut self, id: &str, stamp: DateTime<Utc>) {
        advance(&mut self.mark, &mut self.mark_ids, stamp, &[id.to_string()]);
    }

    /// The sweep ended: the watermark moves to its newest change, but not past its start.
    pub fn finish_sweep(&mut self) {
        let Some(sweep) = self.sweep.take() else {
            return;
        };
        let target = match (sweep.top, sweep.started) {
            (Some(t), Some(s)) => Some(t.min(s)),
            (top, _) => top,
        };
        if let Some(t) = target {
            let ids = if Some(t) == sweep.top {
                sweep.top_ids.clone()
            } else {
                Vec::new()
            };
            advance(&mut self.mark, &mut self.mark_ids, t, &ids);
        }
        if sweep.window.is_some() {
            self.window = sweep.window;
        }
    }
}

impl Sweep {
    pub fn note(&mut self, id: &str, stamp: Option<DateTime<Utc>>) {
        if let Some(s) = stamp {
            advance(&mut self.top, &mut self.top_ids, s, &[id.to_string()]);
        }
    }
}

/// Moves a (stamp, ids) watermark forward; equal stamps merge their ids.
fn advance(
    mark: &mut Option<DateTime<Utc>>,
    ids: &mut Vec<String>,
    stamp: DateTime<Utc>,
    new_ids: &[String],
) {
    match *mark {
        Some(c) if stamp < c => {}
        Some(c) if stamp == c => {
            for id in new_ids {
                if ids.len() < MAX_IDS_AT_MARK && !ids.contains(id) {
                    ids.push(id.clone());
                }
            }
        }
        _ => {
            *mark = Some(stamp);
            *ids = new_ids.iter().take(MAX_IDS_AT_MARK).cloned().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 4, 1, h, m, 0).unwrap()
    }

    #[test]
    fn a_sweep_never_moves_the_mark_past_its_start() {
        let mut c = Cursor::initial("contacts", None).unwrap();
        c.sweep = Some(Sweep {
            started: Some(t(10, 0)),
            ..Sweep::default()
        });
        let s = c.sweep.as_mut().unwrap();
        s.note("a", Some(t(9, 0)));
        s.note("b", Some(t(9, 0)));
        s.note("c", Some(t(8, 0)));
        c.finish_sweep();
        assert_eq!(
            (c.mark, c.mark_ids.clone()),
            (Some(t(9, 0)), vec!["a".into(), "b".into()])
        );
        assert!(!c.is_new("a", Some(t(9, 0))));
        assert!(c.is_new("d", Some(t(9, 0))));
        assert!(!c.is_new("c", Some(t(8, 0))));

        // Changed during the sweep: the mark stops at the sweep's start.
        c.sweep = Some(Sweep {
            started: Some(t(11, 0)),
            ..Sweep::default()
        });
        c.sweep.as_mut().unwrap().note("e", Some(t(11, 30)));
        c.finish_sweep();
        assert_eq!(c.mark, Some(t(11, 0)));
        assert!(c.is_new("e", Some(t(11, 30))));
        let back = Cursor::decode(&c.encode(), "contacts").unwrap();
        assert_eq!(back, c);
        assert!(Cursor::decode(&c.encode(), "todos").is_err());
        assert!(Cursor::decode("{}", "contacts").is_err());
    }
}
