//! The SDK cursor of a kintone read: a durable watermark the hub can save and resume from in a
//! later run, plus the live kintone cursor of the read in progress.
//!
//! Serialized as compact JSON, e.g.
//! `{"v":1,"w":"2024-05-01T01:02:00Z","seen":{"17":["4","2024-05-01T01:02:00Z"]},"kc":"9a97…","cut":"2024-05-01T01:05:00Z","more":true}`:
//! - `w`: every record last updated before `w` (UTC) has been delivered;
//! - `seen`: records delivered with `更新日時 >= w`, id → [revision, updated]. `更新日時` has
//!   minute precision, so the next read asks `>= w` and drops these when unchanged: nothing
//!   updated later in the same minute is missed, and nothing unchanged is delivered twice;
//! - `kc`: the kintone cursor being read (expires after 10 minutes; if it is gone the read
//!   starts a new one from `w`, so the saved cursor never depends on it);
//! - `cut`: the server's clock (to the minute) when the listing was taken. The listing is
//!   ordered by `更新日時` as it was then; a record updated while it is read moves to a later
//!   time, so only records updated before `cut` may advance `w`;
//! - `more`: a records.json page came back full; the rest is read through a kintone cursor;
//! - `n`: records of the listing read so far (so every page's cursor differs from the last,
//!   even when all its records were already delivered and none is returned).

use chrono::{DateTime, Timelike, Utc};
use connector_sdk::{ConnectorError, ErrorKind, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::assumed::SEEN_CAP;

const FORMAT: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    #[serde(rename = "v")]
    pub format: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub w: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, (String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub more: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub n: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A time as kintone writes it in UTC: `2024-05-01T01:02:00Z`.
pub fn normalize_time(t: &str) -> Option<String> {
    let parsed = DateTime::parse_from_rfc3339(t.trim())
        .or_else(|_| DateTime::parse_from_str(t.trim(), "%Y-%m-%dT%H:%M:%S%z"))
        .ok()?;
    Some(fmt(parsed.with_timezone(&Utc)))
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
            let p: Position = serde_json::from_str(c)
                .ok()
                .filter(|p: &Position| p.format == FORMAT)
                .ok_or_else(|| {
                    ConnectorError::new(
                        ErrorKind::InvalidData,
                        "the saved read position is not a kintone cursor of this version",
                    )
                    .with_code("bad_cursor")
                    .with_ja("保存された読み取り位置が読み取れません。連携の読み取り位置をリセットしてください")
                })?;
            return Ok(p);
        }
        let w = match since {
            Some(s) => Some(normalize_time(s).ok_or_else(|| {
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

    /// The kintone query (without limit) of the listing from the watermark.
    pub fn query(&self, updated: &str) -> String {
        let order = format!("order by {updated} asc, $id asc");
        match &self.w {
            Some(w) => format!("{updated} >= \"{w}\" {order}"),
            None => order,
        }
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
        self.kc = None;
        self.more = false;
        self.n = 0;
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
            p.query("更新日時"),
            "更新日時 >= \"2024-05-01T10:00:00Z\" order by 更新日時 asc, $id asc"
        );
        // Saved and resumed: the record seen at 10:03 is not delivered again, a new revision is.
        let mut q = Position::start(Some(&p.encode()), None).unwrap();
        assert!(!q.accept(&rec("2", "5", "2024-05-01T10:03:00Z")));
        assert!(q.accept(&rec("2", "6", "2024-05-01T10:03:00Z")));
    }

    #[test]
    fn since_is_normalized_and_garbage_refused() {
        let p = Position::start(None, Some("2024-05-01T19:00:00.123+09:00")).unwrap();
        assert_eq!(p.w.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert_eq!(
            Position::start(Some("nope"), None).unwrap_err().code,
            "bad_cursor"
        );
        assert_eq!(
            cut_from(Some("Wed, 01 May 2024 10:07:31 GMT")),
            "2024-05-01T10:07:00Z"
        );
    }
}
