//! Two-way sync: changes read from both sides since their cursors; a record changed on one side
//! flows to the other; a record changed on both is a conflict settled by the flow's policy
//! (source wins, target wins, newest wins, or field by field against the last synced copy, the
//! newer side breaking a tie on one field). What the hub wrote itself is recognised by the
//! version it got back (or an unchanged fingerprint) and never echoed back.
//!
//! Values are compared in the target's field space: the source through the mapping, the target
//! through the mapped fields only. Both sides' changes of one run are held in memory.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{
    Fields, ReadRequest, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest,
};
use hub_store::links::{Link, PageCommit};
use hub_store::{now_ms, ConflictPolicy, Flow, FlowSpec, RunCounts, RunError};
use std::collections::{HashMap, HashSet};

use super::client::ConnectorClient;
use super::mapping::{fingerprint, Mapper};
use super::matching::{key_of, Match, Side, TargetIndex};
use super::oneway::{ambiguous, describe, load_index, open_failed, read_fields};
use super::{record_error, Fatal, Plan, Progress, RunReport};
use crate::Hub;

struct Change {
    rec: Record,
    /// The record in the target's field space.
    space: Fields,
    link: Option<Link>,
}

/// One pair being synced: what each side should end up with, and what we know of each.
#[derive(Default, Clone)]
struct Pair {
    source_id: Option<String>,
    target_id: Option<String>,
    source_version: Option<String>,
    target_version: Option<String>,
    /// The agreed content, in the target's field space.
    agreed: Fields,
    /// Which record the errors name.
    label: String,
    failed: bool,
}

pub(super) async fn run(
    hub: &Hub,
    flow: &Flow,
    progress: Progress<'_>,
    plan: Option<&mut Plan>,
) -> RunReport {
    let mut counts = RunCounts::default();
    let mut errors = Vec::new();
    let fatal = sync(hub, flow, progress, &mut counts, &mut errors, plan)
        .await
        .err();
    RunReport::finish(counts, errors, fatal)
}

async fn read_all(
    client: &mut ConnectorClient,
    side: &str,
    object: &str,
    cursor: Option<String>,
    since: Option<String>,
    fields: Option<Vec<String>>,
) -> Result<(Vec<Record>, Option<String>), Fatal> {
    let mut out = Vec::new();
    let mut cursor = cursor;
    loop {
        let req = ReadRequest {
            object: object.to_string(),
            since: if cursor.is_none() {
                since.clone()
            } else {
                None
            },
            cursor: cursor.clone(),
            page_size: Some(client.limits.read_page_size),
            fields: fields.clone(),
        };
        let page = match client.call(Call::Read(req)).await {
            Ok(Reply::Read(p)) => p,
            Ok(other) => {
                return Err(Fatal::final_(format!(
                    "{side}: {}",
                    crate::connections::unexpected("read", &other)
                )))
            }
            Err(e) => return Err(describe(side, &e)),
        };
        out.extend(page.records);
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        if !page.has_more {
            return Ok((out, cursor));
        }
    }
}

fn modified(r: &Record) -> i64 {
    r.modified_at
        .as_deref()
        .and_then(|m| chrono::DateTime::parse_from_rfc3339(m).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MIN)
}

