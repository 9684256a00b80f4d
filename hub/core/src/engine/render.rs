//! What the engine (`hub-engine`) reports, as the run's history shows it: counts and the
//! records it could not sync, both directions alike.

use hub_domain::{RunCounts, RunError};
use hub_engine::{Ambiguity, Counts, Failure, Report};

use super::reads::ambiguous;
use super::{read_issues, record_error};

pub(super) fn add_counts(counts: &mut RunCounts, c: &Counts) {
    counts.read += c.read;
    counts.created += c.created;
    counts.updated += c.updated;
    counts.unchanged += c.unchanged;
    counts.skipped += c.skipped;
    counts.failed += c.failed;
}

/// The run's errors, in the order the engine met them.
pub(super) fn run_errors(report: &Report) -> Vec<RunError> {
    report.failures.iter().map(run_error).collect()
}

/// A record the engine could not sync, as the run's history shows it.
pub(super) fn run_error(f: &Failure) -> RunError {
    match f {
        Failure::Unreadable { side, issue } => {
            let mut e = read_issues(side.name(), std::slice::from_ref(issue));
            e.remove(0)
        }
        Failure::Ambiguous { label, from, found } => ambiguous(
            label,
            &ambiguity(label, from.name(), from.other().name(), found),
        ),
        Failure::Refused {
            label,
            side,
            result,
        } => record_error(label, side.name(), result).0,
        Failure::NotDeleted { label, side } => RunError {
            record: label.clone(),
            side: side.name().into(),
            code: "delete_failed".into(),
            message: "the record could not be deleted".into(),
            ..Default::default()
        },
        Failure::NoResult { label, side } => RunError {
            record: label.clone(),
            side: side.name().into(),
            code: "no_result".into(),
            message: "the connector returned no result for this record".into(),
            ..Default::default()
        },
        Failure::Prepared {
            label,
            side,
            code,
            message,
        } => RunError {
            record: label.clone(),
            side: side.name().into(),
            code: code.clone(),
            message: message.clone(),
            ..Default::default()
        },
    }
}

/// Why record `label` (of side `mine`) pairs with no single record of side `theirs`.
fn ambiguity(label: &str, mine: &str, theirs: &str, found: &Ambiguity) -> String {
    match found {
        Ambiguity::Taken(id) => format!("{theirs} record {id} matches two {mine} records"),
        Ambiguity::Several(ids) => {
            format!("{} {theirs} records match: {}", ids.len(), ids.join(", "))
        }
        Ambiguity::SharedTarget { target, other } => {
            format!("{mine} records {other} and {label} both match {theirs} record {target}")
        }
        Ambiguity::SameKey { other } => {
            format!("{mine} records {other} and {label} have the same key")
        }
    }
}
