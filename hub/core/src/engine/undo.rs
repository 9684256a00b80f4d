//! 元に戻す: a run that restores what another run wrote, from the before-images that run kept
//! (`run_changes`). Newest write first: a created record is deleted, an updated one gets its
//! earlier fields back, a deleted one is created again from them; every write carries the
//! version the run left (`expected_version`). A record changed since is left alone and named:
//! the connector answers `conflict`, or (for APIs without optimistic locking) an incremental
//! read of the object since the run started shows another version.
//!
//! Links go back to their rows before the run, but keep the other side's fingerprint as it is
//! now and the restored side's new version: the next run sees neither side as changed, so it
//! does not simply write the change again. A later change of the source record syncs as usual.

use connector_sdk::{Fields, ReadRequest, WriteAction, WriteOp, WriteOutcome, WriteRequest};
use hub_domain::RunKind;
use hub_domain::{Endpoint, Flow, Run, RunCounts, RunError, RunStatus, Trigger};
use hub_store::changes::{ChangeAction, RunChange, StoredChange, Undone};
use hub_store::links::{Link, PageCommit};
use std::collections::HashMap;
use std::time::Duration;

use super::client::ConnectorClient;
use super::mapping::{fingerprint, Mapper};
use super::matching::Side;
use super::reads::{open_failed, read_fields};
use super::{record_error, Fatal, Progress, RunReport};
use crate::error::{HubError, HubResult};
use crate::runner::Runner;
use crate::Hub;
use hub_messages::Message;

/// Clocks of the hub and the external system differ a little: the check reads from a bit
/// before the run started.
const CLOCK_MARGIN_MS: i64 = 5_000;
const PAGE: i64 = 500;
/// How long an undo request waits for a runner that took its run.
const WAIT: Duration = Duration::from_secs(3600);

/// What an undo did, as the API answers it.
#[derive(Debug, Clone)]
pub struct UndoOutcome {
    pub run: Run,
    pub restored: i64,
    /// Records left as they are: changed since the run, earlier content unknown, or refused.
    pub left_alone: Vec<RunError>,
}

/// How a record looks now, from the check read.
struct Seen {
    version: Option<String>,
    modified: Option<String>,
    deleted: bool,
}

pub(super) async fn execute(
    hub: &Hub,
    flow: &Flow,
    run: &Run,
    of_run: &str,
    progress: Progress<'_>,
) -> RunReport {
    let mut counts = RunCounts::default();
    let mut errors = Vec::new();
    let fatal = undo(hub, flow, run, of_run, progress, &mut counts, &mut errors)
        .await
        .err();
    let mut report = RunReport::finish(counts, errors, fatal);
    // An automatic retry would be an ordinary run; a person presses 元に戻す again instead.
    report.retryable = false;
    if report.message.is_none() {
        let n = report.counts.created + report.counts.updated;
        report.message = Some(
            Message::new("run.undo_of")
                .with("run", of_run)
                .with("count", n)
                .to_stored(),
        );
    }
    report
}

