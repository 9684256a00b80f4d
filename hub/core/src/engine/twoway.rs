//! Two-way sync: changes read from both sides since their cursors; a record changed on one side
//! flows to the other; a record changed on both is a conflict settled by the flow's policy
//! (source wins, target wins, newest wins, or field by field against the last synced copy, the
//! newer side breaking a tie on one field). What the hub wrote itself is recognised by its
//! content: a record whose fingerprint is the one the hub left is not a change, whatever its
//! version says (whole-second versions cannot tell an edit made in the same second as the
//! hub's write, and such an edit must not be lost).
//!
//! Values are compared in the target's field space: the source through the mapping, the target
//! through the mapped fields only. Both sides' changes of one run are held in memory.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{
    Fields, ReadRequest, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest,
};
use hub_store::links::{Link, PageCommit};
use hub_store::{now_ms, Flow, FlowSpec, RunCounts, RunError};
use std::collections::{HashMap, HashSet};

use super::changelog::Written;
use super::client::ConnectorClient;
use super::mapping::{fingerprint, same_content, Mapper};
use super::matching::{key_of, Match, Side, TargetIndex};
use super::oneway::{ambiguous, load_index, open_failed, read_fields};
use super::twoway_pairs::{op, resolve, write, Change, Pair};
use super::{read_issues, Fatal, Plan, Progress, RunCtx, RunReport};
use crate::Hub;

pub(super) async fn run(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
    plan: Option<&mut Plan>,
) -> RunReport {
    let mut counts = RunCounts::default();
    let mut errors = Vec::new();
    let fatal = sync(hub, flow, ctx, progress, &mut counts, &mut errors, plan)
        .await
        .err();
    RunReport::finish(counts, errors, fatal)
}

/// Reads every page of `first`'s object from `cursor` on; `first.since` applies only without one.
async fn read_all(
    client: &mut ConnectorClient,
    side: &str,
    first: ReadRequest,
    cursor: Option<String>,
    issues: &mut Vec<RunError>,
) -> Result<(Vec<Record>, Option<String>), Fatal> {
    let mut out = Vec::new();
    let mut cursor = cursor;
    loop {
        let req = ReadRequest {
            since: if cursor.is_none() {
                first.since.clone()
            } else {
                None
            },
            cursor: cursor.clone(),
            page_size: Some(client.limits.read_page_size),
            ..first.clone()
        };
        let page = client.read_page(side, req).await?;
        issues.extend(read_issues(side, &page.issues));
        out.extend(page.records);
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        if !page.has_more {
            return Ok((out, cursor));
        }
    }
}

