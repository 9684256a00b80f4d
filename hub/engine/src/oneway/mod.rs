//! One-way sync over the same traits as two-way: side A (the source) is read page by page
//! from its ledger cursor, each page planned (sans-IO, [`plan`]) and its writes sent to side B
//! (the target) in batches; links and the cursor commit through the [`Ledger`] in one commit
//! per flush, only after every write of it was acknowledged.
//!
//! Pipelined to the APIs' limits: the source is read ahead (a page or two, [`READ_AHEAD`])
//! while earlier pages are planned and written, and writes gather across pages until every
//! write call the target allows at once can be full; a flush then sends its batches together
//! ([`RecordSide::write_batches`]) and commits their links and the last page's cursor after
//! all of them answered. A record met twice in one flush is written in a later wave, so two
//! writes of one record are never in flight together. Memory stays bounded by a few pages.
//! The cursor does not move when a record failed for a reason that may pass, and the run
//! stops there: the next run reads that record again. Every failure of the committed pages
//! goes into the commit too ([`Commit::failed`]): the ledger keeps it, since the cursor may
//! move past it and a run killed later reports nothing. A preview ([`Mode::Preview`]) is the
//! same plan handed to [`Hooks::planned`] instead of written; it commits nothing.
//!
//! The caller's own enrichment of a page (lookups, registrations, progress, the expected
//! count) goes through [`Hooks`].

pub mod plan;

use connector_sdk::{Fields, ReadPage, Record, WriteOp};
use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::future::Future;

use crate::error::EngineError;
use crate::model::{Counts, Failure, Report, SideId};
use crate::traits::{Commit, Ledger, Match, RecordSide, Shape};
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

/// Pages read ahead of the one being planned (beyond the read in flight).
pub const READ_AHEAD: usize = 2;

/// Lets the reader, polled in the same task, take its page and start the next read between
/// the planner's stretches of work: otherwise a page's answer waits for the planner.
fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
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
    let cursor = ledger.cursor(SideId::A).await?;
    let shape = source.shape();
    let (pages_tx, pages) = mpsc::channel(READ_AHEAD);
    let steps = Steps {
        shape: &shape,
        target,
        ledger,
        hooks,
    };
    let (done, ()) = futures::join!(
        steps.consume(pages, (opts, mode), report),
        read_ahead(source, cursor, pages_tx)
    );
    let settled = ledger.settle().await;
    done.and(settled)
}

/// Reads the source page after page into `pages`, until its last page or until the planner
/// stops listening (a run that ends early reads at most the pages in flight beyond it). When a
/// page foretells the cursors after it ([`ReadPage::ahead`]), up to the side's read
/// concurrency of them, and no more than [`READ_AHEAD`] (which bounds memory), are read at
/// once; the pages still go to the planner in order, and one whose successor was foretold
/// wrongly ends that read-ahead (what was read past it is dropped and read again from the
/// page's own cursor).
async fn read_ahead<S: RecordSide>(
    source: &mut S,
    cursor: Option<String>,
    mut pages: mpsc::Sender<Result<ReadPage, EngineError>>,
) {
    let lanes = source.read_concurrency().clamp(1, READ_AHEAD);
    let mut next = cursor;
    let mut foretold: Vec<String> = Vec::new();
    loop {
        let chained = lanes > 1 && next.is_some() && foretold.first() == next.as_ref();
        let group: Vec<Option<String>> = if chained {
            foretold.iter().take(lanes).cloned().map(Some).collect()
        } else {
            vec![next.take()]
        };
        let read = if group.len() > 1 {
            source
                .read_pages(group.iter().flatten().cloned().collect())
                .await
        } else {
            vec![source.read_page(group[0].clone()).await]
        };
        let mut answers = read.into_iter().enumerate();
        let mut resumed = false;
        while let (false, Some((i, page))) = (resumed, answers.next()) {
            let (more, after, ahead) = match &page {
                Ok(p) if p.has_more && p.next_cursor.is_some() => {
                    (true, p.next_cursor.clone(), p.ahead.clone())
                }
                _ => (false, None, Vec::new()),
            };
            if pages.send(page).await.is_err() || !more {
                return;
            }
            resumed = group.get(i + 1).is_some_and(|g| *g != after);
            next = after;
            foretold = ahead;
        }
    }
}

/// What plans and writes the pages read.
struct Steps<'a, Sh, T, L, H> {
    shape: &'a Sh,
    target: &'a mut T,
    ledger: &'a mut L,
    hooks: &'a mut H,
}

