//! One-way sync: changes read from the source since its cursor are mapped and written to the
//! target — linked records by id, others by match key or created — skipping what is unchanged
//! since the last sync. Links and the cursor move per page, after the target acknowledged it.

use connector_sdk::{
    Fields, MatchKey, ReadPage, ReadRequest, Record, WriteAction, WriteOp, WriteOutcome,
    WriteRequest,
};
use hub_domain::{now_ms, BlankKeyParts, Flow, MatchKeySpec, RunCounts, RunError, RunWarning};
use hub_store::links::{Link, PageCommit};
use serde_json::Value;
use std::collections::HashMap;

use super::changelog::Written;
use super::client::ConnectorClient;
use super::lookup::{Lookups, Registered};
use super::mapping::{fingerprint, Mapper};
use super::matching::{key_of, native_match, Match, Side, TargetIndex};
use super::{
    read_issues, read_warnings, record_error, Fatal, Plan, Progress, RunCtx, RunReport,
    SOURCE_SINCE,
};
use crate::Hub;
use hub_messages::Message;

struct Pending {
    source: Record,
    fingerprint: String,
    mapped: Fields,
    link: Option<Link>,
}

pub(super) async fn run(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
    plan: Option<&mut Plan>,
) -> RunReport {
    let mut counts = RunCounts::default();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut registered = Registered::default();
    let fatal = sync(
        hub,
        flow,
        ctx,
        progress,
        (&mut counts, &mut errors, &mut warnings, &mut registered),
        plan,
    )
    .await
    .err();
    let mut report = RunReport::finish(counts, errors, fatal);
    report.warnings = warnings;
    registered.note(&mut report);
    report
}

pub(super) fn open_failed(side: &str, e: crate::HubError) -> Fatal {
    match e {
        crate::HubError::Connector(c) => Fatal::connector(side, &c),
        crate::HubError::Store(s) => Fatal::from(format!("{side}: {s}")),
        other => Fatal::final_(format!("{side}: {other}")),
    }
}

