//! Live progress of a run, as the bar on the flow page and the dashboard reads it (polled as
//! JSON by `static/app.js` every second): counts, the expected total when the source told it
//! (`Run::expected_read`), a percentage and a time estimate from the rate so far. Without a
//! total the bar is indeterminate and no estimate is given.

use hub_domain::{Millis, Run};
use serde_json::{json, Value};

use super::i18n::{t, tf, Lang};
use super::labels;

/// Estimated seconds left: the records still to read at the rate read so far. `None` until
/// something was read, or without a total.
pub fn eta_secs(run: &Run, now: Millis) -> Option<i64> {
    let expected = run.expected_read?;
    let read = run.counts.read;
    let elapsed = now - run.started_at?;
    if run.status.is_finished() || read <= 0 || elapsed <= 0 {
        return None;
    }
    let left = (expected - read).max(0);
    // Rounded up: "0 seconds left" while the run still works would be wrong.
    Some((left * elapsed + read * 1000 - 1) / (read * 1000))
}

/// Percent of the expected records read (100 once the run succeeded); `None` without a total.
pub fn percent(run: &Run) -> Option<i64> {
    let expected = run.expected_read.filter(|n| *n > 0)?;
    if run.status.is_finished() {
        return Some(100);
    }
    // Never 100 while running: the last writes may still be under way.
    Some((run.counts.read * 100 / expected).clamp(0, 99))
}

fn eta_label(lang: Lang, secs: i64) -> String {
    if secs >= 90 {
        let min = ((secs + 30) / 60).to_string();
        tf(lang, "progress.eta_min", &[("min", &min)])
    } else {
        tf(lang, "progress.eta_sec", &[("sec", &secs.to_string())])
    }
}

/// The JSON the progress bar reads (also the 今すぐ実行 poller's: `progress` and `status`).
pub fn status_json(lang: Lang, r: &Run, now: Millis) -> Value {
    let written = r.counts.created + r.counts.updated;
    let (read, w) = (r.counts.read.to_string(), written.to_string());
    let counts_label = match r.expected_read {
        Some(total) => tf(
            lang,
            "progress.counts_total",
            &[
                ("read", &read),
                ("total", &total.to_string()),
                ("written", &w),
            ],
        ),
        None => tf(lang, "progress.counts", &[("read", &read), ("written", &w)]),
    };
    let eta = eta_secs(r, now);
    json!({
        "id": r.id,
        "flow_id": r.flow_id,
        "run_url": format!("/runs/{}", r.id),
        "status": r.status.as_str(),
        "status_label": t(lang, labels::status_key(r.status)),
        "finished": r.status.is_finished(),
        "counts": r.counts,
        "written": written,
        "expected": r.expected_read,
        "percent": percent(r),
        "eta_secs": eta,
        "counts_label": counts_label,
        "eta_label": eta.map(|s| eta_label(lang, s)),
        "progress": labels::counts_text(lang, r),
        "message": r.message.as_deref().map(|m| hub_messages::Message::stored_in(m, lang)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{RunCounts, RunStatus, Trigger};

    fn running(read: i64, expected: Option<i64>, started: Millis) -> Run {
        Run {
            id: "r1".into(),
            flow_id: "f1".into(),
            trigger: Trigger::Manual,
            status: RunStatus::Running,
            queued_at: started,
            started_at: Some(started),
            finished_at: None,
            scheduled_for: None,
            attempt: 1,
            counts: RunCounts {
                read,
                created: read / 2,
                ..Default::default()
            },
            message: None,
            expected_read: expected,
        }
    }

    #[test]
    fn estimates_from_the_rate_so_far() {
        // 100 of 400 in 10 s: 300 more take 30 s.
        let r = running(100, Some(400), 0);
        assert_eq!(eta_secs(&r, 10_000), Some(30));
        assert_eq!(percent(&r), Some(25));
        let j = status_json(Lang::Ja, &r, 10_000);
        assert_eq!(j["counts_label"], "読込 100 / 400件 / 書込 50件");
        assert_eq!(j["eta_label"], "残り約 30 秒");
        let j = status_json(Lang::En, &r, 10_000);
        assert_eq!(j["eta_label"], "About 30 s left");
    }

    #[test]
    fn without_a_total_only_counts() {
        let r = running(100, None, 0);
        let j = status_json(Lang::Ja, &r, 10_000);
        assert_eq!(j["percent"], Value::Null);
        assert_eq!(j["eta_secs"], Value::Null);
        assert_eq!(j["counts_label"], "読込 100件 / 書込 50件");
    }

    #[test]
    fn long_estimates_in_minutes_and_never_done_while_running() {
        let r = running(10, Some(1000), 0);
        assert_eq!(eta_secs(&r, 10_000), Some(990));
        assert_eq!(
            status_json(Lang::Ja, &r, 10_000)["eta_label"],
            "残り約 17 分"
        );
        let r = running(1000, Some(1000), 0);
        assert_eq!(percent(&r), Some(99));
        assert_eq!(eta_secs(&r, 10_000), Some(0));
        let mut done = running(1000, Some(1000), 0);
        done.status = RunStatus::Success;
        assert_eq!(percent(&done), Some(100));
        assert_eq!(eta_secs(&done, 10_000), None);
    }
}
