//! The read cursor: a durable watermark per feed (changed records, deleted records), plus the
//! position inside a listing in progress. Saved by the hub after each page, so a later run
//! resumes from it; a listing position that went stale is dropped and the watermark stays.
//!
//! ```json
//! {"v":1,"phase":"records",
//!  "records":{"mark":"2025-01-03T08:00:00+09:00","mark_ids":["57…01"],
//!             "sweep":{"since":"2025-01-03T07:59:59+09:00","per_page":200,"page":3,
//!                      "page_token":null,"top":"2025-01-04T10:00:00+09:00","top_ids":["57…09"]}},
//!  "deleted":{"mark":"2025-01-03T07:55:00+00:00","mark_ids":[],"sweep":null}}
//! ```

use chrono::{DateTime, Duration, FixedOffset};
use connector_sdk::{ConnectorError, ErrorKind};
use serde::{Deserialize, Serialize};

use crate::assumed;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Records,
    Deleted,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub v: u32,
    pub phase: Phase,
    pub records: Feed,
    pub deleted: Feed,
}

/// One feed's watermark and its listing in progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    /// Everything stamped up to this time (Zoho's own text, RFC 3339) has been reported.
    pub mark: Option<String>,
    /// Records reported with exactly `mark`, as `id@content` (see `content_key`): the overlap
    /// second is read again and these skipped. A record edited again within that second keeps
    /// its stamp but not its content, so it is reported. (A bare `id`, from older cursors,
    /// matches any content.)
    #[serde(default)]
    pub mark_ids: Vec<String>,
    /// A listing in progress; `None` starts the next one from `mark`.
    #[serde(default)]
    pub sweep: Option<Sweep>,
}

/// A listing with a fixed `If-Modified-Since`, paged by `page` (first 2,000) then `page_token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The `If-Modified-Since` value of every page of this listing; `None` lists everything.
    pub since: Option<String>,
    pub per_page: u32,
    /// Next page number while `page_token` is `None`.
    pub page: u32,
    pub page_token: Option<String>,
    /// Newest stamp reported by this listing so far, and the ids that carry it.
    pub top: Option<String>,
    #[serde(default)]
    pub top_ids: Vec<String>,
}

pub fn parse_time(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s.trim()).ok()
}

/// Zoho's ISO 8601 form, seconds resolution, keeping the offset.
pub fn format_time(t: &DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

impl Cursor {
    /// A first read: from `since` when given, else from the beginning.
    pub fn initial(since: Option<&str>) -> Result<Self, ConnectorError> {
        let mark = match since {
            Some(s) => Some(format_time(&parse_time(s).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!("'since' is not an RFC 3339 time: {s}"),
                )
                .with_ja(format!("開始日時「{s}」を解釈できません"))
            })?)),
            None => None,
        };
        Ok(Cursor {
            v: VERSION,
            phase: Phase::Records,
            records: Feed {
                mark: mark.clone(),
                ..Feed::default()
            },
            deleted: Feed {
                mark,
                ..Feed::default()
            },
        })
    }

    pub fn decode(s: &str) -> Result<Self, ConnectorError> {
        serde_json::from_str::<Cursor>(s)
            .ok()
            .filter(|c| c.v == VERSION)
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidSettings,
                    "the saved read position is not a Zoho CRM cursor of this version; reset the flow's cursor",
                )
                .with_code("bad_cursor")
                .with_ja("保存された読み取り位置を解釈できません。連携サービスの読み取り位置をリセットしてください")
            })
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Feed {
    /// A new listing from the watermark, re-asking its last second (see `assumed`).
    pub fn start_sweep(&self, per_page: u32) -> Sweep {
        let since = self.mark.as_deref().map(|m| match parse_time(m) {
            Some(t) => format_time(&(t - Duration::seconds(assumed::WATERMARK_OVERLAP_SECS))),
            None => m.to_string(),
        });
        Sweep {
            since,
            per_page,
            page: 1,
            page_token: None,
            top: None,
            top_ids: Vec::new(),
        }
    }

    /// Not yet reported: after the watermark, or at it with an id and content not seen there.
    pub fn is_new(&self, id: &str, stamp: Option<&str>, content: &str) -> bool {
        let (Some(mark), Some(stamp)) = (self.mark.as_deref(), stamp) else {
            return true;
        };
        let entry = at_mark(id, content);
        match (parse_time(mark), parse_time(stamp)) {
            (Some(m), Some(s)) if s < m => false,
            (Some(m), Some(s)) if s == m => !self.mark_ids.iter().any(|e| *e == entry || e == id),
            _ => true,
        }
    }

    /// The listing ended (or was abandoned): its newest stamp becomes the watermark.
    pub fn finish_sweep(&mut self) {
        if let Some(sweep) = self.sweep.take() {
            if let Some(top) = sweep.top {
                advance(&mut self.mark, &mut self.mark_ids, &top, &sweep.top_ids);
            }
        }
    }
}

