//! A cron expression read as the schedules people name (毎日 05:00, 平日 09:30, 毎時 00分,
//! 15分ごと, 毎週 月曜 05:00, 毎月 1日 05:00). The words themselves are the UI's, from its
//! catalogue; this says only which form a schedule has.

use chrono::{NaiveTime, Weekday};

/// The form of a schedule; `Other` when it has no simple reading (shown as the cron text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cadence {
    /// `*/n * * * *`
    EveryMinutes(u32),
    /// `m * * * *`: every hour at minute `m`.
    Hourly {
        minute: u32,
    },
    /// Every day at these times.
    Daily(Vec<NaiveTime>),
    /// Monday to Friday at these times.
    Weekdays(Vec<NaiveTime>),
    /// On these days of the week (Monday first) at these times.
    Weekly {
        days: Vec<Weekday>,
        at: Vec<NaiveTime>,
    },
    /// On this day of every month at these times.
    Monthly {
        day: u32,
        at: Vec<NaiveTime>,
    },
    Other,
}

/// Monday to Friday, indexed from Sunday as the weekday set is.
const WORKING_DAYS: [bool; 7] = [false, true, true, true, true, true, false];

const FROM_SUNDAY: [Weekday; 7] = [
    Weekday::Sun,
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
];

impl Cadence {
    /// Reads the fields of a valid 5-field expression; `days` is the weekday set (indexed from
    /// Sunday), `None` for any day.
    pub(super) fn read(
        minute: &str,
        hour: &str,
        day: &str,
        month: &str,
        days: Option<[bool; 7]>,
    ) -> Cadence {
        read(minute, hour, day, month, days).unwrap_or(Cadence::Other)
    }
}

fn read(
    minute: &str,
    hour: &str,
    day: &str,
    month: &str,
    days: Option<[bool; 7]>,
) -> Option<Cadence> {
    if month != "*" {
        return None;
    }
    let any_weekday = days.is_none_or(|d| d == [true; 7]);
    if let Some(step) = minute.strip_prefix("*/") {
        let step = number(step, 59).filter(|s| *s > 0)?;
        return (hour == "*" && day == "*" && any_weekday).then_some(Cadence::EveryMinutes(step));
    }
    let minute = number(minute, 59)?;
    if hour == "*" {
        return (day == "*" && any_weekday).then_some(Cadence::Hourly { minute });
    }
    let at = hour
        .split(',')
        .map(|h| number(h, 23).and_then(|h| NaiveTime::from_hms_opt(h, minute, 0)))
        .collect::<Option<Vec<_>>>()?;
    match (day, days) {
        ("*", _) if any_weekday => Some(Cadence::Daily(at)),
        ("*", Some(d)) if d == WORKING_DAYS => Some(Cadence::Weekdays(at)),
        ("*", Some(d)) => {
            // Monday first, as a week is read in Japan.
            let days = (1..8)
                .map(|i| i % 7)
                .filter(|i| d[*i])
                .map(|i| FROM_SUNDAY[i])
                .collect();
            Some(Cadence::Weekly { days, at })
        }
        (d, _) if any_weekday => {
            let day = number(d, 31).filter(|d| *d >= 1)?;
            Some(Cadence::Monthly { day, at })
        }
        _ => None,
    }
}

fn number(s: &str, max: u32) -> Option<u32> {
    s.parse::<u32>().ok().filter(|n| *n <= max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::CompiledSchedule;
    use hub_domain::Schedule;

    fn cadence(cron: &str) -> Cadence {
        CompiledSchedule::parse(&Schedule {
            cron: cron.into(),
            timezone: "Asia/Tokyo".into(),
            skip_weekends: false,
            skip_holidays: false,
            missed: Default::default(),
        })
        .unwrap()
        .cadence()
        .clone()
    }

    fn at(times: &[(u32, u32)]) -> Vec<NaiveTime> {
        times
            .iter()
            .map(|(h, m)| NaiveTime::from_hms_opt(*h, *m, 0).unwrap())
            .collect()
    }

    #[test]
    fn common_schedules_have_their_form() {
        assert_eq!(cadence("0 5 * * *"), Cadence::Daily(at(&[(5, 0)])));
        assert_eq!(
            cadence("0 5,17 * * *"),
            Cadence::Daily(at(&[(5, 0), (17, 0)]))
        );
        assert_eq!(cadence("30 9 * * 1-5"), Cadence::Weekdays(at(&[(9, 30)])));
        assert_eq!(
            cadence("30 9 * * MON-FRI"),
            Cadence::Weekdays(at(&[(9, 30)]))
        );
        assert_eq!(
            cadence("30 9 * * 1,2,3,4,5"),
            Cadence::Weekdays(at(&[(9, 30)]))
        );
        assert_eq!(cadence("0 * * * *"), Cadence::Hourly { minute: 0 });
        assert_eq!(cadence("*/15 * * * *"), Cadence::EveryMinutes(15));
        assert_eq!(
            cadence("0 5 * * THU,1"),
            Cadence::Weekly {
                days: vec![Weekday::Mon, Weekday::Thu],
                at: at(&[(5, 0)])
            }
        );
        // 0 and 7 are both Sunday, read last.
        assert_eq!(
            cadence("0 5 * * 7,1"),
            Cadence::Weekly {
                days: vec![Weekday::Mon, Weekday::Sun],
                at: at(&[(5, 0)])
            }
        );
        assert_eq!(cadence("0 5 * * 0-6"), Cadence::Daily(at(&[(5, 0)])));
        assert_eq!(
            cadence("0 5 1 * *"),
            Cadence::Monthly {
                day: 1,
                at: at(&[(5, 0)])
            }
        );
    }

    #[test]
    fn others_have_no_simple_reading() {
        for cron in [
            "0 5 1 4 *",
            "0 5 1 * 1",
            "0 5-7 * * *",
            "*/15 9 * * *",
            "0 * * * 1",
            "0 0 5 * * *",
        ] {
            assert_eq!(cadence(cron), Cadence::Other, "{cron}");
        }
    }
}
