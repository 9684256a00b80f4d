//! The SDK cursor of a kintone read: a durable watermark the hub can save and resume from in a
//! later run, plus the seek key of the listing in progress. It holds no server-side state, so a
//! page read again with the same cursor (a run killed before it acknowledged the page) answers
//! the same records.
//!
//! Serialized as compact JSON, e.g.
//! `{"v":2,"w":"2024-05-01T01:02:00Z","seen":{"17":["4","2024-05-01T01:02:00Z"]},"cut":"2024-05-01T01:05:00Z","after":["2024-05-01T01:03:00Z",42]}`:
//! - `w`: every record last updated before `w` (UTC) has been delivered;
//! - `seen`: records delivered with `更新日時 >= w`, id → [revision, updated]. `更新日時` has
//!   minute precision, so the next read asks `>= w` and drops these when unchanged: nothing
//!   updated later in the same minute is missed, and nothing unchanged is delivered twice;
//! - `cut`: the server's clock (to the minute) when the listing's first page was asked. A
//!   record updated while the listing is read moves to a later time (possibly behind the seek
//!   key), so only records updated before `cut` may advance `w`, and the listing's end moves
//!   `w` to `cut`: what changed since is read again by the next listing;
//! - `after`: (`更新日時`, `$id`) of the last record of the listing read so far; the next page
//!   asks for what sorts after it;
//! - `walk`: the first listing of the whole app, read by record number ([`crate::walk`]).
//!
//! Format 1 also carried a live kintone cursor (`kc`, `more`, `n`); such a saved cursor resumes
//! from its watermark, which re-reads at most one listing and loses nothing.

use chrono::{DateTime, Timelike, Utc};
use connector_sdk::{ConnectorError, ErrorKind, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::assumed::SEEN_CAP;
use crate::walk::Walk;

const FORMAT: u32 = 2;
const FORMAT_WITH_KINTONE_CURSOR: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "v")]
    pub format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, (String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<(String, u64)>,
    /// A first listing of the whole app read by record number ([`crate::walk`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk: Option<Walk>,
    /// The code of the app's `更新日時` field, as the walk's first page found it in the
    /// records (so the walk needs no call for the form).
    #[serde(default, rename = "u", skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// A time as kintone writes it in UTC: `2024-05-01T01:02:00Z`.
pub fn normalize_time(t: &str) -> Option<String> {
    let parsed = DateTime::parse_from_rfc3339(t.trim())
        .or_else(|_| DateTime::parse_from_str(t.trim(), "%Y-%m-%dT%H:%M:%S%z"))
        .ok()?;
    Some(fmt(parsed.with_timezone(&Utc)))
}

/// `since` as the minute it falls in: kintone stamps 更新日時 to the minute, so a record changed
/// later in that minute carries the minute itself and `>=` must start there to see it.
pub fn since_minute(t: &str) -> Option<String> {
    let parsed = DateTime::parse_from_rfc3339(t.trim())
        .or_else(|_| DateTime::parse_from_str(t.trim(), "%Y-%m-%dT%H:%M:%S%z"))
        .ok()?
        .with_timezone(&Utc);
    let floored = parsed.with_second(0)?.with_nanosecond(0)?;
    Some(fmt(floored))
}

fn fmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The minute of the server's `Date` header (RFC 2822), or of the local clock less a margin.
pub fn cut_from(date: Option<&str>) -> String {
    let now = date
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| Utc::now() - chrono::Duration::minutes(5));
    let floored = now
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    fmt(floored)
}

