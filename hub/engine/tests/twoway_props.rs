//! Property tests of the two-way reconcile over in-memory sides: random records, random edits
//! on both sides between runs (often in the same tick as the hub's writes, with stamps of whole
//! seconds, minutes or none at all), random refusals, failed calls and crash points (a run
//! abandoned after any call, then resumed). After each round's faulty runs, runs without faults
//! must converge: every record on both sides once, the same content, nothing written by a run
//! with nothing to do (no echo), and every field as the flow's policy says given the edits of
//! the round (so an older value never rolls back a newer edit).

mod memory;

use connector_sdk::Fields;
use hub_engine::content::{same_content, same_value};
use hub_engine::run::run;
use hub_engine::{Config, Policy, Report, SideId};
use memory::{Faults, MemLedger, MemSide, Resolution, World, FIELDS};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
enum Edit {
    Create {
        on: SideId,
        values: [u8; 3],
    },
    Update {
        on: SideId,
        pick: usize,
        field: usize,
        value: u8,
    },
}

#[derive(Debug, Clone)]
struct Round {
    /// Seconds the clock moves before the edits, and between the edits and the runs.
    advance: (i64, i64),
    edits: Vec<Edit>,
    attempts: Vec<Faults>,
}

#[derive(Debug, Clone)]
struct Scenario {
    policy: Policy,
    resolution: (Resolution, Resolution),
    rounds: Vec<Round>,
    seed: u64,
}

fn side() -> impl Strategy<Value = SideId> {
    prop_oneof![Just(SideId::A), Just(SideId::B)]
}

fn resolution() -> impl Strategy<Value = Resolution> {
    prop_oneof![
        Just(Resolution::Second),
        Just(Resolution::Minute),
        Just(Resolution::None)
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => (side(), any::<[u8; 3]>()).prop_map(|(on, values)| Edit::Create { on, values }),
        3 => (side(), any::<usize>(), 1..FIELDS.len(), 0u8..4)
            .prop_map(|(on, pick, field, value)| Edit::Update { on, pick, field, value }),
    ]
}

fn faults() -> impl Strategy<Value = Faults> {
    (proptest::option::of(1usize..40), 0u32..40, 0u32..25).prop_map(|(c, r, f)| Faults {
        crash_after: c,
        refuse_pct: r,
        fail_call_pct: f,
        reject_pct: 0,
        fail_write_call: None,
        foretell_wrong_pct: 0,
    })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let policy = prop_oneof![
        Just(Policy::SourceWins),
        Just(Policy::TargetWins),
        Just(Policy::NewestWins),
        Just(Policy::FieldMerge)
    ];
    let round = (
        (0i64..3, 0i64..2),
        prop::collection::vec(edit(), 0..7),
        prop::collection::vec(faults(), 0..3),
    )
        .prop_map(|(advance, edits, attempts)| Round {
            advance,
            edits,
            attempts,
        });
    (
        policy,
        (resolution(), resolution()),
        prop::collection::vec(round, 1..5),
        any::<u64>(),
    )
        .prop_map(|(policy, resolution, rounds, seed)| Scenario {
            policy,
            resolution,
            rounds,
            seed,
        })
}

fn value(v: u8) -> Value {
    match v % 4 {
        0 => Value::String(String::new()),
        n => Value::String(format!("v{n}")),
    }
}

struct Sim {
    a: MemSide,
    b: MemSide,
    ledger: MemLedger,
    cfg: Config,
    keys: usize,
    /// Records created by a person: (side, id); their own field must survive every run.
    by_hand: Vec<(SideId, String)>,
}

impl Sim {
    fn side(&mut self, s: SideId) -> &mut MemSide {
        match s {
            SideId::A => &mut self.a,
            SideId::B => &mut self.b,
        }
    }

    fn run(&mut self, faults: Faults) -> (Report, bool, usize) {
        self.a.world.lock().unwrap().start_run(faults);
        let mut report = Report::default();
        let ok = futures::executor::block_on(run(
            &mut self.a,
            &mut self.b,
            &mut self.ledger,
            &self.cfg,
            &mut report,
        ))
        .is_ok();
        let writes = self.a.world.lock().unwrap().write_calls;
        (report, ok, writes)
    }

    fn apply(&mut self, e: &Edit) {
        match e {
            Edit::Create { on, values } => {
                self.keys += 1;
                let mut f = Fields::new();
                f.insert("key".into(), Value::String(format!("k{}", self.keys)));
                for (name, v) in FIELDS[1..].iter().zip(values) {
                    f.insert(name.to_string(), value(*v));
                }
                let id = self.side(*on).create_by_hand(&f, "n");
                self.by_hand.push((*on, id));
            }
            Edit::Update {
                on,
                pick,
                field,
                value: v,
            } => {
                let s = self.side(*on);
                let ids: Vec<String> = s.records.keys().cloned().collect();
                if !ids.is_empty() {
                    s.edit_by_hand(&ids[pick % ids.len()], FIELDS[*field], value(*v));
                }
            }
        }
    }

    /// Each key's content on `side` (shared space) and modified stamp.
    fn contents(&self, s: SideId) -> BTreeMap<String, (Fields, Option<String>)> {
        let side = match s {
            SideId::A => &self.a,
            SideId::B => &self.b,
        };
        use hub_engine::Shape;
        side.records
            .keys()
            .filter_map(|id| side.get(id))
            .map(|r| {
                let f = side.common(&r);
                let k = f
                    .get("key")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                (k, (f, r.modified_at.clone()))
            })
            .collect()
    }
}

