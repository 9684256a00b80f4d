//! One-way sync over the same traits as two-way: side A (the source) is read page by page
//! from its ledger cursor, each page planned (sans-IO, [`plan`]) and its writes sent to side B
//! (the target) in batches; links and the cursor commit through the [`Ledger`] in one commit
//! per flush, only after every write of it was acknowledged.
//!
//! Writes gather across pages up to the target's batch size (fewer calls, bounded memory): a
//! flush writes every page read so far and commits their links and the last page's cursor.
//! The cursor does not move when a record failed for a reason that may pass, and the run
//! stops there: the next run reads that record again. Every failure of the committed pages
//! goes into the commit too ([`Commit::failed`]): the ledger keeps it, since the cursor may
//! move past it and a run killed later reports nothing. A preview ([`Mode::Preview`]) is the
//! same plan handed to [`Hooks::planned`] instead of written; it commits nothing.
//!
//! The caller's own enrichment of a page (lookups, registrations, progress, the expected
//! count) goes through [`Hooks`].

pub mod plan;

use connector_sdk::{Fields, Record, WriteOp};
use std::collections::HashMap;
use std::future::Future;

use crate::error::EngineError;
use crate::model::{Counts, Failure, Report, SideId};
use crate::traits::{Commit, Ledger, Match, RecordSide};
pub use plan::Options;
use plan::{Claims, Content, Item, Planned};

/// What the page hook sees of a page just read.
pub struct PageSeen<'a> {
    pub records: &'a [Record],
    /// The records the whole read holds, when the side told (the first page, if asked).
    pub total: Option<u64>,
    /// Records read before this page.
    pub read_before: i64,
}

/// The caller's hooks around a one-way run.
pub trait Hooks: Send {
    /// Each record's content in the shared space (one per record, in order; `None`: the
    /// source side's shape), before the page is planned.
    fn prepare(
        &mut self,
        page: PageSeen<'_>,
    ) -> impl Future<Output = Result<Vec<Content>, EngineError>> + Send;

    /// A preview's write of source record `label`, recorded instead of written; `before`: the
    /// target record's fields as last synced or matched, when known.
    fn planned(&mut self, _label: &str, _op: &WriteOp, _before: Option<&Fields>) {}

    /// The run's counts so far, after each page.
    fn progress(&mut self, _counts: &Counts) {}
}

/// No hooks: content is the source side's shape.
pub struct Plain;

impl Hooks for Plain {
    async fn prepare(&mut self, page: PageSeen<'_>) -> Result<Vec<Content>, EngineError> {
        Ok(vec![None; page.records.len()])
    }
}

/// A run writes; a preview records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Run,
    Preview,
}

/// The writes gathered and the cursor they lead to.
#[derive(Default)]
struct Gathered {
    writes: Vec<Planned>,
    cursor: Option<String>,
    /// The report's failures from here on are the gathered pages'.
    failures_from: usize,
}

/// One page read and planned.
struct PagePlan {
    writes: Vec<Planned>,
    next: Option<String>,
    last: bool,
}

/// One one-way run from the source's ledger cursor to the end of its changes.
pub async fn run<S: RecordSide, T: RecordSide, L: Ledger, H: Hooks>(
    (source, target): (&mut S, &mut T),
    ledger: &mut L,
    hooks: &mut H,
    (opts, mode): (&Options, Mode),
    report: &mut Report,
) -> Result<(), EngineError> {
    let mut cursor = ledger.cursor(SideId::A).await?;
    let mut claims = Claims::default();
    let mut gathered = Gathered::default();
    loop {
        let step = (&mut *source, &mut *target, &mut *ledger, &mut *hooks);
        let page = read_and_plan(step, cursor, opts, &mut claims, report).await?;
        if mode == Mode::Preview {
            for w in &page.writes {
                hooks.planned(&w.label, &w.op, w.before.as_ref());
            }
        } else {
            gathered.writes.extend(page.writes);
            if page.next.is_some() {
                gathered.cursor.clone_from(&page.next);
            }
            let full = gathered.writes.len() >= target.batch_size().max(1);
            if full || page.last {
                let may_pass = flush(target, ledger, &mut gathered, opts, report).await?;
                if may_pass && !opts.retry {
                    hooks.progress(&report.counts);
                    return Ok(());
                }
            }
            hooks.progress(&report.counts);
        }
        if page.last {
            return Ok(());
        }
        cursor = page.next;
    }
}

/// Reads the page after `cursor` and plans it.
async fn read_and_plan<S: RecordSide, T: RecordSide, L: Ledger, H: Hooks>(
    (source, target, ledger, hooks): (&mut S, &mut T, &mut L, &mut H),
    cursor: Option<String>,
    opts: &Options,
    claims: &mut Claims,
    report: &mut Report,
) -> Result<PagePlan, EngineError> {
    let page = source.read_page(cursor).await?;
    for issue in page.issues {
        report.fail(Failure::Unreadable {
            side: SideId::A,
            issue,
        });
    }
    let last = !page.has_more || page.next_cursor.is_none();
    let records = page.records;
    let read_before = report.counts.read;
    report.counts.read += records.len() as i64;
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let links = ledger.links(SideId::A, &ids).await?;
    let seen = PageSeen {
        records: &records,
        total: page.total,
        read_before,
    };
    let contents = hooks.prepare(seen).await?;
    let items = plan::classify(records, contents, &links, opts, &*source, report);
    let mut matches = find_targets(target, &items).await?;
    let writes = plan::plan_page(items, &mut matches, claims, opts, report);
    Ok(PagePlan {
        writes,
        next: page.next_cursor,
        last,
    })
}

/// The partners found on the target for the page's unlinked changes.
async fn find_targets<T: RecordSide>(
    target: &mut T,
    items: &[Item],
) -> Result<HashMap<String, Match>, EngineError> {
    let mut out = HashMap::new();
    for c in plan::unlinked(items) {
        let found = target.find_target(&c.rec, &c.content).await?;
        out.insert(c.rec.id.clone(), found);
    }
    Ok(out)
}

/// Writes what was gathered in batches and commits it: links of acknowledged writes, and the
/// cursor unless a record failed for a reason that may pass. On a failed call, what the
/// earlier batches did is committed (never the cursor) before the error is returned.
async fn flush<T: RecordSide, L: Ledger>(
    target: &mut T,
    ledger: &mut L,
    gathered: &mut Gathered,
    opts: &Options,
    report: &mut Report,
) -> Result<bool, EngineError> {
    let writes = std::mem::take(&mut gathered.writes);
    let cursor = gathered.cursor.take();
    let from = std::mem::replace(&mut gathered.failures_from, usize::MAX);
    let mut commit = Commit::default();
    let mut may_pass = false;
    for batch in writes.chunks(target.batch_size().max(1)) {
        let ops: Vec<WriteOp> = batch.iter().map(|w| w.op.clone()).collect();
        match target.write_batch(ops).await {
            Ok(results) => may_pass |= plan::settle(batch, results, &mut commit, report),
            Err(e) => {
                commit.failed = report.failures.get(from..).unwrap_or_default().to_vec();
                ledger.commit(commit).await?;
                return Err(e);
            }
        }
    }
    if !may_pass && !opts.retry {
        commit.cursors.extend(cursor.map(|c| (SideId::A, c)));
    }
    commit.failed = report.failures.get(from..).unwrap_or_default().to_vec();
    gathered.failures_from = report.failures.len();
    ledger.commit(commit).await?;
    Ok(may_pass)
}
