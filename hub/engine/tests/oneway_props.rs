//! Property tests of one-way sync over in-memory sides: random source records, random edits
//! and deletes between runs, random refusals (that may pass, or not), failed calls and crash
//! points (a run abandoned after any call, then resumed). Runs are the hub's ordinary runs:
//! the records earlier runs failed on stay pending and are taken up first, read again from
//! where the run they failed in started (`hub/core/src/engine/pending.rs`), by a retry pass
//! that moves no cursor ([`Options::retry`]). After every run no target record is duplicated;
//! after a run without faults the target equals the mapped source (nothing lost, nothing
//! duplicated, every live source record linked to its own target record), and a run with
//! nothing to do writes nothing (no echo).

mod memory;

use connector_sdk::{Fields, ReadPage, Record, WriteOp, WriteResult};
use hub_engine::content::same_content;
use hub_engine::oneway::{run, Mode, Options, Plain};
use hub_engine::{
    Commit, EngineError, Failure, Ledger, Link, Match, RecordSide, Report, Shape, SideId,
};
use memory::{Faults, MemLedger, MemSide, Resolution, World, FIELDS};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone)]
enum Edit {
    Create {
        values: [u8; 3],
    },
    Update {
        pick: usize,
        field: usize,
        value: u8,
    },
    Delete {
        pick: usize,
    },
}

#[derive(Debug, Clone)]
struct Round {
    edits: Vec<Edit>,
    /// Faulty runs after the edits; a run that crashed is resumed by the next one.
    attempts: Vec<Faults>,
}

#[derive(Debug, Clone)]
struct Scenario {
    resolution: Resolution,
    /// Page size, batch size and write calls at once.
    sizes: (usize, usize, usize),
    /// Later pages' cursors each source page foretells, and reads at once.
    reading: (usize, usize),
    /// The ledger's commits land one call late (in the background).
    behind: bool,
    rounds: Vec<Round>,
    seed: u64,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        2 => any::<[u8; 3]>().prop_map(|values| Edit::Create { values }),
        3 => (any::<usize>(), 1..FIELDS.len(), 0u8..4)
            .prop_map(|(pick, field, value)| Edit::Update { pick, field, value }),
        1 => any::<usize>().prop_map(|pick| Edit::Delete { pick }),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    let pcts = (0u32..40, 0u32..25, 0u32..30, 0u32..50);
    (proptest::option::of(1usize..30), pcts).prop_map(|(c, (r, f, j, w))| Faults {
        crash_after: c,
        refuse_pct: r,
        fail_call_pct: f,
        reject_pct: j,
        fail_write_call: None,
        foretell_wrong_pct: w,
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let resolution = prop_oneof![
        Just(Resolution::Second),
        Just(Resolution::Minute),
        Just(Resolution::None)
    ];
    let round = (
        prop::collection::vec(edit(), 0..8),
        prop::collection::vec(faults(), 0..3),
    )
        .prop_map(|(edits, attempts)| Round { edits, attempts });
    (
        resolution,
        (
            (1usize..5, 1usize..4, 1usize..4),
            (0usize..4, 1usize..4),
            any::<bool>(),
        ),
        prop::collection::vec(round, 1..5),
        any::<u64>(),
    )
        .prop_map(
            |(resolution, (sizes, reading, behind), rounds, seed)| Scenario {
                resolution,
                sizes,
                reading,
                behind,
                rounds,
                seed,
            },
        )
}

fn value(v: u8) -> Value {
    match v % 4 {
        0 => Value::String(String::new()),
        n => Value::String(format!("v{n}")),
    }
}

fn opts() -> Options {
    Options {
        propagate_deletes: true,
        create_missing: true,
        skip_private: true,
        retry: false,
    }
}

struct Sim {
    a: MemSide,
    b: MemSide,
    ledger: MemLedger,
    keys: usize,
    /// The hub's pending records: source id → where the run it first failed in started.
    pending: BTreeMap<String, Option<String>>,
    /// The ledger's kept failures before the run.
    kept: usize,
}

/// The source as a retry pass sees it: only the pending records.
struct Scoped<'a> {
    inner: &'a mut MemSide,
    ids: BTreeSet<String>,
}

impl Shape for Scoped<'_> {
    fn common(&self, rec: &Record) -> Fields {
        self.inner.common(rec)
    }
    fn own_fields(&self, common: &Fields) -> Fields {
        self.inner.own_fields(common)
    }
    fn read_back(&self, common: &Fields) -> Fields {
        self.inner.read_back(common)
    }
    fn image(&self, rec: &Record) -> Fields {
        self.inner.image(rec)
    }
}