impl Sweep {
    pub fn note(&mut self, id: &str, stamp: Option<&str>, content: &str) {
        if let Some(s) = stamp {
            advance(&mut self.top, &mut self.top_ids, s, &[at_mark(id, content)]);
        }
    }
}

fn at_mark(id: &str, content: &str) -> String {
    format!("{id}@{content}")
}

fn entry_id(entry: &str) -> &str {
    entry.split('@').next().unwrap_or(entry)
}

/// A short digest of a record as listed (Zoho's `$` metadata left out), so a record read twice
/// with the same stamp can be told apart when it was edited in between.
pub fn content_key(item: &serde_json::Map<String, serde_json::Value>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    // serde_json's map is ordered by key, so equal records hash alike.
    for (k, v) in item.iter().filter(|(k, _)| !k.starts_with('$')) {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.to_string().as_bytes());
        h.update([0]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Moves a (stamp, ids) watermark forward to `stamp` with `ids`; equal stamps merge their ids.
fn advance(mark: &mut Option<String>, ids: &mut Vec<String>, stamp: &str, new_ids: &[String]) {
    let Some(new) = parse_time(stamp) else {
        return;
    };
    let current = mark.as_deref().and_then(parse_time);
    match current {
        Some(c) if new < c => {}
        Some(c) if new == c => {
            for entry in new_ids {
                ids.retain(|e| entry_id(e) != entry_id(entry));
                if ids.len() < assumed::MAX_IDS_AT_MARK {
                    ids.push(entry.clone());
                }
            }
        }
        _ => {
            *mark = Some(stamp.to_string());
            *ids = new_ids
                .iter()
                .take(assumed::MAX_IDS_AT_MARK)
                .cloned()
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watermark_skips_what_was_reported_and_round_trips() {
        let mut c = Cursor::initial(Some("2025-01-03T08:00:00+09:00")).unwrap();
        let mut s = c.records.start_sweep(200);
        assert_eq!(s.since.as_deref(), Some("2025-01-03T07:59:59+09:00"));
        s.note("a", Some("2025-01-04T10:00:00+09:00"), "1");
        s.note("b", Some("2025-01-04T01:00:00Z"), "1");
        s.note("c", Some("2025-01-04T09:00:00+09:00"), "1");
        c.records.sweep = Some(s);
        c.records.finish_sweep();
        assert_eq!(c.records.mark.as_deref(), Some("2025-01-04T10:00:00+09:00"));
        assert_eq!(
            c.records.mark_ids,
            vec!["a@1".to_string(), "b@1".to_string()]
        );
        let back = Cursor::decode(&c.encode()).unwrap();
        assert_eq!(back, c);
        let at = Some("2025-01-04T10:00:00+09:00");
        assert!(!back.records.is_new("a", at, "1"));
        assert!(
            back.records.is_new("a", at, "2"),
            "edited again in the same second"
        );
        assert!(back.records.is_new("d", at, "1"));
        assert!(!back
            .records
            .is_new("e", Some("2025-01-04T09:59:59+09:00"), "1"));
        assert!(back
            .records
            .is_new("a", Some("2025-01-04T10:00:01+09:00"), "1"));
        // Reported again with new content at the same stamp: one entry per id.
        let mut s = back.records.start_sweep(200);
        s.note("a", at, "2");
        let mut f = back.records.clone();
        f.sweep = Some(s);
        f.finish_sweep();
        assert_eq!(f.mark_ids, vec!["b@1".to_string(), "a@2".to_string()]);
        // Entries of older cursors hold the id alone and match any content.
        let mut old = back.records.clone();
        old.mark_ids = vec!["a".into()];
        assert!(!old.is_new("a", at, "9"));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert_eq!(
            Cursor::decode("42").unwrap_err().kind,
            ErrorKind::InvalidSettings
        );
        assert!(
            Cursor::decode("{\"v\":9,\"phase\":\"records\",\"records\":{},\"deleted\":{}}")
                .is_err()
        );
    }
}
