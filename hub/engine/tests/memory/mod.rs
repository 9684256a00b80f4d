//! In-memory sides and ledger for the engine's tests: two "systems" that keep records with
//! version stamps of a chosen resolution, read changes by a sequence cursor, write batches,
//! refuse writes and fail calls at random, and a world that can die after any call (a run
//! abandoned mid-way: nothing after that call takes effect, as when the hub is killed).
//!
//! Side A names its fields `a_<field>` (the flow's mapping renames them); side B holds the
//! shared space as is. Each side also keeps a field of its own the hub never maps.

#![allow(dead_code)]

use connector_sdk::{
    ConnectorError, ErrorKind, Fields, ReadPage, Record, WriteAction, WriteOp, WriteOutcome,
    WriteResult,
};
use hub_engine::{Commit, EngineError, Ledger, Link, Match, RecordSide, Shape, SideId};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

/// The mapped fields (shared space names).
pub const FIELDS: [&str; 4] = ["key", "name", "city", "phone"];

/// How finely a side stamps its records' versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Second,
    Minute,
    /// No stamp at all (no version, no modified time).
    None,
}

/// Faults of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// The world dies after this many calls of the run (the call itself takes effect).
    pub crash_after: Option<usize>,
    /// Per cent of ops a side refuses (a transient error, nothing written).
    pub refuse_pct: u32,
    /// Per cent of write calls that fail whole (a transient error, nothing written).
    pub fail_call_pct: u32,
    /// Per cent of ops a side refuses for a reason that does not pass by itself (bad data, as
    /// the side says today; nothing written).
    pub reject_pct: u32,
    /// The write call of this number (from 1) fails whole (a transient error).
    pub fail_write_call: Option<usize>,
    /// Per cent of foretold cursors ([`ReadPage::ahead`]) that skip a page: a reader that
    /// trusted them without checking would lose that page's records.
    pub foretell_wrong_pct: u32,
}

#[derive(Debug, Default)]
pub struct World {
    /// Seconds.
    pub clock: i64,
    calls: usize,
    faults: Faults,
    dead: bool,
    rng: u64,
    /// Write calls since the last [`World::start_run`].
    pub write_calls: usize,
}

impl World {
    pub fn shared(seed: u64) -> Arc<Mutex<World>> {
        Arc::new(Mutex::new(World {
            rng: seed | 1,
            ..World::default()
        }))
    }

    pub fn start_run(&mut self, faults: Faults) {
        self.calls = 0;
        self.faults = faults;
        self.dead = false;
        self.write_calls = 0;
    }

    fn roll(&mut self, pct: u32) -> bool {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % 100) < u64::from(pct)
    }

    /// The world died during the run (a crash point was reached).
    pub fn dead(&self) -> bool {
        self.dead
    }

    /// Counts a call; refuses it when the world is dead.
    fn enter(&mut self) -> Result<(), EngineError> {
        if self.dead {
            return Err(gone());
        }
        self.calls += 1;
        Ok(())
    }

    /// After a call took effect: the world dies here if this is the crash point.
    fn leave(&mut self) -> Result<(), EngineError> {
        if self.faults.crash_after == Some(self.calls) {
            self.dead = true;
            return Err(gone());
        }
        Ok(())
    }
}

fn gone() -> EngineError {
    EngineError::Ledger("the process was killed".into())
}

fn lock(w: &Mutex<World>) -> MutexGuard<'_, World> {
    w.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
pub struct Stored {
    pub fields: Fields,
    pub seq: u64,
    pub stamp: i64,
    /// A tombstone, read as a deleted record.
    pub deleted: bool,
}

pub struct MemSide {
    pub id: SideId,
    pub world: Arc<Mutex<World>>,
    pub resolution: Resolution,
    pub records: BTreeMap<String, Stored>,
    seq: u64,
    next_id: u64,
    pub page_size: usize,
    pub batch: usize,
    /// Write calls the side takes at once (the engine gathers this many batches per flush).
    pub concurrency: usize,
    /// Cursors of later pages a page foretells (0: none), read this many at once.
    pub foretell: usize,
    /// Pages read so far.
    pub reads: usize,
}

impl MemSide {
    pub fn new(id: SideId, world: Arc<Mutex<World>>, resolution: Resolution) -> Self {
        MemSide {
            id,
            world,
            resolution,
            records: BTreeMap::new(),
            seq: 0,
            next_id: 0,
            page_size: 3,
            batch: 2,
            concurrency: 1,
            foretell: 0,
            reads: 0,
        }
    }

    /// The side's own name of a shared field.
    pub fn field(&self, f: &str) -> String {
        match self.id {
            SideId::A => format!("a_{f}"),
            SideId::B => f.to_string(),
        }
    }

