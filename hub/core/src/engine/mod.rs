//! The sync engine: executes one run of a flow (DESIGN.md "Sync semantics"). Connector-agnostic:
//! it speaks only the SDK's read/write calls, through [`client::ConnectorClient`].

mod changelog;
pub mod client;
mod commit_behind;
mod ledger;
pub mod lookup;
pub mod mapping;
pub mod matching;
mod naming;
mod newest;
mod oneway;
mod pending;
mod reads;
mod render;
pub mod retry;
mod sides;
pub mod transforms;
mod twoway;
pub mod undo;

use connector_sdk::ConnectorError;
use hub_domain::RunKind;
use hub_domain::{Direction, Run, RunCounts, RunError, RunStatus, RunWarning};
use hub_store::pending::PendingUpdate;

pub(crate) use changelog::RunCtx;

use crate::Hub;
use hub_messages::{Lang, Message};

/// The flow's cursor row saying where reads start while it has no `source` cursor: an RFC 3339
/// time (a capped first run began then: only what changed since is read), or empty (全件を取り込む:
/// the next run reads the whole object). A `source` cursor, once saved, takes over.
pub const SOURCE_SINCE: &str = "source@since";

/// What a run did, recorded in the history (処理履歴).
#[derive(Debug, Clone)]
pub struct RunReport {
    pub status: RunStatus,
    pub counts: RunCounts,
    pub errors: Vec<RunError>,
    /// Records handled that a person should look at; they never change `status`.
    pub warnings: Vec<RunWarning>,
    pub message: Option<String>,
    /// The run failed for a reason that may pass by itself (rate limit, network, a 5xx).
    pub retryable: bool,
    /// What the run does to its flow's pending records (`hub_store::pending`).
    pub pending: PendingUpdate,
}

/// Why a run stopped early, and whether trying again later may help.
#[derive(Debug, Clone)]
pub struct Fatal {
    pub message: String,
    pub retryable: bool,
}

impl Fatal {
    /// A failure a person must fix (settings, credentials, a bad mapping).
    pub fn final_(message: impl Into<String>) -> Self {
        Fatal {
            message: message.into(),
            retryable: false,
        }
    }

    /// Coded: the side, the connector's own words in the page's language, its code as detail.
    pub fn connector(side: &str, e: &ConnectorError) -> Self {
        let side_key = if side == "source" {
            "run.side_source"
        } else {
            "run.side_target"
        };
        Fatal {
            message: Message::new("run.connector_failed")
                .with_text("side", side_key)
                .with_local(
                    "reason",
                    remote_words(e, Lang::Ja),
                    remote_words(e, Lang::En),
                )
                .with("detail", &e.code)
                .to_stored(),
            retryable: e.is_retryable() || e.code == "timed_out",
        }
    }
}

impl From<String> for Fatal {
    /// Store and other hub-side failures: worth another attempt.
    fn from(message: String) -> Self {
        Fatal {
            message,
            retryable: true,
        }
    }
}

impl RunReport {
    fn finish(counts: RunCounts, errors: Vec<RunError>, fatal: Option<Fatal>) -> Self {
        let status = if fatal.is_some() {
            RunStatus::Failed
        } else if counts.failed > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Success
        };
        RunReport {
            status,
            counts,
            errors,
            warnings: Vec::new(),
            retryable: fatal.as_ref().is_some_and(|f| f.retryable),
            message: fatal.map(|f| f.message),
            // A run with nothing pending before: what it failed on becomes pending.
            pending: PendingUpdate::Settle { tried: Vec::new() },
        }
    }
}

/// What a preview (dry run) would do, without writing anything.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Plan {
    /// The first changes, record by record (at most [`Plan::SAMPLE`]).
    pub changes: Vec<PlannedChange>,
    /// Records changed on both sides since the last sync (two-way flows).
    pub conflicts: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedChange {
    pub record: String,
    /// The record's title (its title field's value as read), when known.
    pub title: Option<String>,
    /// The side that would be written: `source` or `target`.
    pub side: String,
    /// `create`, `update`, `create_or_update` (matched by the target itself) or `delete`.
    pub action: &'static str,
    pub target_id: Option<String>,
    /// The fields the write would change, in the written side's fields.
    pub fields: Vec<FieldChange>,
}

