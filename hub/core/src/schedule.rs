//! Flow schedules: standard 5-field cron (minute hour day month weekday, 0 or 7 = Sunday) or
//! 6-field with seconds, evaluated in the flow's time zone (default Asia/Tokyo).

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use std::str::FromStr;

use crate::error::{HubError, HubResult};
use hub_domain::{Millis, Schedule};
use hub_messages::Message;

mod cadence;
pub use cadence::Cadence;

#[derive(Debug, Clone)]
pub struct CompiledSchedule {
    schedule: cron::Schedule,
    cadence: Cadence,
    tz: Tz,
    skip_weekends: bool,
    skip_holidays: bool,
}

/// Fire times looked at before giving up on finding one that is not skipped (a year of minutes
/// would be far more than any real calendar needs).
const MAX_SKIPPED: usize = 10_000;

const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl CompiledSchedule {
    pub fn parse(s: &Schedule) -> HubResult<Self> {
        let tz = Tz::from_str(s.timezone.trim()).map_err(|_| {
            HubError::unprocessable(
                "schedule.timezone",
                Message::new("err.timezone").with("timezone", &s.timezone),
            )
        })?;
        let fields: Vec<&str> = s.cron.split_whitespace().collect();
        let (expr, cadence) = match fields.as_slice() {
            [minute, hour, day, month, weekday] => {
                let days = weekday_set(weekday)
                    .ok_or_else(|| bad_cron(&s.cron, Message::new("err.cron_weekday")))?;
                let dow = days.map_or_else(|| "*".to_string(), |d| cron_weekdays(&d));
                let expr = format!("0 {minute} {hour} {day} {month} {dow}");
                (expr, Cadence::read(minute, hour, day, month, days))
            }
            [_, _, _, _, _, _] => (s.cron.trim().to_string(), Cadence::Other),
            _ => {
                return Err(bad_cron(
                    &s.cron,
                    Message::new("err.cron_fields").with("count", fields.len()),
                ))
            }
        };
        let schedule = cron::Schedule::from_str(&expr)
            .map_err(|e| bad_cron(&s.cron, Message::new("err.cron_value").with("detail", e)))?;
        if schedule.upcoming(tz).next().is_none() {
            return Err(bad_cron(&s.cron, Message::new("err.cron_never")));
        }
        Ok(CompiledSchedule {
            schedule,
            cadence,
            tz,
            skip_weekends: s.skip_weekends,
            skip_holidays: s.skip_holidays,
        })
    }

    /// The schedule in the forms people name it by (毎日 05:00, 平日 09:30…), for its words.
    pub fn cadence(&self) -> &Cadence {
        &self.cadence
    }

    /// Whether a fire time falls on a day the schedule skips (weekend, Japanese holiday).
    fn skipped(&self, t: &DateTime<Tz>) -> bool {
        use chrono::Datelike;
        let day = t.date_naive();
        (self.skip_weekends && matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun))
            || (self.skip_holidays && jpholiday::jpholiday::JPHoliday::new().is_holiday(&day))
    }

    fn fires_after(&self, after: Millis) -> impl Iterator<Item = DateTime<Tz>> + '_ {
        let start = Utc
            .timestamp_millis_opt(after)
            .single()
            .map(|t| t.with_timezone(&self.tz));
        start
            .into_iter()
            .flat_map(move |s| self.schedule.after(&s).take(MAX_SKIPPED))
            .filter(move |t| !self.skipped(t))
    }

    /// The first fire time strictly after `after`.
    pub fn next_after(&self, after: Millis) -> Option<Millis> {
        self.fires_after(after)
            .next()
            .map(|t| t.with_timezone(&Utc).timestamp_millis())
    }

    /// The next `n` fire times after `after`, in the schedule's time zone.
    pub fn upcoming(&self, after: Millis, n: usize) -> Vec<DateTime<Tz>> {
        self.fires_after(after).take(n).collect()
    }
}

/// A time for history messages, in Japan time.
pub fn display_time(ms: Millis) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| {
            t.with_timezone(&chrono_tz::Asia::Tokyo)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_default()
}

/// A refused cron expression: `why` says what is wrong with it, in the catalogue's words.
fn bad_cron(expr: &str, why: Message) -> HubError {
    HubError::unprocessable("schedule.cron", why.with("expr", expr))
}