/// What each key must hold once the round's runs are done.
fn expected(
    policy: Policy,
    base: &BTreeMap<String, Fields>,
    a: &BTreeMap<String, (Fields, Option<String>)>,
    b: &BTreeMap<String, (Fields, Option<String>)>,
) -> BTreeMap<String, Fields> {
    let mut out = BTreeMap::new();
    for key in a.keys().chain(b.keys()) {
        let want = match (a.get(key), b.get(key), base.get(key)) {
            (Some((fa, _)), None, _) => fa.clone(),
            (None, Some((fb, _)), _) => fb.clone(),
            (Some((fa, ma)), Some((fb, mb)), Some(base)) => {
                let (ca, cb) = (!same_content(fa, base), !same_content(fb, base));
                let stamp = |m: &Option<String>| {
                    m.as_deref()
                        .and_then(|m| chrono::DateTime::parse_from_rfc3339(m).ok())
                        .map(|t| t.timestamp())
                        .unwrap_or(i64::MIN)
                };
                let a_newer = stamp(ma) >= stamp(mb);
                match (ca, cb, policy) {
                    (false, false, _) => base.clone(),
                    (true, false, _) => fa.clone(),
                    (false, true, _) => fb.clone(),
                    (true, true, Policy::SourceWins) => fa.clone(),
                    (true, true, Policy::TargetWins) => fb.clone(),
                    (true, true, Policy::NewestWins) if a_newer => fa.clone(),
                    (true, true, Policy::NewestWins) => fb.clone(),
                    (true, true, Policy::FieldMerge) => FIELDS
                        .iter()
                        .map(|f| {
                            let (va, vb, v0) = (fa.get(*f), fb.get(*f), base.get(*f));
                            let v = match (same_value(va, v0), same_value(vb, v0)) {
                                (true, true) => v0,
                                (false, true) => va,
                                (true, false) => vb,
                                (false, false) if a_newer => va,
                                (false, false) => vb,
                            };
                            (f.to_string(), v.cloned().unwrap_or(Value::Null))
                        })
                        .collect(),
                }
            }
            (Some(_), Some(_), None) => panic!("key {key} created on both sides"),
            (None, None, _) => unreachable!(),
        };
        out.insert(key.clone(), want);
    }
    out
}

fn check(sc: Scenario) -> Result<(), TestCaseError> {
    let world = World::shared(sc.seed);
    let mut sim = Sim {
        a: MemSide::new(SideId::A, world.clone(), sc.resolution.0),
        b: MemSide::new(SideId::B, world.clone(), sc.resolution.1),
        ledger: MemLedger::new(world.clone()),
        cfg: Config {
            policy: sc.policy,
            propagate_deletes: false,
            create_missing: true,
            skip_private: true,
        },
        keys: 0,
        by_hand: Vec::new(),
    };
    let mut base: BTreeMap<String, Fields> = BTreeMap::new();
    for (n, round) in sc.rounds.iter().enumerate() {
        world.lock().unwrap().clock += round.advance.0;
        for e in &round.edits {
            sim.apply(e);
        }
        let want = expected(
            sc.policy,
            &base,
            &sim.contents(SideId::A),
            &sim.contents(SideId::B),
        );
        world.lock().unwrap().clock += round.advance.1;
        for f in &round.attempts {
            sim.run(*f);
        }
        let (report, ok, _) = sim.run(Faults::default());
        prop_assert!(
            ok && report.failures.is_empty(),
            "round {n}: a clean run failed: {report:?}"
        );
        let (quiet, ok, writes) = sim.run(Faults::default());
        prop_assert!(ok, "round {n}: the second clean run failed");
        prop_assert_eq!(writes, 0, "round {}: echo writes: {:?}", n, quiet.counts);
        let (ca, cb) = (sim.contents(SideId::A), sim.contents(SideId::B));
        for (s, side) in [(SideId::A, &sim.a), (SideId::B, &sim.b)] {
            let dup = side.by_key().into_iter().find(|(_, ids)| ids.len() > 1);
            prop_assert!(dup.is_none(), "round {n}: {s} holds a key twice: {dup:?}");
        }
        prop_assert_eq!(
            ca.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "round {} lost a record on A",
            n
        );
        prop_assert_eq!(
            cb.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "round {} lost a record on B",
            n
        );
        for (key, w) in &want {
            prop_assert!(
                same_content(&ca[key].0, w),
                "round {n} key {key}: A has {:?}, want {w:?}",
                ca[key].0
            );
            prop_assert!(
                same_content(&cb[key].0, w),
                "round {n} key {key}: B has {:?}, want {w:?}",
                cb[key].0
            );
        }
        prop_assert_eq!(
            sim.ledger.links.len(),
            want.len(),
            "round {}: one link per record",
            n
        );
        for (s, id) in &sim.by_hand {
            let side = if *s == SideId::A { &sim.a } else { &sim.b };
            let own = side.records[id].fields.get(&side.own_field());
            prop_assert_eq!(
                own,
                Some(&Value::String("n".into())),
                "a field the hub does not map was touched"
            );
        }
        base = want;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn two_way_runs_converge_without_loss_echo_or_rollback(sc in scenario()) {
        check(sc)?;
    }
}
