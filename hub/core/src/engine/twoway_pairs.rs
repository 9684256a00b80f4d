//! The pairs a two-way run syncs: what each side should end up with after a conflict (the
//! flow's policy) and the writes to each side, which note ids, versions and, for undo, every
//! acknowledged write on the pair.

use connector_sdk::{
    Fields, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest, WriteResult,
};
use hub_store::links::Link;
use hub_store::{ConflictPolicy, RunCounts, RunError};

use super::client::ConnectorClient;
use super::mapping::same_value;
use super::{record_error, Fatal};

pub(super) struct Change {
    pub(super) rec: Record,
    /// The record in the target's field space.
    pub(super) space: Fields,
    pub(super) link: Option<Link>,
}

/// One pair being synced: what each side should end up with, and what we know of each.
#[derive(Default, Clone)]
pub(super) struct Pair {
    pub(super) source_id: Option<String>,
    pub(super) target_id: Option<String>,
    pub(super) source_version: Option<String>,
    pub(super) target_version: Option<String>,
    /// The agreed content, in the target's field space.
    pub(super) agreed: Fields,
    /// What side A will read back as (target space) when that is not `agreed` (a mapping that
    /// does not go back and forth exactly): a written record counts as the hub's own only when
    /// its content is what the hub wrote, never by its version alone (versions with whole
    /// seconds cannot tell an edit made in the same second).
    pub(super) source_fingerprint: Option<String>,
    /// Which record the errors name.
    pub(super) label: String,
    pub(super) failed: bool,
    /// Kept for undo: each side's written fields before the run (JSON), the link before the
    /// run, and the writes acknowledged (side, op, result).
    pub(super) before_a: Option<String>,
    pub(super) before_b: Option<String>,
    pub(super) prior: Option<Link>,
    pub(super) written: Vec<(&'static str, WriteOp, WriteResult)>,
}

fn modified(r: &Record) -> i64 {
    r.modified_at
        .as_deref()
        .and_then(|m| chrono::DateTime::parse_from_rfc3339(m).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MIN)
}

/// The content both sides should have after a conflict.
pub(super) fn resolve(
    policy: ConflictPolicy,
    a: &Change,
    b: &Change,
    base: Option<&Fields>,
) -> Fields {
    let a_newer = modified(&a.rec) >= modified(&b.rec);
    match policy {
        ConflictPolicy::SourceWins => a.space.clone(),
        ConflictPolicy::TargetWins => b.space.clone(),
        ConflictPolicy::NewestWins => {
            if a_newer {
                a.space.clone()
            } else {
                b.space.clone()
            }
        }
        ConflictPolicy::FieldMerge => {
            let mut out = Fields::new();
            for (k, av) in &a.space {
                let bv = b.space.get(k).unwrap_or(&serde_json::Value::Null);
                let basev = base.and_then(|b| b.get(k));
                let unchanged =
                    |v: &serde_json::Value| base.is_some() && same_value(basev, Some(v));
                // Take the target's value only if the source did not change this field (it is still
                // the base) or both changed it and the target is newer; otherwise the source's.
                let source_unchanged = unchanged(av) && !same_value(Some(av), Some(bv));
                let both_changed = !unchanged(av) && !unchanged(bv);
                let v = if source_unchanged || (both_changed && !a_newer) {
                    bv
                } else {
                    av
                };
                out.insert(k.clone(), v.clone());
            }
            out
        }
    }
}

pub(super) fn op(
    op_id: String,
    action: WriteAction,
    id: Option<String>,
    fields: Fields,
) -> WriteOp {
    WriteOp {
        op_id,
        action,
        id,
        match_key: None,
        expected_version: None,
        fields,
    }
}

/// Writes one side's ops in batches and records ids and versions on the pairs. Answers whether
/// a record failed for a reason that may pass (then the cursors stay, to read it again).
pub(super) async fn write(
    client: &mut ConnectorClient,
    side: &'static str,
    object: &str,
    mut ops: Vec<(WriteOp, usize)>,
    pairs: &mut [Pair],
    counts: &mut RunCounts,
    errors: &mut Vec<RunError>,
) -> Result<bool, Fatal> {
    let batch = client.limits.write_batch_size.max(1) as usize;
    let mut retry = false;
    while !ops.is_empty() {
        let chunk: Vec<(WriteOp, usize)> = ops.drain(..batch.min(ops.len())).collect();
        let req = WriteRequest {
            object: object.to_string(),
            ops: chunk.iter().map(|(o, _)| o.clone()).collect(),
        };
        let results = client.write_batch(side, req).await?;
        for ((o, i), r) in chunk.iter().zip(results.iter()) {
            debug_assert_eq!(o.op_id, r.op_id);
            let p = &mut pairs[*i];
            match r.outcome {
                WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Unchanged => {
                    match r.outcome {
                        WriteOutcome::Created => counts.created += 1,
                        WriteOutcome::Updated => counts.updated += 1,
                        _ => counts.unchanged += 1,
                    }
                    p.written.push((side, o.clone(), r.clone()));
                    if side == "target" {
                        p.target_id = r.id.clone().or(p.target_id.take());
                        p.target_version = r.version.clone().or(p.target_version.take());
                    } else {
                        p.source_id = r.id.clone().or(p.source_id.take());
                        p.source_version = r.version.clone().or(p.source_version.take());
                    }
                }
                _ => {
                    counts.failed += 1;
                    p.failed = true;
                    let (error, retryable) = record_error(&p.label, side, r);
                    retry |= retryable;
                    errors.push(error);
                }
            }
        }
    }
    Ok(retry)
}
