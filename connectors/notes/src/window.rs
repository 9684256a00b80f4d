//! The `events_window` setting: which calendar range a read covers (all / today / the past
//! month), as the `since` / `before` of the Calendar service (reference §5), in local days.

use chrono::{DateTime, Duration, Months, NaiveTime, TimeZone, Utc};
use connector_sdk::{Connection, ConnectorError, ErrorKind, ReadRequest};
use serde::{Deserialize, Serialize};

use crate::assumed;
use crate::manifest::EVENTS_WINDOW;

pub const ALL: &str = "all";
pub const TODAY: &str = "today";
pub const PAST_MONTH: &str = "past_month";

/// `[since, before)` in UTC, as the calendar service takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub since: DateTime<Utc>,
    pub before: DateTime<Utc>,
}

impl Window {
    /// Whether an event from `start` to `end` falls in the window (the service's own rule:
    /// it starts before the end and ends at or after the start).
    pub fn holds(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        start < self.before && end.max(start) >= self.since
    }

    pub fn query(&self) -> [(&'static str, String); 2] {
        [
            ("since", crate::values::iso(self.since)),
            ("before", crate::values::iso(self.before)),
        ]
    }
}

/// Midnight of the local day `t` falls in, `days` later.
fn local_midnight(t: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    let date = t.with_timezone(&assumed::LOCAL_TZ).date_naive() + Duration::days(days);
    assumed::LOCAL_TZ
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t)
}

/// The setting's value (default `all`), refused with the field named when it is unknown.
pub fn setting(conn: &Connection) -> Result<String, ConnectorError> {
    checked(conn.setting(EVENTS_WINDOW).unwrap_or_else(|| ALL.into()))
}

/// The range a read covers: the flow's read option when it chose one, else the setting.
pub fn for_read(conn: &Connection, req: &ReadRequest) -> Result<String, ConnectorError> {
    match req.options.get(EVENTS_WINDOW) {
        Some(v) => checked(v.clone()),
        None => setting(conn),
    }
}

fn checked(v: String) -> Result<String, ConnectorError> {
    if [ALL, TODAY, PAST_MONTH].contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("events_window '{v}' is not one of all, today, past_month"),
        )
        .with_ja(format!(
            "予定の対象期間「{v}」は選択できません(すべて・今日・過去1か月)"
        ))
        .with_field(EVENTS_WINDOW))
    }
}

/// The window of `kind` at `now`.
pub fn window(kind: &str, now: DateTime<Utc>) -> Window {
    let today = local_midnight(now, 0);
    let tomorrow = local_midnight(now, 1);
    match kind {
        TODAY => Window {
            since: today,
            before: tomorrow,
        },
        PAST_MONTH => Window {
            since: today
                .checked_sub_months(Months::new(assumed::PAST_MONTH_MONTHS))
                .unwrap_or(today),
            before: tomorrow,
        },
        _ => {
            let years = Months::new(12 * assumed::ALL_EVENTS_YEARS.unsigned_abs());
            Window {
                since: today.checked_sub_months(years).unwrap_or(today),
                before: tomorrow.checked_add_months(years).unwrap_or(tomorrow),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_local_day() {
        // 2025-04-10 23:30 UTC is already 2025-04-11 in Tokyo.
        let now = Utc.with_ymd_and_hms(2025, 4, 10, 23, 30, 0).unwrap();
        let t = window(TODAY, now);
        assert_eq!(crate::values::iso(t.since), "2025-04-10T15:00:00Z");
        assert_eq!(crate::values::iso(t.before), "2025-04-11T15:00:00Z");
        let m = window(PAST_MONTH, now);
        assert_eq!(crate::values::iso(m.since), "2025-03-10T15:00:00Z");
        assert_eq!(m.before, t.before);
        let a = window(ALL, now);
        assert!(a.since < m.since && a.before > t.before);
        let at = |h| Utc.with_ymd_and_hms(2025, 4, 11, h, 0, 0).unwrap();
        assert!(t.holds(at(1), at(2)));
        assert!(!t.holds(at(16), at(17)));
    }
}
