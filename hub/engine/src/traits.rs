//! The engine's boundary: a side of records (read a page, write a batch, describe its fields
//! in the shared space, find a partner by key) and the run ledger (links, cursors, the commit
//! that makes a run's work durable). The hub adapts its plugin clients and store to these;
//! the tests adapt in-memory maps.

use connector_sdk::{Fields, MatchKey, ReadPage, Record, WriteOp, WriteResult};
use std::collections::HashMap;
use std::future::Future;

use crate::error::EngineError;
use crate::model::{Failure, Link, SideId};

/// How a side's records look in the shared field space (B's fields), and back. Pure.
pub trait Shape {
    /// A record of this side in the shared space.
    fn common(&self, rec: &Record) -> Fields;
    /// The fields to write on this side for content in the shared space.
    fn own_fields(&self, common: &Fields) -> Fields;
    /// What this side reads back, in the shared space, after `own_fields(common)` is written
    /// (a mapping that does not go back and forth exactly differs from `common`).
    fn read_back(&self, common: &Fields) -> Fields;
    /// The record's own written fields as they are (undo restores them).
    fn image(&self, rec: &Record) -> Fields;
}

/// What an unlinked record of one side finds on the other by the flow's match keys.
#[derive(Debug, Clone, PartialEq)]
pub enum Match {
    /// No partner (or the flow matches by no key).
    None,
    One {
        id: String,
        /// The partner's fields before the run writes it, when the run keeps images.
        image: Option<Fields>,
    },
    Several(Vec<String>),
    /// The record has no usable key: it is skipped.
    NoKey,
    /// The partner is not this run's to touch (a retry of other records): skipped.
    Left,
    /// No partner under this normalized key: of two records with the same key, only the first
    /// creates one (one-way).
    Free {
        key: String,
    },
    /// The side pairs the record itself when it is written, by this key (a connector's own
    /// upsert by an exactly compared field; one-way).
    OnWrite(MatchKey),
}

/// The outcome of each batch of [`RecordSide::write_batches`], in order.
pub type BatchOutcomes = Vec<Result<Vec<WriteResult>, EngineError>>;

/// One side of a flow.
pub trait RecordSide: Shape + Send {
    /// The side's [`Shape`] on its own, so records can be shaped while the side reads on.
    type Shaped: Shape + Send + Sync;

    fn shape(&self) -> Self::Shaped;

    /// The page of changes after `cursor` (`None`: from the start of the side's window).
    fn read_page(
        &mut self,
        cursor: Option<String>,
    ) -> impl Future<Output = Result<ReadPage, EngineError>> + Send;

    /// Most read calls in flight at once, when a page foretells the cursors after it
    /// ([`ReadPage::ahead`]).
    fn read_concurrency(&self) -> usize {
        1
    }

    /// The pages at `cursors`, read up to [`RecordSide::read_concurrency`] at once: one answer
    /// per cursor, in order. By default one after another.
    fn read_pages(
        &mut self,
        cursors: Vec<String>,
    ) -> impl Future<Output = Vec<Result<ReadPage, EngineError>>> + Send {
        async move {
            let mut out = Vec::with_capacity(cursors.len());
            for c in cursors {
                out.push(self.read_page(Some(c)).await);
            }
            out
        }
    }

    /// Writes a batch: one result per op, in order.
    fn write_batch(
        &mut self,
        ops: Vec<WriteOp>,
    ) -> impl Future<Output = Result<Vec<WriteResult>, EngineError>> + Send;

    /// Most ops in one [`RecordSide::write_batch`].
    fn batch_size(&self) -> usize;

    /// Most write calls in flight at once (the connection's concurrency limit).
    fn write_concurrency(&self) -> usize {
        1
    }

    /// Writes independent batches, up to [`RecordSide::write_concurrency`] at once: one
    /// outcome per batch, in order. A batch that fails does not stop the others: what they
    /// wrote is acknowledged and must be recorded. By default one after another.
    fn write_batches(
        &mut self,
        batches: Vec<Vec<WriteOp>>,
    ) -> impl Future<Output = BatchOutcomes> + Send {
        async move {
            let mut out = Vec::with_capacity(batches.len());
            for ops in batches {
                out.push(self.write_batch(ops).await);
            }
            out
        }
    }

    /// The record of this side an unlinked record of the other side pairs with.
    fn find_match(
        &mut self,
        other: &Record,
    ) -> impl Future<Output = Result<Match, EngineError>> + Send;

    /// The partner of a record of the other side written here by a one-way run, `common`
    /// being its content in the shared space (the side may answer [`Match::Free`] or
    /// [`Match::OnWrite`]). By default [`RecordSide::find_match`].
    fn find_target(
        &mut self,
        other: &Record,
        _common: &Fields,
    ) -> impl Future<Output = Result<Match, EngineError>> + Send {
        self.find_match(other)
    }
}

/// One acknowledged write, kept for undo.
#[derive(Debug, Clone)]
pub struct Written {
    pub side: SideId,
    /// The record as the run's failures name it.
    pub label: String,
    pub op: WriteOp,
    pub result: WriteResult,
    /// The side's written fields before the run (its own field space), when known.
    pub before: Option<Fields>,
    /// The link before the run.
    pub prior: Option<Link>,
}

/// What a run makes durable at once: links, the cursors (only when nothing may pass on a
/// later read), and every acknowledged write.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub links: Vec<Link>,
    /// Links to drop, by A's id (their records were deleted).
    pub unlink: Vec<String>,
    pub cursors: Vec<(SideId, String)>,
    pub written: Vec<Written>,
    /// The records of the committed pages that failed (one-way): the ledger keeps them as
    /// failed in the same commit, since the cursor may move past them and a run killed later
    /// reports nothing.
    pub failed: Vec<Failure>,
}

/// Where a flow's runs keep what they know.
pub trait Ledger: Send {
    /// Where the next read of `side` starts.
    fn cursor(
        &mut self,
        side: SideId,
    ) -> impl Future<Output = Result<Option<String>, EngineError>> + Send;

    /// The links of these records of `side`, by their id on `side`.
    fn links(
        &mut self,
        side: SideId,
        ids: &[String],
    ) -> impl Future<Output = Result<HashMap<String, Link>, EngineError>> + Send;

    /// Whether a record read on `side` (linked to `partner`) is this run's: every record,
    /// unless the run retries some records only.
    fn in_scope(&mut self, _side: SideId, _id: &str, _partner: Option<&str>) -> bool {
        true
    }

    /// Makes the run's work durable, all or nothing. A ledger may let it land in the
    /// background, in order, as long as [`Ledger::links`] answers as if it had landed.
    fn commit(&mut self, commit: Commit) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// Waits until every commit made so far landed; the error of one that failed. By
    /// default commits have landed when [`Ledger::commit`] returns.
    fn settle(&mut self) -> impl Future<Output = Result<(), EngineError>> + Send {
        async { Ok(()) }
    }
}