/// One field a preview's write changes: `before` is the written record's value as the hub
/// knows it (`None`: a create, or not known), `after` the value to be written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FieldChange {
    /// What `op` writes over `before` (the record's fields, when known): every field it sets
    /// to another value, in field order.
    fn of(op: &connector_sdk::WriteOp, before: Option<&connector_sdk::Fields>) -> Vec<Self> {
        let mut out: Vec<FieldChange> = op
            .fields
            .iter()
            .map(|(k, v)| FieldChange {
                field: k.clone(),
                before: before.and_then(|b| b.get(k)).and_then(naming::text),
                after: naming::text(v),
            })
            .filter(|c| before.is_none() || c.before != c.after)
            .collect();
        out.sort_by(|a, b| a.field.cmp(&b.field));
        out
    }
}

impl Plan {
    pub const SAMPLE: usize = 200;

    fn record(
        &mut self,
        record: &str,
        side: &str,
        op: &connector_sdk::WriteOp,
        counts: &mut RunCounts,
    ) {
        self.record_over((record, side), op, None, counts)
    }

    /// [`Plan::record`] of a write over a record whose fields were `before`.
    fn record_over(
        &mut self,
        (record, side): (&str, &str),
        op: &connector_sdk::WriteOp,
        before: Option<&connector_sdk::Fields>,
        counts: &mut RunCounts,
    ) {
        use connector_sdk::WriteAction;
        let action = match (op.action, &op.id) {
            (WriteAction::Delete, _) => "delete",
            (WriteAction::Create, _) => "create",
            (_, Some(_)) => "update",
            (_, None) if op.match_key.is_some() => "create_or_update",
            _ => "create",
        };
        match action {
            "create" => counts.created += 1,
            _ => counts.updated += 1,
        }
        if self.changes.len() < Self::SAMPLE {
            let fields = match action {
                "delete" => Vec::new(),
                "create" => FieldChange::of(op, None),
                _ => FieldChange::of(op, before),
            };
            self.changes.push(PlannedChange {
                record: record.to_string(),
                title: None,
                side: side.to_string(),
                action,
                target_id: op.id.clone(),
                fields,
            });
        }
    }
}

/// Reads and decides like a run, but writes nothing and moves no cursor or link.
pub async fn preview(hub: &Hub, flow: &hub_domain::Flow) -> (RunReport, Plan) {
    let mut plan = Plan::default();
    let noop = |_: &RunCounts| {};
    let report = match flow.spec.direction {
        Direction::OneWay => {
            oneway::run(hub, flow, &RunCtx::default(), &noop, Some(&mut plan)).await
        }
        Direction::TwoWay => {
            twoway::run(hub, flow, &RunCtx::default(), &noop, Some(&mut plan)).await
        }
    };
    (report, plan)
}

/// The history entry for a record the connector refused (or found changed since it was read),
/// and whether trying it again later may help. Messages carry the Japanese text first.
/// Rows the connector could not read become failed records of the run, on their side.
fn read_issues(side: &str, issues: &[connector_sdk::RecordIssue]) -> Vec<RunError> {
    issues
        .iter()
        .map(|i| RunError {
            record: i.record.clone(),
            side: side.to_string(),
            code: i.code.clone(),
            message: i.message.clone(),
            ..Default::default()
        })
        .collect()
}

/// Records the connector handed over with something to look at, on their side.
fn read_warnings(side: &str, warnings: &[connector_sdk::RecordWarning]) -> Vec<RunWarning> {
    warnings
        .iter()
        .map(|w| RunWarning {
            record: w.record.clone(),
            side: side.to_string(),
            code: w.code.clone(),
            params: w.params.clone(),
            message: w.message.clone(),
            ..Default::default()
        })
        .collect()
}

/// A connector's own words in `lang`: its Japanese message when it gave one.
fn remote_words(e: &ConnectorError, lang: Lang) -> String {
    match (&e.message_ja, lang) {
        (Some(ja), Lang::Ja) if !ja.is_empty() => ja.clone(),
        _ => e.message.clone(),
    }
}