async fn undo(
    hub: &Hub,
    flow: &Flow,
    run: &Run,
    of_run: &str,
    progress: Progress<'_>,
    counts: &mut RunCounts,
    errors: &mut Vec<RunError>,
) -> Result<(), Fatal> {
    let of = hub
        .store
        .get_run(of_run)
        .await
        .map_err(|e| format!("run {of_run}: {e}"))?;
    let since = of.started_at.unwrap_or(of.queued_at) - CLOCK_MARGIN_MS;
    let mut rows: Vec<StoredChange> = Vec::new();
    let mut after = 0;
    loop {
        let page = hub
            .store
            .run_changes(of_run, after, PAGE)
            .await
            .map_err(|e| format!("run {of_run}: {e}"))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        rows.extend(page.into_iter().filter(|c| c.undone_by.is_none()));
    }
    rows.reverse();
    counts.read = rows.len() as i64;
    let mapper = Mapper::new(&flow.spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
    for (side, endpoint, read_side) in [
        ("target", &flow.spec.target, Side::Target),
        ("source", &flow.spec.source, Side::Source),
    ] {
        let mine: Vec<&StoredChange> = rows.iter().filter(|c| c.change.side == side).collect();
        if mine.is_empty() {
            continue;
        }
        let mut client = ConnectorClient::open(hub, &endpoint.connection)
            .await
            .map_err(|e| open_failed(side, e))?;
        let fields = read_fields(&mapper, &flow.spec.match_keys, read_side);
        let seen = read_since(&mut client, side, endpoint, since, fields).await?;
        let mut side_run = SideUndo {
            hub,
            flow,
            run,
            side,
            client: &mut client,
            counts: &mut *counts,
            errors: &mut *errors,
        };
        let batch = side_run.client.limits.write_batch_size.max(1) as usize;
        let mut ops: Vec<(WriteOp, &StoredChange)> = Vec::new();
        for c in mine {
            match decide(
                c,
                seen.get(&(c.change.object.clone(), c.change.record_id.clone())),
            ) {
                Ok(op) => ops.push((op, c)),
                Err((code, message)) => side_run.leave(&c.change, code, message),
            }
        }
        // One object per write call, in the newest-first order.
        while !ops.is_empty() {
            let object = ops[0].1.change.object.clone();
            let take = ops
                .iter()
                .take(batch)
                .take_while(|(_, c)| c.change.object == object)
                .count();
            let chunk: Vec<(WriteOp, &StoredChange)> = ops.drain(..take).collect();
            side_run.write(&object, chunk).await?;
            progress(&*side_run.counts);
        }
    }
    Ok(())
}

/// Records of `endpoint`'s object modified since `since_ms`, as they are now.
async fn read_since(
    client: &mut ConnectorClient,
    side: &str,
    endpoint: &Endpoint,
    since_ms: i64,
    fields: Option<Vec<String>>,
) -> Result<HashMap<(String, String), Seen>, Fatal> {
    let since = chrono::DateTime::from_timestamp_millis(since_ms).map(|t| t.to_rfc3339());
    let mut out = HashMap::new();
    let mut cursor = None;
    loop {
        let req = ReadRequest {
            options: Default::default(),
            object: endpoint.object.clone(),
            since: if cursor.is_none() {
                since.clone()
            } else {
                None
            },
            cursor: cursor.clone(),
            page_size: Some(client.limits.read_page_size),
            fields: fields.clone(),
            ..Default::default()
        };
        let page = client.read_page(side, req).await?;
        for r in page.records {
            out.insert(
                (endpoint.object.clone(), r.id),
                Seen {
                    version: r.version,
                    modified: r.modified_at,
                    deleted: r.deleted,
                },
            );
        }
        if !page.has_more || page.next_cursor.is_none() {
            return Ok(out);
        }
        cursor = page.next_cursor;
    }
}

fn same_time(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Whether the record is no longer as the run left it.
fn changed_since(c: &RunChange, now: &Seen) -> bool {
    let moved = match (&c.after_version, &now.version) {
        (Some(a), Some(b)) => a != b,
        _ => match (&c.after_modified, &now.modified) {
            (Some(a), Some(b)) => !same_time(a, b),
            _ => false,
        },
    };
    match c.action {
        // A deleted record that is back (or changed in its recycle bin).
        ChangeAction::Deleted => !now.deleted || moved,
        _ => now.deleted || moved,
    }
}

/// The write that restores one record, or why it is left alone (code, message).
fn decide(c: &StoredChange, now: Option<&Seen>) -> Result<WriteOp, (&'static str, String)> {
    let ch = &c.change;
    if now.is_some_and(|s| changed_since(ch, s)) {
        return Err(changed_message(ch));
    }
    let before = match (&ch.before, ch.action) {
        (_, ChangeAction::Created) => Fields::new(),
        (Some(b), _) => serde_json::from_str::<Fields>(b).map_err(|e| {
            (
                "before_unreadable",
                Message::new("run_error.before_unreadable")
                    .with("detail", e)
                    .to_stored(),
            )
        })?,
        (None, _) => {
            return Err((
                "before_unknown",
                Message::new("run_error.before_unknown_record")
                    .with("record", &ch.record_id)
                    .to_stored(),
            ))
        }
    };
    let (action, id) = match ch.action {
        ChangeAction::Created => (WriteAction::Delete, Some(ch.record_id.clone())),
        ChangeAction::Updated => (WriteAction::Update, Some(ch.record_id.clone())),
        ChangeAction::Deleted => (WriteAction::Create, None),
    };
    Ok(WriteOp {
        op_id: c.seq.to_string(),
        action,
        id,
        match_key: None,
        expected_version: match ch.action {
            ChangeAction::Deleted => None,
            _ => ch.after_version.clone(),
        },
        fields: before,
    })
}

fn changed_message(ch: &RunChange) -> (&'static str, String) {
    (
        "changed_since",
        Message::new("run_error.changed_since_record")
            .with("record", &ch.record_id)
            .to_stored(),
    )
}

/// Restoring the records of one side.
struct SideUndo<'a> {
    hub: &'a Hub,
    flow: &'a Flow,
    run: &'a Run,
    side: &'a str,
    client: &'a mut ConnectorClient,
    counts: &'a mut RunCounts,
    errors: &'a mut Vec<RunError>,
}

impl SideUndo<'_> {
    fn leave(&mut self, ch: &RunChange, code: &str, message: String) {
        self.counts.skipped += 1;
        self.errors.push(RunError {
            record: ch.label.clone(),
            side: self.side.to_string(),
            code: code.to_string(),
            message,
            ..Default::default()
        });
    }

    async fn write(
        &mut self,
        object: &str,
        chunk: Vec<(WriteOp, &StoredChange)>,
    ) -> Result<(), Fatal> {
        let req = WriteRequest {
            object: object.to_string(),
            ops: chunk.iter().map(|(op, _)| op.clone()).collect(),
        };
        let results = self.client.write_batch(self.side, req).await?;
        let ids: Vec<String> = chunk
            .iter()
            .map(|(_, c)| c.change.record_id.clone())
            .collect();
        let store = &self.hub.store;
        let links = if self.side == "target" {
            store.links_by_target(&self.flow.id, &ids).await
        } else {
            store.links_by_source(&self.flow.id, &ids).await
        }
        .map_err(|e| e.to_string())?;
        let by_op: HashMap<&str, _> = results.iter().map(|r| (r.op_id.as_str(), r)).collect();
        let mut commit = PageCommit::default();
        for (op, c) in &chunk {
            let ch = &c.change;
            let Some(r) = by_op.get(op.op_id.as_str()) else {
                self.counts.failed += 1;
                self.errors.push(RunError {
                    record: ch.label.clone(),
                    side: self.side.to_string(),
                    code: "no_result".into(),
                    message: "the connector returned no result for this record".into(),
                    ..Default::default()
                });
                continue;
            };
            match r.outcome {
                WriteOutcome::Conflict => {
                    let (code, message) = changed_message(ch);
                    self.leave(ch, code, message);
                    continue;
                }
                WriteOutcome::Error => {
                    self.counts.failed += 1;
                    self.errors.push(record_error(&ch.label, self.side, r).0);
                    continue;
                }
                WriteOutcome::Created => self.counts.created += 1,
                _ => self.counts.updated += 1,
            }
            match restored_link(ch, links.get(&ch.record_id), r) {
                Some(LinkOp::Upsert(l)) => commit.upsert_links.push(l),
                Some(LinkOp::Delete(source_id)) => commit.delete_links_by_source.push(source_id),
                None => {}
            }
            commit.undone.push(Undone {
                run_id: ch.run_id.clone(),
                seq: c.seq,
                by: self.run.id.clone(),
            });
        }
        store
            .commit_page(&self.flow.id, &commit)
            .await
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

enum LinkOp {
    Upsert(Link),
    /// Drop the link of this source id.
    Delete(String),
}

/// The link after restoring `ch`: its row before the run, with the restored side's new version
/// (so the next run knows the write as its own) and the other side as it is now (so the next
/// run does not write the undone change again).
fn restored_link(
    ch: &RunChange,
    current: Option<&Link>,
    r: &connector_sdk::WriteResult,
) -> Option<LinkOp> {
    let target = ch.side == "target";
    match ch.action {
        ChangeAction::Created => match (&ch.prior_link, current) {
            (Some(p), _) => Some(LinkOp::Upsert(p.clone())),
            (None, Some(cur)) => Some(LinkOp::Delete(cur.source_id.clone())),
            (None, None) => None,
        },
        ChangeAction::Updated => {
            let mut l = ch.prior_link.clone().or_else(|| current.cloned())?;
            if target {
                if let Some(cur) = current {
                    l.source_id = cur.source_id.clone();
                    l.source_fingerprint = cur.source_fingerprint.clone();
                    l.source_version = cur.source_version.clone();
                }
                l.target_id = ch.record_id.clone();
                l.target_version = r.version.clone();
                l.synced_copy = ch.before.clone();
                l.target_fingerprint = ch
                    .before
                    .as_deref()
                    .and_then(|b| serde_json::from_str::<Fields>(b).ok())
                    .map(|f| fingerprint(&f));
            } else {
                if let Some(cur) = current {
                    l.target_id = cur.target_id.clone();
                    l.target_fingerprint = cur.target_fingerprint.clone();
                    l.target_version = cur.target_version.clone();
                }
                if ch.prior_link.is_none() {
                    l.source_fingerprint = None;
                }
                l.source_id = ch.record_id.clone();
                l.source_version = r.version.clone();
            }
            Some(LinkOp::Upsert(l))
        }
        ChangeAction::Deleted => {
            let mut l = ch.prior_link.clone()?;
            let id = r.id.clone()?;
            if target {
                l.target_id = id;
                l.target_version = r.version.clone();
            } else {
                l.source_id = id;
                l.source_version = r.version.clone();
            }
            Some(LinkOp::Upsert(l))
        }
    }
}

impl Hub {
    /// 元に戻す: restores what run `run_id` wrote, as a run of its own (one per flow at a time),
    /// executed here unless a runner of another process took it first; answers when it is done.
    /// 409 while the flow has a run queued or running; 422 when the run changed nothing or was
    /// undone already.
    pub async fn undo_run(&self, run_id: &str, trigger: Trigger) -> HubResult<UndoOutcome> {
        let of = self.store.get_run(run_id).await?;
        if !of.status.is_finished() {
            return Err(HubError::conflict(
                "already_running",
                Message::new("err.run_not_finished").with("run", run_id),
            ));
        }
        let (all, open) = self.store.count_run_changes(run_id).await?;
        if all == 0 {
            return Err(HubError::refused(
                "nothing_to_undo",
                "run",
                Message::new("refused.nothing_to_undo").with("run", run_id),
            ));
        }
        let mut undone = open == 0;
        for req in self.store.requests_of(run_id).await? {
            if req.kind == RunKind::Undo {
                let st = self.store.get_run(&req.run_id).await?.status;
                undone |= matches!(st, RunStatus::Success | RunStatus::Partial);
            }
        }
        if undone {
            return Err(HubError::refused(
                "already_undone",
                "run",
                Message::new("refused.already_undone").with("run", run_id),
            ));
        }
        let id = self
            .store
            .enqueue_request(
                &of.flow_id,
                trigger,
                RunKind::Undo,
                run_id,
                &format!("undo of run {run_id}"),
            )
            .await?;
        let owner = format!("undo:{}:{id}", std::process::id());
        let runner = Runner::new(self.clone(), owner.clone());
        if self
            .store
            .claim_run(&id, &owner, runner.lease_until())
            .await?
        {
            let run = self.store.get_run(&id).await?;
            runner.execute(&run).await;
        }
        // Taken by a runner (here or in another process): wait for its result, within reason.
        let deadline = tokio::time::Instant::now() + WAIT;
        let run = loop {
            let run = self.store.get_run(&id).await?;
            if run.status.is_finished() || tokio::time::Instant::now() > deadline {
                break run;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let errors = self.store.run_errors(&id, 100_000).await?;
        Ok(UndoOutcome {
            restored: run.counts.created + run.counts.updated,
            left_alone: errors,
            run,
        })
    }
}