async fn sync(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
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
    let (cur_a, cur_b) = match &ctx.scope {
        // A retry of failed records reads again from where the failed run started.
        Some(scope) => (scope.cursor("source"), scope.cursor("target")),
        None => (
            hub.store
                .get_cursor(&flow.id, "source")
                .await
                .map_err(|e| e.to_string())?,
            hub.store
                .get_cursor(&flow.id, "target")
                .await
                .map_err(|e| e.to_string())?,
        ),
    };
    let images = ctx.run_id.is_some() && plan.is_none();
    let since = match (
        cur_a.is_none() && cur_b.is_none() && ctx.scope.is_none(),
        spec.filters.modified_within_days,
    ) {
        (true, Some(days)) => {
            chrono::DateTime::from_timestamp_millis(now_ms() - i64::from(days) * 86_400_000)
                .map(|t| t.to_rfc3339())
        }
        _ => None,
    };
    let mut issues = Vec::new();
    let read_a = ReadRequest {
        object: spec.source.object.clone(),
        since: since.clone(),
        fields: read_fields(&fwd, &spec.match_keys, Side::Source),
        options: spec.filters.source_options.clone(),
        ..ReadRequest::default()
    };
    let (recs_a, next_a) = read_all(&mut a, "source", read_a, cur_a, &mut issues).await?;
    let read_b = ReadRequest {
        object: spec.target.object.clone(),
        since,
        fields: read_fields(&fwd, &spec.match_keys, Side::Target),
        options: spec.filters.target_options.clone(),
        ..ReadRequest::default()
    };
    let (recs_b, next_b) = read_all(&mut b, "target", read_b, cur_b, &mut issues).await?;
    issues.retain(|e| ctx.admits(&e.record));
    counts.failed += issues.len() as i64;
    errors.append(&mut issues);
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
    let (recs_a, recs_b) = match &ctx.scope {
        Some(scope) => scope.narrow(recs_a, &links_a, recs_b, &links_b, counts),
        None => (recs_a, recs_b),
    };

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
        // Unchanged only when the content is what was last synced (or what the hub wrote): a
        // version alone cannot tell an edit made in the same tick as the hub's write.
        if let Some(l) = &link {
            if l.source_fingerprint.as_deref() == Some(fingerprint(&space).as_str()) {
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
            if l.target_fingerprint.as_deref() == Some(fingerprint(&space).as_str()) {
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
                let Some(key) = key_of(
                    &spec.match_keys,
                    spec.options.blank_key_parts,
                    Side::Source,
                    &ca.rec.fields,
                ) else {
                    counts.skipped += 1;
                    continue;
                };
                if index_b.is_none() {
                    let keep = images.then_some(&fwd);
                    index_b = Some(
                        load_index(
                            &mut b,
                            &spec.target.object,
                            &spec.match_keys,
                            spec.options.blank_key_parts,
                            Side::Target,
                            keep,
                        )
                        .await?,
                    );
                }
                match index_b
                    .as_ref()
                    .map(|i| i.find(&key))
                    .unwrap_or(Match::None)
                {
                    // A retry leaves a pair whose other record changed outside it to a later run.
                    Match::One(t) if ctx.leaves("target", &t) => {
                        counts.skipped += 1;
                        continue;
                    }
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
            before_a: serde_json::to_string(&rev.project(&ca.rec.fields)).ok(),
            before_b: match (&ca.link, &target_id) {
                (Some(l), _) => l.synced_copy.clone(),
                (None, Some(t)) => index_b.as_ref().and_then(|i| i.image(t)),
                (None, None) => None,
            },
            prior: ca.link.clone(),
            ..Default::default()
        };
        match target_id {
            Some(t) => {
                pair.target_id = Some(t.clone());
                if let Some(cb) = changed_b.remove(&t) {
                    pair.before_b = serde_json::to_string(&cb.space).ok();
                    // Changed on both sides since the last sync (or first met now): a conflict.
                    if ca.link.is_some() {
                        conflicts.push(format!("{} ⇄ {}", ca.rec.id, cb.rec.id));
                    }
                    let agreed = resolve(spec.conflict, &ca, &cb, base.as_ref());
                    pair.target_version = cb.rec.version.clone();
                    if !same_content(&agreed, &cb.space) {
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
                    if !same_content(&a_new, &a_now) {
                        pair.source_fingerprint = Some(fingerprint(&fwd.map_fields(&a_new)));
                        to_a.push((
                            op(
                                format!("a{i}"),
                                WriteAction::Upsert,
                                Some(ca.rec.id.clone()),
                                a_new,
                            ),
                            i,
                        ));
                    } else {
                        pair.source_fingerprint = Some(fingerprint(&ca.space));
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
                let Some(key) = key_of(
                    &spec.match_keys,
                    spec.options.blank_key_parts,
                    Side::Target,
                    &cb.rec.fields,
                ) else {
                    counts.skipped += 1;
                    continue;
                };
                if index_a.is_none() {
                    let keep = images.then_some(&rev);
                    index_a = Some(
                        load_index(
                            &mut a,
                            &spec.source.object,
                            &spec.match_keys,
                            spec.options.blank_key_parts,
                            Side::Source,
                            keep,
                        )
                        .await?,
                    );
                }
                match index_a
                    .as_ref()
                    .map(|i| i.find(&key))
                    .unwrap_or(Match::None)
                {
                    Match::One(s) if ctx.leaves("source", &s) => {
                        counts.skipped += 1;
                        continue;
                    }
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
            source_fingerprint: Some(fingerprint(&fwd.map_fields(&fields_a))),
            target_id: Some(cb.rec.id.clone()),
            target_version: cb.rec.version.clone(),
            agreed: cb.space.clone(),
            label,
            before_a: match (&cb.link, &source_id) {
                (Some(l), _) => l
                    .synced_copy
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Fields>(c).ok())
                    .and_then(|c| serde_json::to_string(&rev.map_fields(&c)).ok()),
                (None, Some(s)) => index_a.as_ref().and_then(|i| i.image(s)),
                (None, None) => None,
            },
            prior: cb.link.clone(),
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
        let del = op("d".into(), WriteAction::Delete, Some(id), Fields::new());
        let req = WriteRequest {
            object: object.clone(),
            ops: vec![del.clone()],
        };
        match client.call(Call::Write(req)).await {
            Ok(Reply::Write(r))
                if r.first()
                    .is_some_and(|r| r.outcome == WriteOutcome::Deleted) =>
            {
                counts.updated += 1;
                commit.delete_links_by_source.push(l.source_id.clone());
                let synced = l
                    .synced_copy
                    .as_deref()
                    .and_then(|c| serde_json::from_str::<Fields>(c).ok());
                let before = match side {
                    "target" => l.synced_copy.clone(),
                    _ => synced.and_then(|c| serde_json::to_string(&rev.map_fields(&c)).ok()),
                };
                let written = Written {
                    side,
                    object,
                    label: &l.source_id,
                    before,
                    prior: Some(&l),
                };
                commit
                    .changes
                    .extend(r.first().and_then(|r| ctx.change(written, &del, r)));
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
            Err(e) => return Err(Fatal::connector(side, &e)),
        }
    }
    // Every acknowledged write is kept for undo, also in a pair that failed on its other side.
    for p in &pairs {
        for (side, o, r) in &p.written {
            let (object, before) = match *side {
                "target" => (&spec.target.object, p.before_b.clone()),
                _ => (&spec.source.object, p.before_a.clone()),
            };
            let written = Written {
                side,
                object,
                label: &p.label,
                before,
                prior: p.prior.as_ref(),
            };
            commit.changes.extend(ctx.change(written, o, r));
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
            source_fingerprint: Some(p.source_fingerprint.clone().unwrap_or_else(|| fp.clone())),
            target_fingerprint: Some(fp),
            source_version: p.source_version.clone(),
            target_version: p.target_version.clone(),
            synced_copy: serde_json::to_string(&p.agreed).ok(),
        });
    }
    if !retry && ctx.scope.is_none() {
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
