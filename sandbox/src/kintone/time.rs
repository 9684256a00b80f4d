//! Dates and times on the wire (reference §1): DATETIME out in UTC as `YYYY-MM-DDTHH:MM:SSZ`,
//! in with `Z` or a `±HH:MM` / `±HHMM` offset; DATE `YYYY-MM-DD`; TIME `HH:MM`.

use super::assumed;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};

pub fn fmt(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Cut to the precision kintone keeps (assumed: minutes).
pub fn truncate(dt: DateTime<Utc>) -> DateTime<Utc> {
    let p = assumed::TIME_PRECISION_SECS;
    let t = dt.timestamp();
    Utc.timestamp_opt(t - t.rem_euclid(p), 0)
        .single()
        .unwrap_or(dt)
}

/// `2024-04-01T09:00:00+09:00`, `…+0900`, `…Z`, also without seconds. `None` when there is no
/// offset or the text is not a date-time.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    let (body, offset) = split_offset(s)?;
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(body, f) {
            return Some(Utc.from_utc_datetime(&n) - chrono::Duration::seconds(offset));
        }
    }
    None
}

/// ("2024-04-01T09:00", offset seconds east of UTC).
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(b) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Some((b, 0));
    }
    let t = s.find('T')?;
    let i = s[t..].rfind(['+', '-'])? + t;
    let (body, off) = (&s[..i], &s[i..]);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[..2].parse().ok()?;
    let m: i64 = digits[2..].parse().ok()?;
    Some((body, sign * (h * 3600 + m * 60)))
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

pub fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .ok()
}

/// The instant a day starts in the user's time zone.
pub fn day_start(d: NaiveDate) -> DateTime<Utc> {
    let naive = d.and_time(NaiveTime::MIN);
    assumed::USER_TZ
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// Today in the user's time zone.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&assumed::USER_TZ).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_every_spelling() {
        let want = Utc.with_ymd_and_hms(2012, 2, 3, 0, 0, 0).single();
        for s in [
            "2012-02-03T09:00:00+0900",
            "2012-02-03T09:00:00+09:00",
            "2012-02-03T00:00:00Z",
            "2012-02-03T09:00+09:00",
            "2012-02-02T15:00:00-09:00",
        ] {
            assert_eq!(parse_datetime(s), want, "{s}");
        }
        assert_eq!(parse_datetime("2012-02-03"), None);
        assert_eq!(parse_datetime("2012-02-03T09:00:00"), None);
    }

    #[test]
    fn japanese_day_starts_at_15_utc() {
        let d = NaiveDate::from_ymd_opt(2024, 4, 1).unwrap();
        assert_eq!(fmt(day_start(d)), "2024-03-31T15:00:00Z");
        let t = parse_datetime("2024-04-01T10:17:59Z").unwrap();
        assert_eq!(fmt(truncate(t)), "2024-04-01T10:17:00Z");
    }
}