fn record_error(record: &str, side: &str, r: &connector_sdk::WriteResult) -> (RunError, bool) {
    let (code, message, retryable) = match &r.error {
        Some(e) => (
            e.code.clone(),
            Message::new("run_error.remote")
                .with_local("text", remote_words(e, Lang::Ja), remote_words(e, Lang::En))
                .to_stored(),
            e.is_retryable(),
        ),
        // A conflict: the record changed since it was read; the next run reads it again.
        None => (
            "conflict".into(),
            Message::new("run_error.changed_after_read").to_stored(),
            true,
        ),
    };
    (
        RunError {
            record: record.to_string(),
            side: side.to_string(),
            code,
            message,
            ..Default::default()
        },
        retryable,
    )
}

/// Called with the running counts after every page, for live progress.
pub type Progress<'a> = &'a (dyn Fn(&RunCounts) + Send + Sync);

pub async fn execute(hub: &Hub, run: &Run, progress: Progress<'_>) -> RunReport {
    let flow = match hub.store.get_flow(&run.flow_id).await {
        Ok(f) => f,
        Err(e) => {
            let fatal = Fatal::final_(format!("flow unavailable: {e}"));
            return RunReport::finish(RunCounts::default(), vec![], Some(fatal));
        }
    };
    // Runs queued to act on another run (元に戻す, 失敗分のみ再実行) have a request row.
    match hub.store.run_request(&run.id).await {
        Ok(Some(req)) => match req.kind {
            RunKind::Undo => {
                let mut r = undo::execute(hub, &flow, run, &req.of_run, progress).await;
                r.pending = PendingUpdate::Keep;
                r
            }
            RunKind::RetryFailed => retry::execute(hub, &flow, run, &req.of_run, progress).await,
        },
        Ok(None) => {
            retry::save_start_cursors(hub, &flow, &run.id).await;
            pending::ordinary(hub, &flow, run, progress).await
        }
        Err(e) => RunReport::finish(
            RunCounts::default(),
            vec![],
            Some(Fatal::from(format!("run {}: {e}", run.id))),
        ),
    }
}

/// One sync of the flow, as far as `ctx` allows.
async fn sync(
    hub: &Hub,
    flow: &hub_domain::Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
) -> RunReport {
    match flow.spec.direction {
        Direction::OneWay => oneway::run(hub, flow, ctx, progress, None).await,
        Direction::TwoWay => twoway::run(hub, flow, ctx, progress, None).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_sdk::{ErrorKind, WriteOutcome, WriteResult};

    const JA: &str = "メールアドレスの形式が正しくありません";
    const EN: &str = "invalid value for Email";

    fn refused() -> ConnectorError {
        ConnectorError::new(ErrorKind::InvalidData, EN)
            .with_code("INVALID_DATA")
            .with_ja(JA)
    }

    #[test]
    fn a_refused_record_reads_in_one_language_at_a_time() {
        let r = WriteResult {
            op_id: "1".into(),
            outcome: WriteOutcome::Error,
            id: None,
            version: None,
            modified_at: None,
            error: Some(refused()),
        };
        let (e, _) = record_error("10", "target", &r);
        assert_eq!(e.code, "INVALID_DATA");
        assert_eq!(Message::stored_in(&e.message, Lang::Ja), JA);
        assert_eq!(Message::stored_in(&e.message, Lang::En), EN);
    }

    #[test]
    fn a_connector_failure_names_the_side_in_the_reader_s_language() {
        let f = Fatal::connector("target", &refused());
        let ja = Message::stored_in(&f.message, Lang::Ja);
        assert!(ja.starts_with("送信先: ") && ja.contains(JA), "{ja}");
        assert!(!ja.contains(EN), "{ja}");
        let en = Message::stored_in(&f.message, Lang::En);
        assert!(
            en.starts_with("Target: ") && en.contains(EN) && en.contains("INVALID_DATA"),
            "{en}"
        );
        assert!(!en.contains(JA), "{en}");
    }
}
