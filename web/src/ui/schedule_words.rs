//! 連携タイミング: a flow's cron schedule in business words (毎日 05:00, 平日 09:30, 毎時 00分,
//! 15分ごと, 毎週月曜 05:00, 毎月1日 05:00), falling back to the cron text for anything else.

use chrono::{NaiveTime, Weekday};
use hub_core::schedule::{Cadence, CompiledSchedule};
use hub_domain::Schedule;

use super::i18n::{t, tf, Lang};

fn weekday_key(d: Weekday) -> &'static str {
    match d {
        Weekday::Sun => "sched.sun",
        Weekday::Mon => "sched.mon",
        Weekday::Tue => "sched.tue",
        Weekday::Wed => "sched.wed",
        Weekday::Thu => "sched.thu",
        Weekday::Fri => "sched.fri",
        Weekday::Sat => "sched.sat",
    }
}

fn times(at: &[NaiveTime]) -> String {
    at.iter()
        .map(|t| t.format("%H:%M").to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The schedule in words, or None when it has no simple reading.
fn words(lang: Lang, cadence: &Cadence) -> Option<String> {
    Some(match cadence {
        Cadence::EveryMinutes(n) => tf(lang, "sched.every_minutes", &[("n", &n.to_string())]),
        Cadence::Hourly { minute } => tf(lang, "sched.hourly", &[("mm", &format!("{minute:02}"))]),
        Cadence::Daily(at) => tf(lang, "sched.daily", &[("time", &times(at))]),
        Cadence::Weekdays(at) => tf(lang, "sched.weekdays", &[("time", &times(at))]),
        Cadence::Weekly { days, at } => {
            let days: Vec<String> = days.iter().map(|d| t(lang, weekday_key(*d))).collect();
            tf(
                lang,
                "sched.weekly",
                &[
                    ("days", &days.join(t(lang, "sched.list_sep").as_str())),
                    ("time", &times(at)),
                ],
            )
        }
        Cadence::Monthly { day, at } => tf(
            lang,
            "sched.monthly",
            &[("day", &day.to_string()), ("time", &times(at))],
        ),
        Cadence::Other => return None,
    })
}

/// The 連携タイミング column: words (with the weekend/holiday rule), the cron text otherwise,
/// and 手動のみ for a flow without a schedule.
pub fn describe(lang: Lang, schedule: Option<&Schedule>, enabled: bool) -> String {
    let Some(s) = schedule else {
        return t(lang, "sched.manual_only");
    };
    // The cron is parsed by the core only; one it refuses is shown as written.
    let mut out = CompiledSchedule::parse(s)
        .ok()
        .and_then(|c| words(lang, c.cadence()))
        .unwrap_or_else(|| s.cron.trim().to_string());
    match (s.skip_weekends, s.skip_holidays) {
        (true, true) => out += &t(lang, "sched.skip_both"),
        (true, false) => out += &t(lang, "sched.skip_weekends"),
        (false, true) => out += &t(lang, "sched.skip_holidays"),
        _ => {}
    }
    if s.timezone != hub_domain::DEFAULT_TIMEZONE {
        out += &format!(" ({})", s.timezone);
    }
    if !enabled {
        out += &t(lang, "sched.paused");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(cron: &str) -> Schedule {
        Schedule {
            cron: cron.into(),
            timezone: "Asia/Tokyo".into(),
            skip_weekends: false,
            skip_holidays: false,
            missed: Default::default(),
        }
    }

    #[test]
    fn common_schedules_read_as_words() {
        let ja = |c: &str| describe(Lang::Ja, Some(&sched(c)), true);
        assert_eq!(ja("0 5 * * *"), "毎日 05:00");
        assert_eq!(ja("30 9 * * 1-5"), "平日 09:30");
        assert_eq!(ja("0 * * * *"), "毎時 00分");
        assert_eq!(ja("*/15 * * * *"), "15分ごと");
        assert_eq!(ja("0 5 * * 1"), "毎週 月曜 05:00");
        assert_eq!(ja("0 5 * * MON,THU"), "毎週 月曜・木曜 05:00");
        assert_eq!(ja("0 5 * * 6,0"), "毎週 土曜・日曜 05:00");
        assert_eq!(ja("0 5 1 * *"), "毎月 1日 05:00");
        assert_eq!(ja("0 5,17 * * *"), "毎日 05:00, 17:00");
        // No simple reading: the cron text itself.
        assert_eq!(ja("0 5 1 4 *"), "0 5 1 4 *");
        assert_eq!(describe(Lang::Ja, None, true), "手動のみ");
        assert_eq!(
            describe(Lang::En, Some(&sched("30 9 * * 1-5")), true),
            "Weekdays 09:30"
        );
        assert_eq!(
            describe(Lang::En, Some(&sched("0 5 * * MON,THU")), true),
            "Weekly on Mon, Thu 05:00"
        );
        let mut s = sched("0 5 * * *");
        s.skip_holidays = true;
        assert_eq!(
            describe(Lang::Ja, Some(&s), false),
            "毎日 05:00（祝日を除く）（停止中）"
        );
    }
}