impl<Sh: Shape + Sync, T: RecordSide, L: Ledger, H: Hooks> Steps<'_, Sh, T, L, H> {
    async fn consume(
        mut self,
        mut pages: mpsc::Receiver<Result<ReadPage, EngineError>>,
        (opts, mode): (&Options, Mode),
        report: &mut Report,
    ) -> Result<(), EngineError> {
        let mut claims = Claims::default();
        let mut gathered = Gathered::default();
        let size = self.target.batch_size().max(1);
        let flush_at = size * self.target.write_concurrency().max(1);
        // The reader always sends a last page or an error before it stops.
        while let Some(page) = pages.next().await {
            let page = self.plan_read(page?, opts, &mut claims, report).await?;
            if mode == Mode::Preview {
                for w in &page.writes {
                    self.hooks.planned(&w.label, &w.op, w.before.as_ref());
                }
            } else {
                gathered.writes.extend(page.writes);
                if page.next.is_some() {
                    gathered.cursor.clone_from(&page.next);
                }
                if gathered.writes.len() >= flush_at || page.last {
                    let may_pass = flush(
                        &mut *self.target,
                        &mut *self.ledger,
                        &mut gathered,
                        opts,
                        report,
                    )
                    .await?;
                    if may_pass && !opts.retry {
                        self.hooks.progress(&report.counts);
                        return Ok(());
                    }
                }
                self.hooks.progress(&report.counts);
            }
            if page.last {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Plans a page just read.
    async fn plan_read(
        &mut self,
        page: ReadPage,
        opts: &Options,
        claims: &mut Claims,
        report: &mut Report,
    ) -> Result<PagePlan, EngineError> {
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
        let links = self.ledger.links(SideId::A, &ids).await?;
        let seen = PageSeen {
            records: &records,
            total: page.total,
            read_before,
        };
        let contents = self.hooks.prepare(seen).await?;
        yield_now().await;
        let items = plan::classify(records, contents, &links, opts, self.shape, report);
        yield_now().await;
        let mut matches = find_targets(&mut *self.target, &items).await?;
        let writes = plan::plan_page(items, &mut matches, claims, opts, report);
        yield_now().await;
        Ok(PagePlan {
            writes,
            next: page.next_cursor,
            last,
        })
    }
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

/// Splits writes, in order, where a source record, a target record or a match key value comes
/// again: within one wave no two writes touch the same record, so its batches may be in flight
/// together.
fn waves(writes: &[Planned]) -> Vec<&[Planned]> {
    let mut out = Vec::new();
    let (mut start, mut seen) = (0, HashSet::new());
    for (i, w) in writes.iter().enumerate() {
        let target = w.op.id.as_deref().map(|t| format!("t:{t}"));
        // Two upserts by one key value in flight together could both create.
        let key = (w.op.match_key.as_ref()).map(|k| format!("k:{}={}", k.field, k.value));
        let keys = [Some(format!("s:{}", w.label)), target, key];
        if keys.iter().flatten().any(|k| seen.contains(k)) {
            out.push(&writes[start..i]);
            (start, seen) = (i, HashSet::new());
        }
        seen.extend(keys.into_iter().flatten());
    }
    if start < writes.len() {
        out.push(&writes[start..]);
    }
    out
}

/// Writes what was gathered and commits it: links of acknowledged writes, and the cursor
/// unless a record failed for a reason that may pass. When a call failed, what every other
/// batch did is committed (never the cursor) before the error is returned.
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
    let size = target.batch_size().max(1);
    let mut commit = Commit::default();
    let (mut may_pass, mut failed) = (false, None);
    for wave in waves(&writes) {
        let batches: Vec<&[Planned]> = wave.chunks(size).collect();
        let ops = batches
            .iter()
            .map(|b| b.iter().map(|w| w.op.clone()).collect())
            .collect();
        let mut outcomes = target.write_batches(ops).await.into_iter();
        for batch in batches {
            match outcomes.next() {
                Some(Ok(results)) => may_pass |= plan::settle(batch, results, &mut commit, report),
                Some(Err(e)) => drop(failed.get_or_insert(e)),
                None => {
                    for w in batch {
                        report.fail(Failure::NoResult {
                            label: w.label.clone(),
                            side: SideId::B,
                        });
                    }
                    may_pass = true;
                }
            }
        }
        if failed.is_some() {
            break;
        }
    }
    if failed.is_none() && !may_pass && !opts.retry {
        commit.cursors.extend(cursor.map(|c| (SideId::A, c)));
    }
    commit.failed = report.failures.get(from..).unwrap_or_default().to_vec();
    gathered.failures_from = report.failures.len();
    yield_now().await;
    ledger.commit(commit).await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(may_pass),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_sdk::WriteAction;

    fn planned(label: &str, target: Option<&str>) -> Planned {
        Planned {
            op: WriteOp {
                op_id: label.into(),
                action: WriteAction::Upsert,
                id: target.map(String::from),
                match_key: None,
                expected_version: None,
                fields: Fields::new(),
            },
            label: label.into(),
            version: None,
            content: Fields::new(),
            fingerprint: String::new(),
            link: None,
            before: None,
        }
    }

    #[test]
    fn a_record_met_again_starts_a_new_wave() {
        let writes = [
            planned("a1", Some("b1")),
            planned("a2", None),
            planned("a3", Some("b3")),
            planned("a4", Some("b3")),
            planned("a1", Some("b1")),
            planned("a5", None),
        ];
        let labels: Vec<Vec<&str>> = waves(&writes)
            .iter()
            .map(|w| w.iter().map(|p| p.label.as_str()).collect())
            .collect();
        assert_eq!(labels, [vec!["a1", "a2", "a3"], vec!["a4", "a1", "a5"]]);
    }

    #[test]
    fn two_upserts_by_one_key_value_are_never_in_flight_together() {
        let by_key = |label: &str, value: &str| {
            let mut p = planned(label, None);
            p.op.match_key = Some(connector_sdk::MatchKey {
                field: "Account_Name".into(),
                value: serde_json::json!(value),
            });
            p
        };
        let writes = [
            by_key("a1", "サンプル商事"),
            by_key("a2", "見本工業"),
            by_key("a3", "サンプル商事"),
        ];
        let labels: Vec<Vec<&str>> = waves(&writes)
            .iter()
            .map(|w| w.iter().map(|p| p.label.as_str()).collect())
            .collect();
        assert_eq!(labels, [vec!["a1", "a2"], vec!["a3"]]);
    }
}