    /// The cursors after each of the next pages of `rest` (the changes from this page on, in
    /// order), as many as `foretell` says and only where a page follows; some skip a page
    /// when the faults say so.
    fn foretold(&self, rest: &[(&String, &Stored)]) -> Vec<String> {
        let size = self.page_size.max(1);
        let ends: Vec<u64> = (1..=self.foretell)
            .map(|k| k * size)
            .take_while(|&n| n < rest.len())
            .map(|n| rest[n - 1].1.seq)
            .collect();
        let mut w = lock(&self.world);
        let pct = w.faults.foretell_wrong_pct;
        (0..ends.len())
            .map(|i| {
                let skip = i > 0 && w.roll(pct);
                let end = if skip { ends.get(i + 1).copied() } else { None };
                end.unwrap_or(ends[i]).to_string()
            })
            .collect()
    }

    fn truncated(&self, stamp: i64) -> Option<i64> {
        match self.resolution {
            Resolution::Second => Some(stamp),
            Resolution::Minute => Some(stamp - stamp.rem_euclid(60)),
            Resolution::None => None,
        }
    }

    fn record(&self, id: &str, s: &Stored) -> Record {
        let t = self.truncated(s.stamp);
        Record {
            id: id.to_string(),
            version: t.map(|t| t.to_string()),
            modified_at: t
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map(|d| d.to_rfc3339()),
            private: false,
            deleted: s.deleted,
            fields: s.fields.clone(),
        }
    }

    /// The record as its side shows it now.
    pub fn get(&self, id: &str) -> Option<Record> {
        self.records.get(id).map(|s| self.record(id, s))
    }

    fn touch(&mut self, id: &str, fields: &Fields, create: bool) {
        self.seq += 1;
        let stamp = lock(&self.world).clock;
        let entry = self.records.entry(id.to_string()).or_insert(Stored {
            fields: Fields::new(),
            seq: 0,
            stamp,
            deleted: false,
        });
        if create {
            entry.fields = Fields::new();
        }
        for (k, v) in fields {
            entry.fields.insert(k.clone(), v.clone());
        }
        entry.seq = self.seq;
        entry.stamp = stamp;
        entry.deleted = false;
    }

    /// Deletes a record, leaving a tombstone the next read shows.
    fn tombstone(&mut self, id: &str) -> bool {
        self.seq += 1;
        let stamp = lock(&self.world).clock;
        match self.records.get_mut(id).filter(|s| !s.deleted) {
            Some(s) => {
                s.deleted = true;
                s.seq = self.seq;
                s.stamp = stamp;
                true
            }
            None => false,
        }
    }

    /// A person deletes a record.
    pub fn delete_by_hand(&mut self, id: &str) {
        self.tombstone(id);
    }

    /// Records that are not tombstones.
    pub fn live(&self) -> usize {
        self.records.values().filter(|s| !s.deleted).count()
    }

    /// A person creates a record (shared-space values, stored under the side's names).
    pub fn create_by_hand(&mut self, common: &Fields, own: &str) -> String {
        self.next_id += 1;
        let id = format!("{}{}", self.prefix(), self.next_id);
        let mut fields = self.own_fields(common);
        fields.insert(self.own_field(), Value::String(own.to_string()));
        self.touch(&id, &fields, true);
        id
    }

    /// A person sets one shared field of a record.
    pub fn edit_by_hand(&mut self, id: &str, field: &str, value: Value) {
        let mut f = Fields::new();
        f.insert(self.field(field), value);
        self.touch(id, &f, false);
    }

    pub fn own_field(&self) -> String {
        match self.id {
            SideId::A => "a_private_note".into(),
            SideId::B => "b_private_note".into(),
        }
    }

    fn prefix(&self) -> &'static str {
        match self.id {
            SideId::A => "A",
            SideId::B => "B",
        }
    }

    /// Ids by their `key` value.
    pub fn by_key(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let kf = self.field("key");
        for (id, s) in self.records.iter().filter(|(_, s)| !s.deleted) {
            let k = s.fields.get(&kf).and_then(Value::as_str).unwrap_or("");
            out.entry(k.to_string()).or_default().push(id.clone());
        }
        out
    }

    fn apply(&mut self, op: &WriteOp) -> WriteResult {
        let mut r = WriteResult {
            op_id: op.op_id.clone(),
            outcome: WriteOutcome::Error,
            id: None,
            version: None,
            modified_at: None,
            error: None,
        };
        let id = match (op.action, &op.id) {
            (WriteAction::Create, _) => {
                self.next_id += 1;
                let id = format!("{}{}", self.prefix(), self.next_id);
                self.touch(&id, &op.fields, true);
                r.outcome = WriteOutcome::Created;
                id
            }
            (WriteAction::Delete, Some(id)) => {
                if self.tombstone(id) {
                    r.outcome = WriteOutcome::Deleted;
                    r.id = Some(id.clone());
                } else {
                    r.error = Some(ConnectorError::new(ErrorKind::NotFound, "no such record"));
                }
                return r;
            }
            (WriteAction::Upsert | WriteAction::Update, Some(id))
                if self.records.get(id).is_some_and(|s| !s.deleted) =>
            {
                self.touch(id, &op.fields, false);
                r.outcome = WriteOutcome::Updated;
                id.clone()
            }
            _ => {
                r.error = Some(ConnectorError::new(ErrorKind::NotFound, "no such record"));
                return r;
            }
        };
        let rec = self.get(&id);
        r.version = rec.as_ref().and_then(|r| r.version.clone());
        r.modified_at = rec.and_then(|r| r.modified_at);
        r.id = Some(id);
        r
    }
}