async fn sync(
    hub: &Hub,
    flow: &Flow,
    ctx: &RunCtx,
    progress: Progress<'_>,
    (counts, errors, warnings, registered): (
        &mut RunCounts,
        &mut Vec<RunError>,
        &mut Vec<RunWarning>,
        &mut Registered,
    ),
    mut plan: Option<&mut Plan>,
) -> Result<(), Fatal> {
    let spec = &flow.spec;
    let mapper = Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
    let lookups = Lookups::prepare(hub, &mapper, &spec.options).await?;
    let mut source = ConnectorClient::open(hub, &spec.source.connection)
        .await
        .map_err(|e| open_failed("source", e))?;
    let mut target = ConnectorClient::open(hub, &spec.target.connection)
        .await
        .map_err(|e| open_failed("target", e))?;
    // A retry of failed records reads again from where the failed run started.
    let (stored_cursor, mark) = match &ctx.scope {
        Some(scope) => (scope.cursor("source"), scope.cursor(SOURCE_SINCE)),
        None => {
            let get = |side| hub.store.get_cursor(&flow.id, side);
            (
                get("source").await.map_err(|e| e.to_string())?,
                get(SOURCE_SINCE).await.map_err(|e| e.to_string())?,
            )
        }
    };
    let first_run = stored_cursor.is_none() && mark.is_none() && ctx.scope.is_none();
    let since = match (first_run, spec.filters.modified_within_days) {
        (true, Some(days)) => {
            chrono::DateTime::from_timestamp_millis(now_ms() - i64::from(days) * 86_400_000)
                .map(|t| t.to_rfc3339())
        }
        // After a capped first run, only what changed since it began (or all, after 全件を取り込む).
        (false, _) if stored_cursor.is_none() => mark.filter(|m| !m.is_empty()),
        _ => None,
    };
    // A capped first run takes the newest records of its window, and leaves the flow reading
    // what changes from when it began: the rest of the window comes only when it changes (or
    // with 全件を取り込む), never with the next run.
    let began = chrono::DateTime::from_timestamp_millis(now_ms()).map(|t| t.to_rfc3339());
    let mut newest = match spec.options.initial_max_records.filter(|_| first_run) {
        Some(cap) => {
            let fields = read_fields(&mapper, &spec.match_keys, Side::Source);
            Some(newest_of_window(&mut source, spec, fields, since.clone(), cap).await?)
        }
        None => None,
    };
    let mut cursor = stored_cursor;
    let batch = target.limits.write_batch_size.max(1) as usize;
    // Hub-side matching state: the target's records by key (read only when needed), and the
    // keys and targets this run already used, so two source records never share one target.
    let mut index: Option<TargetIndex> = None;
    let mut claimed_targets: HashMap<String, String> = HashMap::new();
    let mut claimed_keys: HashMap<String, String> = HashMap::new();
    // Writes gather across pages up to the target's batch size (fewer calls, bounded memory);
    // links and the cursor of the pages read so far are committed when they are flushed.
    let mut commit = PageCommit::default();
    let mut ops: Vec<(WriteOp, Pending)> = Vec::new();
    let mut pending_cursor: Option<String> = None;
    let mut pending_mark: Option<String> = None;

    // Live progress: the first page of a recorded run asks how many records there are to read
    // (answered where the system can tell cheaply); a capped first run reads its own window.
    let mut ask_total = plan.is_none() && newest.is_none() && ctx.scope.is_none();
    loop {
        let req = ReadRequest {
            count: std::mem::take(&mut ask_total),
            options: spec.filters.source_options.clone(),
            object: spec.source.object.clone(),
            cursor: cursor.clone(),
            since: if cursor.is_none() {
                since.clone()
            } else {
                None
            },
            page_size: Some(source.limits.read_page_size),
            fields: read_fields(&mapper, &spec.match_keys, Side::Source),
            ..Default::default()
        };
        let mut page: ReadPage = match newest.as_mut() {
            Some(buf) => buf.next_page(source.limits.read_page_size as usize),
            None => source.read_page("source", req).await?,
        };
        if let (Some(total), Some(run)) = (page.total, ctx.run_id.as_deref()) {
            let expected = counts
                .read
                .saturating_add(i64::try_from(total).unwrap_or(i64::MAX));
            if let Err(e) = hub.store.set_run_expected(run, expected).await {
                tracing::warn!(run, error = %e, "cannot save the run's expected count");
            }
        }
        page.issues.retain(|i| ctx.admits(&i.record));
        counts.failed += page.issues.len() as i64;
        errors.extend(read_issues("source", &page.issues));
        // Warned records are written as usual; the run only tells what to look at.
        page.warnings.retain(|w| ctx.admits(&w.record));
        counts.warnings += page.warnings.len() as i64;
        warnings.extend(read_warnings("source", &page.warnings));
        let mut records = std::mem::take(&mut page.records);
        records.retain(|r| ctx.admits(&r.id));
        let stop = !page.has_more;
        counts.read += records.len() as i64;

        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let links = hub
            .store
            .links_by_source(&flow.id, &ids)
            .await
            .map_err(|e| e.to_string())?;
        let mut resolved = lookups.resolve(hub, &records).await?;
        let plan_ = plan.as_deref_mut();
        (lookups.register_missing(hub, &records, &mut resolved, counts, registered, plan_)).await?;
        for rec in records {
            let link = links.get(&rec.id).cloned();
            if rec.private && spec.filters.skip_private {
                counts.skipped += 1;
                continue;
            }
            if rec.deleted {
                match (&link, spec.options.propagate_deletes) {
                    (Some(l), true) => {
                        let op = WriteOp {
                            op_id: rec.id.clone(),
                            action: WriteAction::Delete,
                            id: Some(l.target_id.clone()),
                            match_key: None,
                            expected_version: None,
                            fields: Fields::new(),
                        };
                        ops.push((
                            op,
                            Pending {
                                source: rec,
                                fingerprint: String::new(),
                                mapped: Fields::new(),
                                link,
                            },
                        ));
                    }
                    _ => counts.skipped += 1,
                }
                continue;
            }
            if let Some(e) = resolved.missing(&rec) {
                counts.failed += 1;
                errors.push(e);
                continue;
            }
            let mapped = mapper.map_with(&rec, &resolved);
            let fp = fingerprint(&mapped);
            if link.as_ref().and_then(|l| l.source_fingerprint.as_deref()) == Some(fp.as_str()) {
                counts.unchanged += 1;
                continue;
            }
            let (action, id, match_key) = match &link {
                Some(l) => (WriteAction::Upsert, Some(l.target_id.clone()), None),
                None if spec.match_keys.is_empty() => match spec.options.create_missing {
                    true => (WriteAction::Create, None, None),
                    false => {
                        counts.skipped += 1;
                        continue;
                    }
                },
                None if native_match(&spec.match_keys) => {
                    let k = &spec.match_keys[0];
                    let v = mapped
                        .get(&k.target)
                        .cloned()
                        .or_else(|| rec.fields.get(&k.source).cloned())
                        .unwrap_or(Value::Null);
                    if v.is_null() || v == Value::String(String::new()) {
                        if spec.options.create_missing {
                            (WriteAction::Create, None, None)
                        } else {
                            counts.skipped += 1;
                            continue;
                        }
                    } else {
                        let action = if spec.options.create_missing {
                            WriteAction::Upsert
                        } else {
                            WriteAction::Update
                        };
                        (
                            action,
                            None,
                            Some(MatchKey {
                                field: k.target.clone(),
                                value: v,
                            }),
                        )
                    }
                }
                None => {
                    let Some(key) = key_of(
                        &spec.match_keys,
                        spec.options.blank_key_parts,
                        Side::Source,
                        &rec.fields,
                    ) else {
                        counts.skipped += 1;
                        continue;
                    };
                    if index.is_none() {
                        index = Some(
                            load_index(
                                &mut target,
                                &spec.target.object,
                                &spec.match_keys,
                                spec.options.blank_key_parts,
                                Side::Target,
                                (ctx.run_id.is_some() && plan.is_none()).then_some(&mapper),
                            )
                            .await?,
                        );
                    }
                    let found = index.as_ref().map(|i| i.find(&key)).unwrap_or(Match::None);
                    match found {
                        Match::One(tid) => {
                            if let Some(other) = claimed_targets.get(&tid) {
                                counts.failed += 1;
                                errors.push(ambiguous(&rec.id, &format!("source records {other} and {} both match target record {tid}", rec.id)));
                                continue;
                            }
                            claimed_targets.insert(tid.clone(), rec.id.clone());
                            (WriteAction::Upsert, Some(tid), None)
                        }
                        Match::Ambiguous(ids) => {
                            counts.failed += 1;
                            errors.push(ambiguous(
                                &rec.id,
                                &format!("{} target records match: {}", ids.len(), ids.join(", ")),
                            ));
                            continue;
                        }
                        Match::None => {
                            if let Some(other) = claimed_keys.get(&key) {
                                counts.failed += 1;
                                errors.push(ambiguous(
                                    &rec.id,
                                    &format!(
                                        "source records {other} and {} have the same key",
                                        rec.id
                                    ),
                                ));
                                continue;
                            }
                            if !spec.options.create_missing {
                                counts.skipped += 1;
                                continue;
                            }
                            claimed_keys.insert(key, rec.id.clone());
                            (WriteAction::Create, None, None)
                        }
                    }
                }
            };
            let op = WriteOp {
                op_id: rec.id.clone(),
                action,
                id,
                match_key,
                expected_version: None,
                fields: mapped.clone(),
            };
            ops.push((
                op,
                Pending {
                    source: rec,
                    fingerprint: fp,
                    mapped,
                    link,
                },
            ));
        }

        let mut retry_page = false;
        if let Some(plan) = plan.as_deref_mut() {
            for (op, p) in ops.drain(..) {
                plan.record(&p.source.id, "target", &op, counts);
            }
            if stop || page.next_cursor.is_none() {
                break;
            }
            cursor = page.next_cursor;
            continue;
        }
        let last = stop || page.next_cursor.is_none();
        match (&newest, &page.next_cursor) {
            (None, Some(c)) => pending_cursor = Some(c.clone()),
            // The capped first run's end: reads go on from when it began.
            (Some(_), _) if last => pending_mark = began.clone(),
            _ => {}
        }
        if ops.len() < batch && !last {
            progress(counts);
            cursor = page.next_cursor;
            continue;
        }
        while !ops.is_empty() {
            let chunk: Vec<(WriteOp, Pending)> = ops.drain(..batch.min(ops.len())).collect();
            let req = WriteRequest {
                object: spec.target.object.clone(),
                ops: chunk.iter().map(|(op, _)| op.clone()).collect(),
            };
            let results = match target.write_batch("target", req).await {
                Ok(r) => r,
                Err(fatal) => {
                    // Whatever this page committed so far stays; the cursor stays where it was.
                    hub.store
                        .commit_page(&flow.id, &commit)
                        .await
                        .map_err(|e| e.to_string())?;
                    return Err(fatal);
                }
            };
            let by_op: HashMap<&str, _> = results.iter().map(|r| (r.op_id.as_str(), r)).collect();
            for (op, p) in &chunk {
                let Some(r) = by_op.get(op.op_id.as_str()) else {
                    counts.failed += 1;
                    errors.push(RunError {
                        record: p.source.id.clone(),
                        side: "target".into(),
                        code: "no_result".into(),
                        message: "the connector returned no result for this record".into(),
                    });
                    continue;
                };
                // Kept for undo: what the target record held before (the last synced copy, or
                // the record as read while matching).
                let before = match &p.link {
                    Some(l) => l.synced_copy.clone(),
                    None => op
                        .id
                        .as_deref()
                        .and_then(|t| index.as_ref().and_then(|i| i.image(t))),
                };
                let written = Written {
                    side: "target",
                    object: &spec.target.object,
                    label: &p.source.id,
                    before,
                    prior: p.link.as_ref(),
                };
                commit.changes.extend(ctx.change(written, op, r));
                match r.outcome {
                    WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Unchanged => {
                        match r.outcome {
                            WriteOutcome::Created => counts.created += 1,
                            WriteOutcome::Updated => counts.updated += 1,
                            _ => counts.unchanged += 1,
                        }
                        let target_id =
                            r.id.clone()
                                .or_else(|| p.link.as_ref().map(|l| l.target_id.clone()))
                                .unwrap_or_default();
                        commit.upsert_links.push(Link {
                            source_id: p.source.id.clone(),
                            target_id,
                            source_fingerprint: Some(p.fingerprint.clone()),
                            target_fingerprint: Some(p.fingerprint.clone()),
                            source_version: p.source.version.clone(),
                            target_version: r.version.clone(),
                            synced_copy: serde_json::to_string(&p.mapped).ok(),
                        });
                    }
                    WriteOutcome::Deleted => {
                        counts.updated += 1;
                        commit.delete_links_by_source.push(p.source.id.clone());
                    }
                    WriteOutcome::Conflict | WriteOutcome::Error => {
                        counts.failed += 1;
                        let (error, retryable) = record_error(&p.source.id, "target", r);
                        retry_page |= retryable;
                        errors.push(error);
                    }
                }
            }
        }
        if !retry_page && ctx.scope.is_none() {
            if let Some(c) = pending_cursor.take() {
                commit.cursors.push(("source".into(), c));
            }
            if let Some(m) = pending_mark.take() {
                commit.cursors.push((SOURCE_SINCE.into(), m));
            }
        }
        hub.store
            .commit_page(&flow.id, &std::mem::take(&mut commit))
            .await
            .map_err(|e| e.to_string())?;
        progress(counts);
        // A retry of failed records moves no cursor, so it reads on past a retryable failure.
        if last || (retry_page && ctx.scope.is_none()) {
            break;
        }
        cursor = page.next_cursor;
    }
    Ok(())
}

