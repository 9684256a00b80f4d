//! 連携タイミング: a flow's cron schedule in business words (毎日 05:00, 平日 09:30, 毎時 00分,
//! 15分ごと, 毎週月曜 05:00, 毎月1日 05:00), falling back to the cron text for anything else.

use hub_store::Schedule;

use super::i18n::{t, tf, Lang};

fn num(s: &str, max: u32) -> Option<u32> {
    s.parse::<u32>().ok().filter(|n| *n <= max)
}

fn weekday_key(d: u32) -> &'static str {
    match d % 7 {
        0 => "sched.sun",
        1 => "sched.mon",
        2 => "sched.tue",
        3 => "sched.wed",
        4 => "sched.thu",
        5 => "sched.fri",
        _ => "sched.sat",
    }
}

fn weekday_num(s: &str) -> Option<u32> {
    let names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(s))
        .map(|p| p as u32)
        .or_else(|| num(s, 7))
}

/// The 5-field expression in words, or None when it has no simple reading.
fn words(lang: Lang, cron: &str) -> Option<String> {
    let f: Vec<&str> = cron.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f.as_slice() else {
        return None;
    };
    if *mon != "*" {
        return None;
    }
    if let Some(step) = min.strip_prefix("*/").and_then(|s| num(s, 59)) {
        return (*hour == "*" && *dom == "*" && *dow == "*")
            .then(|| tf(lang, "sched.every_minutes", &[("n", &step.to_string())]));
    }
    let m = num(min, 59)?;
    if *hour == "*" {
        return (*dom == "*" && *dow == "*")
            .then(|| tf(lang, "sched.hourly", &[("mm", &format!("{m:02}"))]));
    }
    let time = |h: u32| format!("{h:02}:{m:02}");
    let hours: Vec<u32> = hour
        .split(',')
        .map(|h| num(h, 23))
        .collect::<Option<Vec<_>>>()?;
    let at = hours
        .iter()
        .map(|h| time(*h))
        .collect::<Vec<_>>()
        .join(", ");
    match (*dom, *dow) {
        ("*", "*") => Some(tf(lang, "sched.daily", &[("time", &at)])),
        ("*", "1-5") | ("*", "MON-FRI") => Some(tf(lang, "sched.weekdays", &[("time", &at)])),
        ("*", d) => {
            let days = d
                .split(',')
                .map(|x| weekday_num(x).map(|n| t(lang, weekday_key(n))))
                .collect::<Option<Vec<_>>>()?;
            Some(tf(
                lang,
                "sched.weekly",
                &[
                    ("days", &days.join(t(lang, "sched.list_sep").as_str())),
                    ("time", &at),
                ],
            ))
        }
        (d, "*") => {
            let day = num(d, 31).filter(|d| *d >= 1)?;
            Some(tf(
                lang,
                "sched.monthly",
                &[("day", &day.to_string()), ("time", &at)],
            ))
        }
        _ => None,
    }
}

/// The 連携タイミング column: words (with the weekend/holiday rule), the cron text otherwise,
/// and 手動のみ for a flow without a schedule.
pub fn describe(lang: Lang, schedule: Option<&Schedule>, enabled: bool) -> String {
    let Some(s) = schedule else {
        return t(lang, "sched.manual_only");
    };
    let mut out = words(lang, &s.cron).unwrap_or_else(|| s.cron.trim().to_string());
    match (s.skip_weekends, s.skip_holidays) {
        (true, true) => out += &t(lang, "sched.skip_both"),
        (true, false) => out += &t(lang, "sched.skip_weekends"),
        (false, true) => out += &t(lang, "sched.skip_holidays"),
        _ => {}
    }
    if s.timezone != hub_store::DEFAULT_TIMEZONE {
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
        assert_eq!(ja("0 5 1 * *"), "毎月 1日 05:00");
        assert_eq!(ja("0 5,17 * * *"), "毎日 05:00, 17:00");
        // No simple reading: the cron text itself.
        assert_eq!(ja("0 5 1 4 *"), "0 5 1 4 *");
        assert_eq!(describe(Lang::Ja, None, true), "手動のみ");
        assert_eq!(
            describe(Lang::En, Some(&sched("30 9 * * 1-5")), true),
            "Weekdays 09:30"
        );
        let mut s = sched("0 5 * * *");
        s.skip_holidays = true;
        assert_eq!(
            describe(Lang::Ja, Some(&s), false),
            "毎日 05:00（祝日を除く）（停止中）"
        );
    }
}
