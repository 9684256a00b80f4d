//! How values read on the pages: times in Japan time as the manual prints them
//! (2019/10/11 14:36:04 - 14:36:04), run statuses (SUCCESS…), triggers (手動/スケジュール…).

use chrono::{TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use hub_domain::{Millis, Run, RunStatus, Trigger};
use hub_messages::Message;
use minijinja::{context, Value};

use super::i18n::{t, tf, Lang};

fn local(ms: Millis) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.with_timezone(&Tokyo))
}

/// 12/07 11:20: when a connection was last checked.
pub fn month_day_time(ms: Millis) -> Option<String> {
    local(ms).map(|t| t.format("%m/%d %H:%M").to_string())
}

pub fn datetime(ms: Option<Millis>) -> String {
    ms.and_then(local)
        .map(|t| t.format("%Y/%m/%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "—".into())
}

/// 処理時間（開始 - 終了）: the end without its date when on the same day.
pub fn span(start: Option<Millis>, end: Option<Millis>) -> String {
    let (Some(s), e) = (start.and_then(local), end.and_then(local)) else {
        return "—".into();
    };
    let head = s.format("%Y/%m/%d %H:%M:%S").to_string();
    match e {
        Some(e) if e.date_naive() == s.date_naive() => format!("{head} - {}", e.format("%H:%M:%S")),
        Some(e) => format!("{head} - {}", e.format("%Y/%m/%d %H:%M:%S")),
        None => format!("{head} - "),
    }
}

pub fn status_key(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Queued => "status.queued",
        RunStatus::Running => "status.running",
        RunStatus::Success => "status.success",
        RunStatus::Partial => "status.partial",
        RunStatus::Failed => "status.failed",
        RunStatus::Interrupted => "status.interrupted",
        RunStatus::Skipped => "status.skipped",
    }
}

pub fn trigger_key(tr: Trigger) -> &'static str {
    match tr {
        Trigger::Manual => "trigger.manual",
        Trigger::Schedule => "trigger.schedule",
        Trigger::Retry => "trigger.retry",
        Trigger::Api => "trigger.api",
    }
}

pub const STATUSES: [RunStatus; 7] = [
    RunStatus::Success,
    RunStatus::Partial,
    RunStatus::Failed,
    RunStatus::Interrupted,
    RunStatus::Skipped,
    RunStatus::Running,
    RunStatus::Queued,
];

pub const TRIGGERS: [Trigger; 4] = [
    Trigger::Manual,
    Trigger::Schedule,
    Trigger::Retry,
    Trigger::Api,
];

/// "読込 3件 / 作成 1件 / 更新 2件 / 変更なし 0件 / スキップ 0件 / 失敗 0件"
pub fn counts_text(lang: Lang, r: &Run) -> String {
    let c = &r.counts;
    let warned = match c.warnings {
        0 => String::new(),
        n => tf(lang, "run.counts_warnings", &[("n", &n.to_string())]),
    };
    let counts = tf(
        lang,
        "run.counts",
        &[
            ("read", &c.read.to_string()),
            ("created", &c.created.to_string()),
            ("updated", &c.updated.to_string()),
            ("unchanged", &c.unchanged.to_string()),
            ("skipped", &c.skipped.to_string()),
            ("failed", &c.failed.to_string()),
        ],
    );
    counts + &warned
}

/// A run as a table row.
pub fn run_row(lang: Lang, r: &Run, flow_name: &str) -> Value {
    context! {
        id => r.id.clone(),
        flow_id => r.flow_id.clone(),
        flow_name => flow_name,
        span => span(r.started_at.or(Some(r.queued_at)), r.finished_at),
        queued_at => datetime(Some(r.queued_at)),
        trigger => t(lang, trigger_key(r.trigger)),
        status => r.status.as_str(),
        status_label => t(lang, status_key(r.status)),
        finished => r.status.is_finished(),
        counts => r.counts,
        counts_text => counts_text(lang, r),
        attempt => r.attempt,
        message => r.message.as_deref().map(|m| Message::stored_in(m, lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_like_the_manual() {
        // 2019-10-11 14:36:04 JST
        let start = 1_570_772_164_000;
        assert_eq!(
            span(Some(start), Some(start + 400)),
            "2019/10/11 14:36:04 - 14:36:04"
        );
        assert_eq!(
            span(Some(start), Some(start + 86_400_000)),
            "2019/10/11 14:36:04 - 2019/10/12 14:36:04"
        );
        assert_eq!(span(Some(start), None), "2019/10/11 14:36:04 - ");
        assert_eq!(span(None, None), "—");
        assert_eq!(t(Lang::Ja, status_key(RunStatus::Success)), "SUCCESS");
        assert_eq!(t(Lang::Ja, trigger_key(Trigger::Schedule)), "スケジュール");
    }
}