/// The days a standard weekday field (0–7, 0 and 7 = Sunday, or SUN–SAT) names, indexed from
/// Sunday; `Some(None)` for any day (`*`, `?`), `None` when the field is not valid.
fn weekday_set(field: &str) -> Option<Option<[bool; 7]>> {
    if field == "*" || field == "?" {
        return Some(None);
    }
    let mut days = [false; 7];
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<usize>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day(a)?, day(b)?)
        } else {
            let d = day(range)?;
            (d, if step > 1 { 7 } else { d })
        };
        if lo > hi {
            return None;
        }
        for d in (lo..=hi).step_by(step) {
            days[d % 7] = true;
        }
    }
    days.contains(&true).then_some(Some(days))
}

/// The `cron` crate's weekday list (1–7, 1 = Sunday) for a set of days.
fn cron_weekdays(days: &[bool; 7]) -> String {
    let list: Vec<String> = (0..7)
        .filter(|d| days[*d])
        .map(|d| (d + 1).to_string())
        .collect();
    list.join(",")
}

fn day(s: &str) -> Option<usize> {
    let up = s.to_ascii_uppercase();
    if let Some(i) = DAY_NAMES.iter().position(|n| *n == up) {
        return Some(i);
    }
    s.parse::<usize>().ok().filter(|d| *d <= 7)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Timelike, Weekday};

    fn sched(cron: &str) -> HubResult<CompiledSchedule> {
        CompiledSchedule::parse(&Schedule {
            cron: cron.into(),
            timezone: "Asia/Tokyo".into(),
            skip_weekends: false,
            skip_holidays: false,
            missed: Default::default(),
        })
    }

    #[test]
    fn daily_at_five_tokyo() {
        let s = sched("0 5 * * *").unwrap();
        // 2026-11-22T00:00:00Z is 09:00 in Tokyo: next 05:00 JST is 2026-11-22T20:00:00Z.
        let from = Utc
            .with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        let next = s.next_after(from).unwrap();
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 11, 22, 20, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
        let five = s.upcoming(from, 5);
        assert_eq!(five.len(), 5);
        assert!(five.iter().all(|t| t.hour() == 5 && t.minute() == 0));
    }

    #[test]
    fn weekdays_use_standard_numbering() {
        let s = sched("30 9 * * 1-5").unwrap();
        let from = Utc
            .with_ymd_and_hms(2026, 11, 21, 0, 0, 0)
            .unwrap()
            .timestamp_millis(); // Saturday
        let days: Vec<Weekday> = s.upcoming(from, 5).iter().map(|t| t.weekday()).collect();
        assert_eq!(
            days,
            vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri
            ]
        );
        let sun = sched("0 0 * * 7").unwrap();
        assert!(sun
            .upcoming(from, 3)
            .iter()
            .all(|t| t.weekday() == Weekday::Sun));
        let named = sched("0 0 * * SAT,SUN").unwrap();
        assert!(named
            .upcoming(from, 4)
            .iter()
            .all(|t| matches!(t.weekday(), Weekday::Sat | Weekday::Sun)));
    }

    #[test]
    fn skips_weekends_and_japanese_holidays() {
        let s = CompiledSchedule::parse(&Schedule {
            cron: "0 9 * * *".into(),
            timezone: "Asia/Tokyo".into(),
            skip_weekends: true,
            skip_holidays: true,
            missed: Default::default(),
        })
        .unwrap();
        // From Friday 2026-12-25: next business days are Mon 28, Tue 29… (no weekend).
        let from = Utc
            .with_ymd_and_hms(2026, 12, 25, 1, 0, 0)
            .unwrap()
            .timestamp_millis();
        let days: Vec<u32> = s.upcoming(from, 3).iter().map(|t| t.day()).collect();
        assert_eq!(days, vec![28, 29, 30]);
        // 2027-01-11 is 成人の日 (second Monday of January): Friday 8th → Tuesday 12th.
        let from = Utc
            .with_ymd_and_hms(2027, 1, 8, 1, 0, 0)
            .unwrap()
            .timestamp_millis();
        let next = s.upcoming(from, 1)[0];
        assert_eq!((next.month(), next.day()), (1, 12));
    }

    #[test]
    fn errors_name_the_field() {
        let e = sched("0 5 * *").unwrap_err();
        assert!(
            matches!(&e, HubError::Unprocessable { field, .. } if field == "schedule.cron"),
            "{e}"
        );
        assert!(sched("61 5 * * *").is_err());
        assert!(sched("0 5 * * 9").is_err());
        let tz = CompiledSchedule::parse(&Schedule {
            cron: "0 5 * * *".into(),
            timezone: "Mars/Olympus".into(),
            skip_weekends: false,
            skip_holidays: false,
            missed: Default::default(),
        })
        .unwrap_err();
        assert!(
            matches!(&tz, HubError::Unprocessable { field, .. } if field == "schedule.timezone")
        );
    }
}