impl Position {
    /// The hub's saved cursor, or a fresh start from `since` (only records modified after it).
    pub fn start(cursor: Option<&str>, since: Option<&str>) -> Result<Self, ConnectorError> {
        if let Some(c) = cursor {
            let mut p: Position = serde_json::from_str(c)
                .ok()
                .filter(|p: &Position| {
                    p.format == FORMAT || p.format == FORMAT_WITH_KINTONE_CURSOR
                })
                .ok_or_else(|| {
                    ConnectorError::new(
                        ErrorKind::InvalidData,
                        "the saved read position is not a kintone cursor of this version",
                    )
                    .with_code("bad_cursor")
                    .with_ja("保存された読み取り位置が読み取れません。連携の読み取り位置をリセットしてください")
                })?;
            if p.format == FORMAT_WITH_KINTONE_CURSOR {
                // Its listing went through a kintone cursor: start that listing again.
                p.format = FORMAT;
                p.cut = None;
                p.after = None;
            }
            return Ok(p);
        }
        let w = match since {
            Some(s) => Some(since_minute(s).ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!("'since' is not an RFC 3339 time: {s}"),
                )
                .with_ja(format!("取り込み開始日時「{s}」の形式が正しくありません"))
            })?),
            None => None,
        };
        Ok(Position {
            format: FORMAT,
            w,
            ..Default::default()
        })
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The kintone query of the next page of the listing from the watermark.
    pub fn query(&self, updated: &str, limit: usize) -> String {
        let mut conditions = Vec::new();
        if let Some(w) = &self.w {
            conditions.push(format!("{updated} >= \"{w}\""));
        }
        if let Some((ts, id)) = &self.after {
            conditions.push(format!(
                "({updated} > \"{ts}\" or ({updated} = \"{ts}\" and $id > {id}))"
            ));
        }
        let order = format!("order by {updated} asc, $id asc limit {limit}");
        if conditions.is_empty() {
            order
        } else {
            format!("{} {order}", conditions.join(" and "))
        }
    }

    /// Whether the next page is the first of a listing.
    pub fn starts_listing(&self) -> bool {
        self.after.is_none()
    }

    /// Whether the read is a walk by record number: one under way, or the first listing of
    /// everything (no watermark yet).
    pub fn walks(&self) -> bool {
        self.walk.is_some() || (self.w.is_none() && self.after.is_none() && self.cut.is_none())
    }

    /// Whether `r` is new to the hub; moves the watermark past it when that is safe.
    pub fn accept(&mut self, r: &Record) -> bool {
        let rev = r.version.clone().unwrap_or_default();
        let fresh = self.seen.get(&r.id).map(|(v, _)| v) != Some(&rev);
        let Some(ts) = r.modified_at.as_deref().and_then(normalize_time) else {
            return fresh;
        };
        if fresh {
            self.seen.insert(r.id.clone(), (rev, ts.clone()));
        }
        let in_order = self.cut.as_ref().is_none_or(|c| ts < *c);
        if in_order && self.w.as_ref().is_none_or(|w| ts > *w) {
            self.w = Some(ts);
            self.prune();
        }
        fresh
    }

    /// The listing was read to its end: everything updated before `cut` is delivered.
    pub fn finish(&mut self) {
        if let Some(c) = self.cut.take() {
            if self.w.as_ref().is_none_or(|w| c > *w) {
                self.w = Some(c);
            }
        }
        self.after = None;
        self.prune();
    }

    fn prune(&mut self) {
        if let Some(w) = &self.w {
            self.seen.retain(|_, (_, ts)| *ts >= *w);
        }
        if self.seen.len() > SEEN_CAP {
            let mut by_time: Vec<(String, String)> = self
                .seen
                .iter()
                .map(|(id, (_, ts))| (ts.clone(), id.clone()))
                .collect();
            by_time.sort();
            let drop = by_time.len() - SEEN_CAP;
            for (_, id) in by_time.into_iter().take(drop) {
                self.seen.remove(&id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, rev: &str, ts: &str) -> Record {
        Record {
            id: id.into(),
            version: Some(rev.into()),
            modified_at: Some(ts.into()),
            private: false,
            deleted: false,
            fields: Default::default(),
        }
    }

    #[test]
    fn watermark_moves_only_before_cut_and_skips_seen() {
        let mut p = Position::start(None, None).unwrap();
        p.cut = Some("2024-05-01T10:00:00Z".into());
        assert!(p.accept(&rec("1", "1", "2024-05-01T09:00:00Z")));
        assert_eq!(p.w.as_deref(), Some("2024-05-01T09:00:00Z"));
        // Updated while the listing was read: delivered, but it does not move the watermark.
        assert!(p.accept(&rec("2", "5", "2024-05-01T10:03:00Z")));
        assert_eq!(p.w.as_deref(), Some("2024-05-01T09:00:00Z"));
        p.finish();
        assert_eq!(p.w.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(
            p.query("更新日時", 500),
            "更新日時 >= \"2024-05-01T10:00:00Z\" order by 更新日時 asc, $id asc limit 500"
        );
        p.after = Some(("2024-05-01T10:03:00Z".into(), 42));
        assert_eq!(
            p.query("更新日時", 7),
            "更新日時 >= \"2024-05-01T10:00:00Z\" and (更新日時 > \"2024-05-01T10:03:00Z\" or \
             (更新日時 = \"2024-05-01T10:03:00Z\" and $id > 42)) order by 更新日時 asc, $id asc limit 7"
        );
        p.finish();
        // Saved and resumed: the record seen at 10:03 is not delivered again, a new revision is.
        let mut q = Position::start(Some(&p.encode()), None).unwrap();
        assert!(!q.accept(&rec("2", "5", "2024-05-01T10:03:00Z")));
        assert!(q.accept(&rec("2", "6", "2024-05-01T10:03:00Z")));
    }

    #[test]
    fn since_is_normalized_and_garbage_refused() {
        let p = Position::start(None, Some("2024-05-01T19:00:00.123+09:00")).unwrap();
        assert_eq!(p.w.as_deref(), Some("2024-05-01T10:00:00Z"));
        // A change later in the minute of `since` carries that minute.
        let p = Position::start(None, Some("2024-05-01T19:03:41+09:00")).unwrap();
        assert_eq!(p.w.as_deref(), Some("2024-05-01T10:03:00Z"));
        assert_eq!(
            Position::start(Some("nope"), None).unwrap_err().code,
            "bad_cursor"
        );
        assert_eq!(
            cut_from(Some("Wed, 01 May 2024 10:07:31 GMT")),
            "2024-05-01T10:07:00Z"
        );
    }

    #[test]
    fn a_format_1_cursor_restarts_its_listing_from_the_watermark() {
        let old = r#"{"v":1,"w":"2024-05-01T10:00:00Z","seen":{"2":["5","2024-05-01T10:03:00Z"]},"kc":"9a97","cut":"2024-05-01T10:05:00Z","more":true,"n":500}"#;
        let p = Position::start(Some(old), None).unwrap();
        assert_eq!(p.format, FORMAT);
        assert_eq!(p.w.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(p.seen.len(), 1);
        assert!(p.starts_listing() && p.cut.is_none());
    }
}