/// The newest records of a capped first run's window, handed to the run page by page.
struct Newest {
    records: std::vec::IntoIter<Record>,
    issues: Vec<connector_sdk::RecordIssue>,
    warnings: Vec<connector_sdk::RecordWarning>,
}

impl Newest {
    fn next_page(&mut self, size: usize) -> ReadPage {
        let records: Vec<Record> = self.records.by_ref().take(size.max(1)).collect();
        let has_more = self.records.len() > 0;
        ReadPage {
            records,
            // Never saved (see `pending_mark`): only says whether more follows.
            next_cursor: has_more.then(String::new),
            has_more,
            issues: std::mem::take(&mut self.issues),
            warnings: std::mem::take(&mut self.warnings),
            ..Default::default()
        }
    }
}

/// Reads a first run's window newest first up to `cap` records. A connector that honours
/// `newest_first` is read only that far (kintone: `order by 更新日時 desc, $id desc`); from one
/// that does not, the whole window is read and the newest `cap` kept here.
async fn newest_of_window(
    source: &mut ConnectorClient,
    spec: &hub_domain::FlowSpec,
    fields: Option<Vec<String>>,
    since: Option<String>,
    cap: u64,
) -> Result<Newest, Fatal> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let page_size = source.limits.read_page_size.max(1);
    let mut kept: Vec<Record> = Vec::new();
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut cursor: Option<String> = None;
    let mut honoured: Option<bool> = None;
    loop {
        let size = match honoured {
            Some(false) => page_size,
            _ => page_size.min(u32::try_from(cap - kept.len()).unwrap_or(u32::MAX).max(1)),
        };
        let req = ReadRequest {
            options: spec.filters.source_options.clone(),
            object: spec.source.object.clone(),
            since: if cursor.is_none() {
                since.clone()
            } else {
                None
            },
            cursor: cursor.clone(),
            page_size: Some(size),
            fields: fields.clone(),
            newest_first: true,
            ..Default::default()
        };
        let mut page = source.read_page("source", req).await?;
        honoured = Some(page.newest_first);
        issues.append(&mut page.issues);
        warnings.append(&mut page.warnings);
        kept.append(&mut page.records);
        if page.newest_first && kept.len() >= cap {
            break;
        }
        if !page.newest_first && kept.len() > cap.saturating_mul(2).max(1000) {
            newest_first(&mut kept);
            kept.truncate(cap);
        }
        if !page.has_more || page.next_cursor.is_none() {
            break;
        }
        cursor = page.next_cursor;
    }
    if honoured != Some(true) {
        newest_first(&mut kept);
    }
    kept.truncate(cap);
    Ok(Newest {
        records: kept.into_iter(),
        issues,
        warnings,
    })
}