/// The content both sides should have after a conflict.
fn resolve(policy: ConflictPolicy, a: &Change, b: &Change, base: Option<&Fields>) -> Fields {
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
                // Take the target's value only if the source did not change this field (it is still
                // the base) or both changed it and the target is newer; otherwise the source's.
                let source_unchanged = basev == Some(av) && av != bv;
                let both_changed = basev != Some(av) && basev != Some(bv);
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

fn op(op_id: String, action: WriteAction, id: Option<String>, fields: Fields) -> WriteOp {
    WriteOp {
        op_id,
        action,
        id,
        match_key: None,
        expected_version: None,
        fields,
    }
}

async fn sync(
    hub: &Hub,
    flow: &Flow,
    progress: Progress<'_>,
    counts: &mut RunCounts,
    errors: &mut Vec<RunError>,
    plan: Option<&mut Plan>,
) -> Result<(), Fatal> {
    let spec: &FlowSpec = &flow.spec;
    let fwd = Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
    let rev = fwd.reverse();
    let mut a = ConnectorClient::open(hub, &spec.source.connection)
        .await
        .map_err(|e| open_failed("source", e))?;
    let mut b = ConnectorClient::open(hub, &spec.target.connection)
        .await
        .map_err(|e| open_failed("target", e))?;
    let cur_a = hub
        .store
        .get_cursor(&flow.id, "source")
        .await
        .map_err(|e| e.to_string())?;
    let cur_b = hub
        .store
        .get_cursor(&flow.id, "target")
        .await
        .map_err(|e| e.to_string())?;
    let since = match (
        cur_a.is_none() && cur_b.is_none(),
        spec.filters.modified_within_days,
    ) {
        (true, Some(days)) => {
            chrono::DateTime::from_timestamp_millis(now_ms() - i64::from(days) * 86_400_000)
                .map(|t| t.to_rfc3339())
        }
        _ => None,
    };
    let (recs_a, next_a) = read_all(
        &mut a,
        "source",
        &spec.source.object,
        cur_a,
        since.clone(),
        read_fields(&fwd, &spec.match_keys, Side::Source),
    )
    .await?;
    let (recs_b, next_b) = read_all(
        &mut b,
        "target",
        &spec.target.object,
        cur_b,
        since,
        read_fields(&fwd, &spec.match_keys, Side::Target),
    )
    .await?;
    counts.read += (recs_a.len() + recs_b.len()) as i64;

    let ids_a: Vec<String> = recs_a.iter().map(|r| r.id.clone()).collect();
    let ids_b: Vec<String> = recs_b.iter().map(|r| r.id.clone()).collect();
    let links_a = hub
        .store
        .links_by_source(&flow.id, &ids_a)
        .await
        .map_err(|e| e.to_string())?;
    let links_b = hub
        .store
        .links_by_target(&flow.id, &ids_b)
        .await
        .map_err(|e| e.to_string())?;

    // What really changed on each side (not private, not our own write coming back).
    let mut changed_a = Vec::new();
    let mut deleted: Vec<(&str, Link)> = Vec::new();
    for rec in recs_a {
        let link = links_a.get(&rec.id).cloned();
        if rec.private && spec.filters.skip_private {
            counts.skipped += 1;
            continue;
        }
        if rec.deleted {
            match link {
                Some(l) if spec.options.propagate_deletes => deleted.push(("target", l)),
                _ => counts.skipped += 1,
            }
            continue;
        }
        let space = fwd.map(&rec);
        if let Some(l) = &link {
            let own = l.source_version.is_some() && l.source_version == rec.version;
            if own || l.source_fingerprint.as_deref() == Some(fingerprint(&space).as_str()) {
                counts.unchanged += 1;
                continue;
            }
        }
        changed_a.push(Change { rec, space, link });
    }
    let mut changed_b: HashMap<String, Change> = HashMap::new();
    for rec in recs_b {
        let link = links_b.get(&rec.id).cloned();
        if rec.private && spec.filters.skip_private {
            counts.skipped += 1;
            continue;
        }
        if rec.deleted {
            match link {
                Some(l) if spec.options.propagate_deletes => deleted.push(("source", l)),
                _ => counts.skipped += 1,
            }
            continue;
        }
        let space = fwd.project(&rec.fields);
        if let Some(l) = &link {
            let own = l.target_version.is_some() && l.target_version == rec.version;
            if own || l.target_fingerprint.as_deref() == Some(fingerprint(&space).as_str()) {
                counts.unchanged += 1;
                continue;
            }
        }
        changed_b.insert(rec.id.clone(), Change { rec, space, link });
    }

    // Decide every pair's agreed content and which side needs a write.
    let mut pairs: Vec<Pair> = Vec::new();
    let mut to_b: Vec<(WriteOp, usize)> = Vec::new();
    let mut to_a: Vec<(WriteOp, usize)> = Vec::new();
    let mut index_b: Option<TargetIndex> = None;
    let mut index_a: Option<TargetIndex> = None;
    let mut claimed: HashSet<String> = HashSet::new();
    let mut conflicts: Vec<String> = Vec::new();
    for ca in changed_a {
        let label = ca.rec.id.clone();
        let (target_id, base) = match &ca.link {
            Some(l) => (
                Some(l.target_id.clone()),
                l.synced_copy
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Fields>(c).ok()),
            ),
            None if spec.match_keys.is_empty() => (None, None),
            None => {
                let Some(key) = key_of(&spec.match_keys, Side::Source, &ca.rec.fields) else {
                    counts.skipped += 1;
                    continue;
                };
                if index_b.is_none() {
                    index_b = Some(
                        load_index(&mut b, &spec.target.object, &spec.match_keys, Side::Target)
                            .await?,
                    );
                }
                match index_b
                    .as_ref()
                    .map(|i| i.find(&key))
                    .unwrap_or(Match::None)
                {
                    Match::One(t) if claimed.insert(format!("t:{t}")) => (Some(t), None),
                    Match::One(t) => {
                        counts.failed += 1;
                        errors.push(ambiguous(
                            &label,
                            &format!("target record {t} matches two source records"),
                        ));
                        continue;
                    }
                    Match::Ambiguous(ids) => {
                        counts.failed += 1;
                        errors.push(ambiguous(
                            &label,
                            &format!("{} target records match: {}", ids.len(), ids.join(", ")),
                        ));
                        continue;
                    }
                    Match::None => (None, None),
                }
            }
        };
        let i = pairs.len();
        let mut pair = Pair {
            source_id: Some(ca.rec.id.clone()),
            source_version: ca.rec.version.clone(),
            label,
            ..Default::default()
        };
        match target_id {
            Some(t) => {
                pair.target_id = Some(t.clone());
                if let Some(cb) = changed_b.remove(&t) {
                    // Changed on both sides since the last sync (or first met now): a conflict.
                    if ca.link.is_some() {
                        conflicts.push(format!("{} ⇄ {}", ca.rec.id, cb.rec.id));
                    }
                    let agreed = resolve(spec.conflict, &ca, &cb, base.as_ref());
                    pair.target_version = cb.rec.version.clone();
                    if agreed != cb.space {
                        to_b.push((
                            op(
                                format!("b{i}"),
                                WriteAction::Upsert,
                                Some(t),
                                agreed.clone(),
                            ),
                            i,
                        ));
                    }
                    let a_now = rev.map_fields(&ca.space);
                    let a_new = rev.map_fields(&agreed);
                    if a_new != a_now {
                        to_a.push((
                            op(
                                format!("a{i}"),
                                WriteAction::Upsert,
                                Some(ca.rec.id.clone()),
                                a_new,
                            ),
                            i,
                        ));
                    }
                    pair.agreed = agreed;
                } else {
                    to_b.push((
                        op(
                            format!("b{i}"),
                            WriteAction::Upsert,
                            Some(t),
                            ca.space.clone(),
                        ),
                        i,
                    ));
                    pair.target_version = ca.link.as_ref().and_then(|l| l.target_version.clone());
                    pair.agreed = ca.space;
                }
            }
            None if spec.options.create_missing => {
                to_b.push((
                    op(format!("b{i}"), WriteAction::Create, None, ca.space.clone()),
                    i,
                ));
                pair.agreed = ca.space;
            }
            None => {
                counts.skipped += 1;
                continue;
            }
        }
        pairs.push(pair);
    }
    for (_, cb) in changed_b {
        let label = format!("target:{}", cb.rec.id);
        let source_id = match &cb.link {
            Some(l) => Some(l.source_id.clone()),
            None if spec.match_keys.is_empty() => None,
            None => {
                let Some(key) = key_of(&spec.match_keys, Side::Target, &cb.rec.fields) else {
                    counts.skipped += 1;
                    continue;
                };
                if index_a.is_none() {
                    index_a = Some(
                        load_index(&mut a, &spec.source.object, &spec.match_keys, Side::Source)
                            .await?,
                    );
                }
                match index_a
                    .as_ref()
                    .map(|i| i.find(&key))
                    .unwrap_or(Match::None)
                {
                    Match::One(s) if claimed.insert(format!("s:{s}")) => Some(s),
                    Match::One(s) => {
                        counts.failed += 1;
                        errors.push(ambiguous(
                            &label,
                            &format!("source record {s} matches two target records"),
                        ));
                        continue;
                    }
                    Match::Ambiguous(ids) => {
                        counts.failed += 1;
                        errors.push(ambiguous(
                            &label,
                            &format!("{} source records match: {}", ids.len(), ids.join(", ")),
                        ));
                        continue;
                    }
                    Match::None => None,
                }
            }
        };
        let i = pairs.len();
        let fields_a = rev.map_fields(&cb.space);
        let mut pair = Pair {
            target_id: Some(cb.rec.id.clone()),
            target_version: cb.rec.version.clone(),
            agreed: cb.space.clone(),
            label,
            ..Default::default()
        };
        match source_id {
            Some(s) => {
                pair.source_version = cb.link.as_ref().and_then(|l| l.source_version.clone());
                pair.source_id = Some(s.clone());
                to_a.push((
                    op(format!("a{i}"), WriteAction::Upsert, Some(s), fields_a),
                    i,
                ));
            }
            None if spec.options.create_missing => {
                to_a.push((op(format!("a{i}"), WriteAction::Create, None, fields_a), i))
            }
            None => {
                counts.skipped += 1;
                continue;
            }
        }
        pairs.push(pair);
    }

    if let Some(plan) = plan {
        for (o, i) in &to_b {
            plan.record(&pairs[*i].label, "target", o, counts);
        }
        for (o, i) in &to_a {
            plan.record(&pairs[*i].label, "source", o, counts);
        }
        plan.conflicts = conflicts;
        return Ok(());
    }
    let mut retry = false;
    retry |= write(
        &mut b,
        "target",
        &spec.target.object,
        to_b,
        &mut pairs,
        counts,
        errors,
    )
    .await?;
    retry |= write(
        &mut a,
        "source",
        &spec.source.object,
        to_a,
        &mut pairs,
        counts,
        errors,
    )
    .await?;

    let mut commit = PageCommit::default();
    for (side, l) in deleted {
        let (client, object, id) = if side == "target" {
            (&mut b, &spec.target.object, l.target_id.clone())
        } else {
            (&mut a, &spec.source.object, l.source_id.clone())
        };
        let req = WriteRequest {
            object: object.clone(),
            ops: vec![op("d".into(), WriteAction::Delete, Some(id), Fields::new())],
        };
        match client.call(Call::Write(req)).await {
            Ok(Reply::Write(r))
                if r.first()
                    .is_some_and(|r| r.outcome == WriteOutcome::Deleted) =>
            {
                counts.updated += 1;
                commit.delete_links_by_source.push(l.source_id.clone());
            }
            Ok(_) => {
                counts.failed += 1;
                errors.push(RunError {
                    record: l.source_id.clone(),
                    side: side.into(),
                    code: "delete_failed".into(),
                    message: "the record could not be deleted".into(),
                });
            }
            Err(e) => return Err(describe(side, &e)),
        }
    }
    for p in pairs.iter().filter(|p| !p.failed) {
        let (Some(s), Some(t)) = (&p.source_id, &p.target_id) else {
            continue;
        };
        let fp = fingerprint(&p.agreed);
        commit.upsert_links.push(Link {
            source_id: s.clone(),
            target_id: t.clone(),
            source_fingerprint: Some(fp.clone()),
            target_fingerprint: Some(fp),
            source_version: p.source_version.clone(),
            target_version: p.target_version.clone(),
            synced_copy: serde_json::to_string(&p.agreed).ok(),
        });
    }
    if !retry {
        if let Some(c) = next_a {
            commit.cursors.push(("source".into(), c));
        }
        if let Some(c) = next_b {
            commit.cursors.push(("target".into(), c));
        }
    }
    hub.store
        .commit_page(&flow.id, &commit)
        .await
        .map_err(|e| e.to_string())?;
    progress(counts);
    Ok(())
}

/// Writes one side's ops in batches and records ids and versions on the pairs. Answers whether
/// a record failed for a reason that may pass (then the cursors stay, to read it again).
async fn write(
    client: &mut ConnectorClient,
    side: &str,
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
        let results = match client.call(Call::Write(req)).await {
            Ok(Reply::Write(r)) => r,
            Ok(other) => {
                return Err(Fatal::final_(format!(
                    "{side}: {}",
                    crate::connections::unexpected("write", &other)
                )))
            }
            Err(e) => return Err(describe(side, &e)),
        };
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
