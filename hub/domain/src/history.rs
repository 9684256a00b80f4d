//! The run history's read shapes: what to list, the chart's day counts, what a run was queued
//! to do besides an ordinary sync, the records waiting to be written and the totals of
//! `/metrics`.

use serde::{Deserialize, Serialize};

use crate::{Millis, RunCounts, RunError, RunStatus, Trigger};

/// Which runs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub flow: Option<String>,
    pub status: Option<RunStatus>,
    pub trigger: Option<Trigger>,
    /// Runs queued at or after this time.
    pub since: Option<Millis>,
    /// Runs queued before this time.
    pub until: Option<Millis>,
    pub limit: i64,
}

/// Runs of one day and status, for the history's chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayCount {
    /// Days since 1970-01-01 in the zone of the asked offset.
    pub day: i64,
    pub status: RunStatus,
    pub runs: i64,
}

/// What a run was queued to do besides an ordinary sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// 元に戻す: restore what another run changed.
    Undo,
    /// 失敗分のみ再実行: sync again only the records another run failed on.
    RetryFailed,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Undo => "undo",
            RunKind::RetryFailed => "retry_failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "undo" => RunKind::Undo,
            "retry_failed" => RunKind::RetryFailed,
            _ => return None,
        })
    }
}

/// A run queued to act on another run (`of_run`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub run_id: String,
    pub kind: RunKind,
    pub of_run: String,
}

/// A record a run could not write, waiting for the next run (or to be dismissed).
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRecord {
    pub record: String,
    pub side: String,
    pub code: String,
    pub message: String,
    /// The record's title as its last failure read it ([`RunError::title`]).
    pub title: Option<String>,
    pub first_run_id: String,
    pub last_run_id: String,
    pub since: Millis,
}

impl PendingRecord {
    pub fn as_error(&self) -> RunError {
        RunError {
            record: self.record.clone(),
            side: self.side.clone(),
            code: self.code.clone(),
            message: self.message.clone(),
            title: self.title.clone(),
            ..Default::default()
        }
    }
}

/// Totals over the whole history, for `/metrics`.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub by_status: Vec<(String, i64)>,
    pub records: RunCounts,
    pub queued: i64,
}
