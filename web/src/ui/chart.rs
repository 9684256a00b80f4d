//! Runs per day by result as an inline SVG bar chart (no script, no library). Only numbers,
//! dates and catalogue words go into the markup.

use chrono::{Offset, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use hub_domain::DayCount;
use hub_domain::{Millis, RunStatus};
use minijinja::{context, Value};
use std::fmt::Write;

use super::i18n::{t, tf, Lang};
use super::labels::status_key;

/// Stack order (bottom first) and colours; everything else counts as その他.
const SERIES: [(Option<RunStatus>, &str, &str); 4] = [
    (Some(RunStatus::Success), "#2e7d32", "status.success"),
    (Some(RunStatus::Partial), "#f0a500", "status.partial"),
    (Some(RunStatus::Failed), "#c62828", "status.failed"),
    (None, "#9e9e9e", "chart.other"),
];

fn series_of(s: RunStatus) -> usize {
    SERIES
        .iter()
        .position(|(st, _, _)| *st == Some(s))
        .unwrap_or(SERIES.len() - 1)
}

/// `chrono::NaiveDate::num_days_from_ce` of 1970-01-01: the store counts days from the epoch.
const EPOCH_DAYS_FROM_CE: i64 = 719_163;
const DAY_MS: Millis = 86_400_000;

/// How far Japan time is ahead of UTC at `now`, for counting runs per day in the store.
pub fn day_offset_ms(now: Millis) -> i64 {
    Utc.timestamp_millis_opt(now)
        .single()
        .map(|t| {
            Tokyo
                .offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc() as i64
                * 1000
        })
        .unwrap_or(9 * 3_600_000)
}

/// The first instant of the chart's window of `days` days ending today (Japan time).
pub fn window_start(now: Millis, days: i64) -> Millis {
    let offset = day_offset_ms(now);
    ((now + offset).div_euclid(DAY_MS) - days + 1) * DAY_MS - offset
}

/// `days` bars ending today (Japan time), each stacked by result, from the store's day counts.
pub fn runs_per_day(lang: Lang, per_day: &[DayCount], now: Millis, days: i64) -> String {
    let today = (now + day_offset_ms(now)).div_euclid(DAY_MS);
    let first = today - days + 1;
    let mut counts = vec![[0u64; SERIES.len()]; days as usize];
    for c in per_day {
        if (first..=today).contains(&c.day) {
            counts[(c.day - first) as usize][series_of(c.status)] += c.runs.max(0) as u64;
        }
    }
    let max = counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, left, bottom, top) = (720.0, 200.0, 36.0, 24.0, 10.0);
    let plot_h = h - bottom - top;
    let slot = (w - left) / days as f64;
    let bar = (slot * 0.6).max(4.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        t(lang, "chart.title")
    );
    // Horizontal guides at 0, max, and half of max when that is a whole number.
    let fracs: &[f64] = if max % 2 == 0 {
        &[0.0, 0.5, 1.0]
    } else {
        &[0.0, 1.0]
    };
    for &frac in fracs {
        let y = top + plot_h * (1.0 - frac);
        let label = (max as f64 * frac).round() as u64;
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{y:.1}" x2="{w}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" fill="#666">{label}</text>"##,
            left - 4.0,
            y + 3.0
        );
    }
    for (i, day) in counts.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = top + plot_h;
        let total: u64 = day.iter().sum();
        for (k, n) in day.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            let hgt = plot_h * *n as f64 / max as f64;
            y -= hgt;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="{hgt:.1}" fill="{}"><title>{}: {n}</title></rect>"#,
                SERIES[k].1,
                t(lang, SERIES[k].2)
            );
        }
        let date = chrono::NaiveDate::from_num_days_from_ce_opt(
            (first + i as i64 + EPOCH_DAYS_FROM_CE) as i32,
        );
        if let Some(d) = date {
            if i % 2 == (days as usize - 1) % 2 {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#444">{}</text>"##,
                    x + bar / 2.0,
                    h - 8.0,
                    d.format("%m/%d")
                );
            }
        }
        if total > 0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle" fill="#333">{total}</text>"##,
                x + bar / 2.0,
                y - 2.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

pub fn legend(lang: Lang) -> Vec<Value> {
    SERIES
        .iter()
        .enumerate()
        .map(|(i, (st, _, key))| {
            let label = match st {
                Some(s) => t(lang, status_key(*s)),
                None => t(lang, key),
            };
            // A class, not an inline style: the Content-Security-Policy allows no inline styles.
            context! { series => i, label => label }
        })
        .collect()
}

/// The chart's caption: how many days it covers.
pub fn caption(lang: Lang, days: i64) -> String {
    tf(lang, "chart.caption", &[("days", &days.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_by_result_per_day() {
        let now = 1_763_800_000_000; // 2025-11-22 17:26 JST
        let today = (now + 9 * 3_600_000) / DAY_MS;
        let day = |day, status, runs| DayCount { day, status, runs };
        let counts = vec![
            day(today, RunStatus::Success, 1),
            day(today, RunStatus::Failed, 1),
            day(today - 1, RunStatus::Success, 1),
            day(today - 40, RunStatus::Success, 1), // outside the window
        ];
        let svg = runs_per_day(Lang::Ja, &counts, now, 14);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("#c62828"));
        assert!(svg.contains(">2</text>"), "today's total is shown");
        assert!(
            svg.contains(">11/22</text>"),
            "the last bar is today in Japan"
        );
    }

    #[test]
    fn the_window_starts_at_midnight_in_japan() {
        let now = 1_763_800_000_000;
        let start = window_start(now, 14);
        let jst = Utc
            .timestamp_millis_opt(start)
            .unwrap()
            .with_timezone(&Tokyo);
        assert_eq!(jst.format("%Y-%m-%d %H:%M").to_string(), "2025-11-09 00:00");
    }
}