impl RecordSide for Scoped<'_> {
    type Shaped = memory::MemShape;
    fn shape(&self) -> memory::MemShape {
        self.inner.shape()
    }
    async fn read_page(&mut self, cursor: Option<String>) -> Result<ReadPage, EngineError> {
        let mut page = self.inner.read_page(cursor).await?;
        page.records.retain(|r| self.ids.contains(&r.id));
        Ok(page)
    }
    async fn write_batch(&mut self, ops: Vec<WriteOp>) -> Result<Vec<WriteResult>, EngineError> {
        self.inner.write_batch(ops).await
    }
    fn batch_size(&self) -> usize {
        self.inner.batch_size()
    }
    fn write_concurrency(&self) -> usize {
        self.inner.write_concurrency()
    }
    fn read_concurrency(&self) -> usize {
        self.inner.read_concurrency()
    }
    async fn find_match(&mut self, other: &Record) -> Result<Match, EngineError> {
        self.inner.find_match(other).await
    }
}

/// The ledger as a retry pass sees it: reads start where the oldest failure's run started.
struct From<'a> {
    inner: &'a mut MemLedger,
    start: Option<String>,
}

impl Ledger for From<'_> {
    async fn cursor(&mut self, _side: SideId) -> Result<Option<String>, EngineError> {
        Ok(self.start.clone())
    }
    async fn links(
        &mut self,
        side: SideId,
        ids: &[String],
    ) -> Result<HashMap<String, Link>, EngineError> {
        self.inner.links(side, ids).await
    }
    async fn commit(&mut self, commit: Commit) -> Result<(), EngineError> {
        self.inner.commit(commit).await
    }
}

fn label(f: &Failure) -> Option<&str> {
    f.label()
}

/// The earlier of two start cursors (`None`: from the beginning).
fn earlier(x: Option<String>, y: Option<String>) -> Option<String> {
    let n = |c: &Option<String>| c.as_deref().and_then(|c| c.parse::<u64>().ok());
    match (n(&x), n(&y)) {
        (Some(a), Some(b)) if b < a => y,
        (Some(_), Some(_)) => x,
        _ => None,
    }
}

impl Sim {
    fn new(sc: &Scenario) -> Self {
        let world = World::shared(sc.seed);
        let mut a = MemSide::new(SideId::A, world.clone(), sc.resolution);
        let mut b = MemSide::new(SideId::B, world.clone(), sc.resolution);
        (a.page_size, b.batch, b.concurrency) = sc.sizes;
        (a.foretell, a.concurrency) = sc.reading;
        let mut ledger = MemLedger::new(world);
        ledger.behind = sc.behind;
        Sim {
            a,
            b,
            ledger,
            keys: 0,
            pending: BTreeMap::new(),
            kept: 0,
        }
    }

    /// One ordinary run: the pending records first, then the changes since the cursor;
    /// whether it ended without an error, and its write calls.
    fn run(&mut self, faults: Faults) -> (Report, bool, usize) {
        self.a.world.lock().unwrap().start_run(faults);
        let start = self.ledger.cursors[0].clone();
        self.kept = self.ledger.failed.len();
        let mut report = Report::default();
        let mut failed = Vec::new();
        if !self.pending.is_empty() {
            let from = (self.pending.values().cloned()).reduce(earlier).flatten();
            let retry = Options {
                retry: true,
                ..opts()
            };
            let mut scoped = Scoped {
                inner: &mut self.a,
                ids: self.pending.keys().cloned().collect(),
            };
            let mut ledger = From {
                inner: &mut self.ledger,
                start: from.clone(),
            };
            let ok = futures::executor::block_on(run(
                (&mut scoped, &mut self.b),
                &mut ledger,
                &mut Plain,
                (&retry, Mode::Run),
                &mut report,
            ))
            .is_ok();
            if !ok {
                // Stopped before every pending record was tried: all stay pending.
                return self.end(report, false, None, start);
            }
            // What failed again goes back on, still read from where it first failed.
            for f in &report.failures {
                if let Some(id) = label(f) {
                    let since = self.pending.get(id).cloned().unwrap_or(from.clone());
                    failed.push((id.to_string(), since));
                }
            }
            report.failures.clear();
        }
        let ok = futures::executor::block_on(run(
            (&mut self.a, &mut self.b),
            &mut self.ledger,
            &mut Plain,
            (&opts(), Mode::Run),
            &mut report,
        ))
        .is_ok();
        self.end(report, ok, Some(failed), start)
    }