/// Newest modification first, then the larger id (numbers by value).
fn newest_first(records: &mut [Record]) {
    let stamp = |r: &Record| {
        r.modified_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    };
    let id = |r: &Record| (r.id.parse::<u64>().ok(), r.id.clone());
    records.sort_by_key(|r| std::cmp::Reverse((stamp(r), id(r))));
}

/// The fields a read needs: what the mapping reads (or writes, on the target side) and the
/// match keys. `None` (all fields) when the flow names none.
pub(super) fn read_fields(
    mapper: &Mapper,
    keys: &[MatchKeySpec],
    side: Side,
) -> Option<Vec<String>> {
    let mut fields = match side {
        Side::Source => mapper.sources(),
        Side::Target => mapper.targets(),
    };
    for f in key_fields(keys, side).unwrap_or_default() {
        if !fields.contains(&f) {
            fields.push(f);
        }
    }
    (!fields.is_empty()).then_some(fields)
}

fn key_fields(keys: &[MatchKeySpec], side: Side) -> Option<Vec<String>> {
    let fields: Vec<String> = keys
        .iter()
        .map(|k| match side {
            Side::Source => k.source.clone(),
            Side::Target => k.target.clone(),
        })
        .collect();
    (!fields.is_empty()).then_some(fields)
}