/// A side's shape on its own: its field names.
#[derive(Debug, Clone, Copy)]
pub struct MemShape {
    pub id: SideId,
}

impl MemShape {
    fn field(&self, f: &str) -> String {
        match self.id {
            SideId::A => format!("a_{f}"),
            SideId::B => f.to_string(),
        }
    }
}

impl Shape for MemShape {
    fn common(&self, rec: &Record) -> Fields {
        FIELDS
            .iter()
            .map(|f| {
                let v = rec
                    .fields
                    .get(&self.field(f))
                    .cloned()
                    .unwrap_or(Value::Null);
                (f.to_string(), v)
            })
            .collect()
    }

    fn own_fields(&self, common: &Fields) -> Fields {
        FIELDS
            .iter()
            .map(|f| {
                (
                    self.field(f),
                    common.get(*f).cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    fn read_back(&self, common: &Fields) -> Fields {
        FIELDS
            .iter()
            .map(|f| {
                (
                    f.to_string(),
                    common.get(*f).cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    fn image(&self, rec: &Record) -> Fields {
        let mine: Vec<String> = FIELDS.iter().map(|f| self.field(f)).collect();
        rec.fields
            .iter()
            .filter(|(k, _)| mine.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Shape for MemSide {
    fn common(&self, rec: &Record) -> Fields {
        self.shape().common(rec)
    }

    fn own_fields(&self, common: &Fields) -> Fields {
        self.shape().own_fields(common)
    }

    fn read_back(&self, common: &Fields) -> Fields {
        self.shape().read_back(common)
    }

    fn image(&self, rec: &Record) -> Fields {
        self.shape().image(rec)
    }
}

impl RecordSide for MemSide {
    type Shaped = MemShape;

    fn shape(&self) -> MemShape {
        MemShape { id: self.id }
    }

    async fn read_page(&mut self, cursor: Option<String>) -> Result<ReadPage, EngineError> {
        lock(&self.world).enter()?;
        self.reads += 1;
        let after: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut recs: Vec<(&String, &Stored)> =
            self.records.iter().filter(|(_, s)| s.seq > after).collect();
        recs.sort_by_key(|(_, s)| s.seq);
        let has_more = recs.len() > self.page_size;
        let ahead = self.foretold(&recs);
        recs.truncate(self.page_size);
        let page = ReadPage {
            next_cursor: recs.last().map(|(_, s)| s.seq.to_string()),
            records: recs.iter().map(|(id, s)| self.record(id, s)).collect(),
            has_more,
            ahead,
            ..ReadPage::default()
        };
        lock(&self.world).leave()?;
        Ok(page)
    }

    async fn write_batch(&mut self, ops: Vec<WriteOp>) -> Result<Vec<WriteResult>, EngineError> {
        let fail_call = {
            let mut w = lock(&self.world);
            w.enter()?;
            w.write_calls += 1;
            let pct = w.faults.fail_call_pct;
            w.roll(pct) || w.faults.fail_write_call == Some(w.write_calls)
        };
        if fail_call {
            let error = ConnectorError::new(ErrorKind::Transient, "503 from the emulator");
            return Err(EngineError::connector(self.id, error));
        }
        let mut out = Vec::new();
        for op in &ops {
            let (refuse, reject) = {
                let mut w = lock(&self.world);
                let pct = w.faults.refuse_pct;
                let refuse = w.roll(pct);
                // Rolled only when asked for, so that other tests' sequences stay as they were.
                let reject = w.faults.reject_pct > 0 && {
                    let pct = w.faults.reject_pct;
                    w.roll(pct)
                };
                (refuse, reject)
            };
            if reject && !refuse {
                out.push(WriteResult {
                    op_id: op.op_id.clone(),
                    outcome: WriteOutcome::Error,
                    id: None,
                    version: None,
                    modified_at: None,
                    error: Some(ConnectorError::new(ErrorKind::InvalidData, "refused today")),
                });
            } else if refuse {
                out.push(WriteResult {
                    op_id: op.op_id.clone(),
                    outcome: WriteOutcome::Error,
                    id: None,
                    version: None,
                    modified_at: None,
                    error: Some(ConnectorError::new(ErrorKind::Transient, "busy, try later")),
                });
            } else {
                out.push(self.apply(op));
            }
        }
        lock(&self.world).leave()?;
        Ok(out)
    }

    fn batch_size(&self) -> usize {
        self.batch
    }

    fn write_concurrency(&self) -> usize {
        self.concurrency
    }

    fn read_concurrency(&self) -> usize {
        self.concurrency
    }

    async fn find_match(&mut self, other: &Record) -> Result<Match, EngineError> {
        lock(&self.world).enter()?;
        let theirs = match self.id {
            SideId::A => "key".to_string(),
            SideId::B => "a_key".to_string(),
        };
        let key = other
            .fields
            .get(&theirs)
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = if key.is_empty() {
            Match::NoKey
        } else {
            let ids = self.by_key().remove(key).unwrap_or_default();
            match ids.as_slice() {
                [] => Match::None,
                [one] => Match::One {
                    id: one.clone(),
                    image: self.get(one).map(|r| self.image(&r)),
                },
                _ => Match::Several(ids),
            }
        };
        lock(&self.world).leave()?;
        Ok(found)
    }
}

pub struct MemLedger {
    pub world: Arc<Mutex<World>>,
    /// By A's id.
    pub links: BTreeMap<String, Link>,
    pub cursors: [Option<String>; 2],
    pub commits: usize,
    /// The failed records' labels each commit kept, in order.
    pub failed: Vec<String>,
    /// Commits land one call late, as a store committing in the background does: the next
    /// commit or settle lands the one before; a death in between loses it.
    pub behind: bool,
    pending: Option<Commit>,
}

impl MemLedger {
    pub fn new(world: Arc<Mutex<World>>) -> Self {
        MemLedger {
            world,
            links: BTreeMap::new(),
            cursors: [None, None],
            commits: 0,
            failed: Vec::new(),
            behind: false,
            pending: None,
        }
    }

    fn land(&mut self, commit: Commit) {
        for id in &commit.unlink {
            self.links.remove(id);
        }
        for l in commit.links {
            self.links.insert(l.id(SideId::A).to_string(), l);
        }
        for (side, c) in commit.cursors {
            self.cursors[ix(side)] = Some(c);
        }
        self.failed.extend(
            commit
                .failed
                .iter()
                .filter_map(|f| f.label().map(String::from)),
        );
        self.commits += 1;
    }

    /// Counts a call; a dead world loses the commit still to land.
    fn enter(&mut self) -> Result<(), EngineError> {
        let entered = lock(&self.world).enter();
        if entered.is_err() {
            self.pending = None;
        }
        entered
    }

    fn leave(&mut self) -> Result<(), EngineError> {
        let left = lock(&self.world).leave();
        if left.is_err() {
            self.pending = None;
        }
        left
    }
}

fn ix(side: SideId) -> usize {
    match side {
        SideId::A => 0,
        SideId::B => 1,
    }
}

impl Ledger for MemLedger {
    async fn cursor(&mut self, side: SideId) -> Result<Option<String>, EngineError> {
        lock(&self.world).enter()?;
        let c = self.cursors[ix(side)].clone();
        lock(&self.world).leave()?;
        Ok(c)
    }

    async fn links(
        &mut self,
        side: SideId,
        ids: &[String],
    ) -> Result<HashMap<String, Link>, EngineError> {
        lock(&self.world).enter()?;
        // As the links will be once the commit still to land has landed.
        let mut view = self.links.clone();
        if let Some(p) = &self.pending {
            for id in &p.unlink {
                view.remove(id);
            }
            for l in &p.links {
                view.insert(l.id(SideId::A).to_string(), l.clone());
            }
        }
        let out = view
            .values()
            .filter(|l| ids.iter().any(|i| i == l.id(side)))
            .map(|l| (l.id(side).to_string(), l.clone()))
            .collect();
        lock(&self.world).leave()?;
        Ok(out)
    }

    async fn commit(&mut self, commit: Commit) -> Result<(), EngineError> {
        self.enter()?;
        if let Some(p) = self.pending.take() {
            self.land(p);
        }
        if self.behind {
            self.pending = Some(commit);
        } else {
            self.land(commit);
        }
        self.leave()
    }

    async fn settle(&mut self) -> Result<(), EngineError> {
        if self.pending.is_none() {
            return Ok(());
        }
        self.enter()?;
        if let Some(p) = self.pending.take() {
            self.land(p);
        }
        self.leave()
    }
}