    /// Every pending record tried comes off and the run's failures become pending (`failed`:
    /// the retry pass's, `None` when it stopped: all stay). A killed hub settles nothing: only
    /// the failures its commits kept become pending.
    fn end(
        &mut self,
        report: Report,
        ok: bool,
        failed: Option<Vec<(String, Option<String>)>>,
        start: Option<String>,
    ) -> (Report, bool, usize) {
        let (calls, died) = {
            let w = self.a.world.lock().unwrap();
            (w.write_calls, w.dead())
        };
        let kept: Vec<String> = self.ledger.failed[self.kept..].to_vec();
        for id in kept {
            self.pending.entry(id).or_insert(start.clone());
        }
        if let Some(failed) = failed.filter(|_| !died) {
            self.pending.clear();
            for (id, since) in failed {
                self.pending.entry(id).or_insert(since);
            }
            for f in &report.failures {
                if let Some(id) = label(f) {
                    self.pending.entry(id.to_string()).or_insert(start.clone());
                }
            }
        }
        (report, ok, calls)
    }

    fn live_a(&self) -> Vec<String> {
        (self.a.records.iter())
            .filter(|(_, s)| !s.deleted)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// A person's edit of the source. Keys are unique and never change: the target finds a
    /// record written by a run that died before its commit by its key.
    fn apply(&mut self, e: &Edit) {
        let live = self.live_a();
        match *e {
            Edit::Create { values } => {
                self.keys += 1;
                let mut f = Fields::new();
                f.insert("key".into(), Value::String(format!("k{}", self.keys)));
                for (name, v) in FIELDS[1..].iter().zip(values) {
                    f.insert(name.to_string(), value(v));
                }
                self.a.create_by_hand(&f, "own");
            }
            Edit::Update {
                pick,
                field,
                value: v,
            } if !live.is_empty() => {
                let id = &live[pick % live.len()];
                self.a.edit_by_hand(id, FIELDS[field], value(v));
            }
            Edit::Delete { pick } if !live.is_empty() => {
                self.a.delete_by_hand(&live[pick % live.len()]);
            }
            _ => {}
        }
    }

    /// No key is held by two live target records.
    fn no_duplicate(&self) -> Result<(), TestCaseError> {
        for (key, ids) in self.b.by_key() {
            prop_assert!(ids.len() <= 1, "key {key} on B twice: {ids:?}");
        }
        Ok(())
    }

    /// The target is the mapped source: every live source record linked to a live target
    /// record of the same content, and no other live target record.
    fn converged(&self) -> Result<(), TestCaseError> {
        let live = self.live_a();
        prop_assert_eq!(self.b.live(), live.len(), "live records on B");
        for id in &live {
            let link = self.ledger.links.get(id);
            prop_assert!(link.is_some(), "{} not linked", id);
            let b_id = link
                .map(|l| l.id(SideId::B).to_string())
                .unwrap_or_default();
            let (Some(ra), Some(rb)) = (self.a.get(id), self.b.get(&b_id)) else {
                return Err(TestCaseError::fail(format!("{id} → {b_id}: no record")));
            };
            prop_assert!(!rb.deleted, "{} → {} deleted", id, b_id);
            let (ca, cb) = (self.a.common(&ra), self.b.common(&rb));
            prop_assert!(same_content(&ca, &cb), "{id}: {ca:?} ≠ {cb:?}");
        }
        Ok(())
    }
}

fn check(sc: Scenario) -> Result<(), TestCaseError> {
    let mut sim = Sim::new(&sc);
    for round in &sc.rounds {
        for e in &round.edits {
            sim.apply(e);
        }
        for faults in &round.attempts {
            let (_, ok, _) = sim.run(*faults);
            sim.no_duplicate()?;
            if !ok && faults.crash_after.is_some() {
                // Resumed: the next run starts from what the dead one committed.
                let (report, ok, _) = sim.run(Faults::default());
                prop_assert!(ok, "the resumed run failed: {report:?}");
                sim.no_duplicate()?;
            }
        }
        let (report, ok, _) = sim.run(Faults::default());
        prop_assert!(ok, "a run without faults failed: {report:?}");
        sim.converged()?;
        let (report, ok, calls) = sim.run(Faults::default());
        prop_assert!(
            ok && calls == 0,
            "a run with nothing to do wrote: {report:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn one_way_runs_converge_without_loss_duplicate_or_echo(sc in scenario()) {
        check(sc)?;
    }
}