pub(super) fn ambiguous(record: &str, detail: &str) -> RunError {
    RunError {
        record: record.to_string(),
        side: "target".into(),
        code: "ambiguous_match".into(),
        message: Message::new("run_error.ambiguous_match")
            .with("detail", detail)
            .to_stored(),
    }
}

/// Reads the whole target object once to match by normalized keys. With `images`, also keeps
/// each record's fields as that mapping writes them (the before-images undo restores).
pub(super) async fn load_index(
    target: &mut ConnectorClient,
    object: &str,
    keys: &[MatchKeySpec],
    blank: BlankKeyParts,
    side: Side,
    images: Option<&Mapper>,
) -> Result<TargetIndex, Fatal> {
    let mut index = TargetIndex::default();
    let mut cursor = None;
    let fields = match images {
        Some(m) => {
            let mut f = m.targets();
            for k in key_fields(keys, side).unwrap_or_default() {
                if !f.contains(&k) {
                    f.push(k);
                }
            }
            (!f.is_empty()).then_some(f)
        }
        None => key_fields(keys, side),
    };
    loop {
        let req = ReadRequest {
            options: Default::default(),
            object: object.to_string(),
            cursor: cursor.clone(),
            since: None,
            page_size: Some(target.limits.read_page_size),
            fields: fields.clone(),
            ..Default::default()
        };
        let page = target.read_page("target", req).await?;
        for r in &page.records {
            index.add_record(keys, blank, side, r);
            if let Some(m) = images.filter(|_| !r.deleted) {
                index.add_image(&r.id, &m.project(&r.fields));
            }
        }
        if !page.has_more || page.next_cursor.is_none() {
            return Ok(index);
        }
        cursor = page.next_cursor;
    }
}
