//! What a sync run knows about itself: its id (to keep, for 元に戻す, every record it wrote
//! with what the record held before) and, for 失敗分のみ再実行, the records it may touch.

use connector_sdk::{WriteOp, WriteOutcome, WriteResult};
use hub_store::changes::{ChangeAction, RunChange};
use hub_store::links::Link;

use super::retry::Scope;

/// A run's identity and limits. The default (a preview) records nothing and limits nothing.
#[derive(Default)]
pub struct RunCtx {
    /// The run whose writes are recorded; `None` in a preview, which writes nothing.
    pub run_id: Option<String>,
    /// Only these records (a retry of another run's failed records).
    pub scope: Option<Scope>,
}

/// One acknowledged write, as the engine saw it.
pub(super) struct Written<'a> {
    /// `target`, or `source` when a two-way flow writes back.
    pub side: &'a str,
    pub object: &'a str,
    /// The record as the run's errors name it.
    pub label: &'a str,
    /// The written fields as they were (JSON), when known.
    pub before: Option<String>,
    pub prior: Option<&'a Link>,
}

impl RunCtx {
    pub fn recording(run_id: &str) -> Self {
        RunCtx {
            run_id: Some(run_id.to_string()),
            scope: None,
        }
    }

    /// Whether a record is part of this run (always, unless the run is a retry of some).
    pub(super) fn admits(&self, id: &str) -> bool {
        self.scope.as_ref().is_none_or(|s| s.admit(id))
    }

    /// Whether a record read on `side` is left to a later run (a retry that does not own it).
    pub(super) fn leaves(&self, side: &str, id: &str) -> bool {
        self.scope.as_ref().is_some_and(|s| s.left(side, id))
    }

    /// The change row of a write the connector acknowledged; `None` when nothing changed (or
    /// nothing is recorded).
    pub(super) fn change(
        &self,
        w: Written<'_>,
        op: &WriteOp,
        r: &WriteResult,
    ) -> Option<RunChange> {
        let run_id = self.run_id.clone()?;
        let action = match r.outcome {
            WriteOutcome::Created => ChangeAction::Created,
            WriteOutcome::Updated => ChangeAction::Updated,
            WriteOutcome::Deleted => ChangeAction::Deleted,
            _ => return None,
        };
        let record_id = match action {
            ChangeAction::Deleted => op.id.clone().or_else(|| r.id.clone()),
            _ => r.id.clone().or_else(|| op.id.clone()),
        }?;
        Some(RunChange {
            run_id,
            side: w.side.to_string(),
            object: w.object.to_string(),
            record_id,
            label: w.label.to_string(),
            action,
            before: match action {
                ChangeAction::Created => None,
                _ => w.before,
            },
            after_version: r.version.clone(),
            after_modified: r.modified_at.clone(),
            prior_link: w.prior.cloned(),
        })
    }
}
