//! Named cases of one-way sync over in-memory sides: A is the source, B the target.

mod memory;

use connector_sdk::{Fields, WriteOp};
use hub_engine::oneway::plan::Content;
use hub_engine::oneway::{run, Hooks, Mode, Options, PageSeen, Plain};
use hub_engine::{Ambiguity, EngineError, Failure, Report, SideId};
use memory::{Faults, MemLedger, MemSide, Resolution, World};
use serde_json::{json, Value};

fn fields(v: Value) -> Fields {
    serde_json::from_value(v).expect("an object")
}

fn opts() -> Options {
    Options {
        propagate_deletes: true,
        create_missing: true,
        skip_private: true,
        retry: false,
    }
}

struct Setup {
    a: MemSide,
    b: MemSide,
    ledger: MemLedger,
}

fn setup() -> Setup {
    let world = World::shared(11);
    Setup {
        a: MemSide::new(SideId::A, world.clone(), Resolution::Second),
        b: MemSide::new(SideId::B, world.clone(), Resolution::Second),
        ledger: MemLedger::new(world),
    }
}

/// A preview's hook: keeps the planned writes.
#[derive(Default)]
struct Recorder {
    planned: Vec<(String, WriteOp)>,
}

impl Hooks for Recorder {
    async fn prepare(&mut self, page: PageSeen<'_>) -> Result<Vec<Content>, EngineError> {
        Ok(vec![None; page.records.len()])
    }

    fn planned(&mut self, label: &str, op: &WriteOp, _before: Option<&Fields>) {
        self.planned.push((label.to_string(), op.clone()));
    }
}

/// A hook that refuses the records whose name is `refused`, as the hub refuses a record whose
/// reference no link resolves.
struct Refusing;

impl Hooks for Refusing {
    async fn prepare(&mut self, page: PageSeen<'_>) -> Result<Vec<Content>, EngineError> {
        Ok(page
            .records
            .iter()
            .map(|r| {
                (r.fields.get("a_name") == Some(&json!("refused"))).then(|| {
                    Err(Box::new(Failure::Prepared {
                        label: r.id.clone(),
                        side: SideId::A,
                        code: "lookup_missing".into(),
                        message: "no link".into(),
                    }))
                })
            })
            .collect())
    }
}

impl Setup {
    fn run_with<H: Hooks>(&mut self, hooks: &mut H, faults: Faults, mode: Mode) -> Report {
        self.run_opts(hooks, faults, (&opts(), mode))
    }

    fn run_opts<H: Hooks>(
        &mut self,
        hooks: &mut H,
        faults: Faults,
        how: (&Options, Mode),
    ) -> Report {
        self.a.world.lock().unwrap().start_run(faults);
        let mut report = Report::default();
        let outcome = futures::executor::block_on(run(
            (&mut self.a, &mut self.b),
            &mut self.ledger,
            hooks,
            how,
            &mut report,
        ));
        assert!(outcome.is_ok(), "{outcome:?}");
        report
    }

    /// A run that may fail: its outcome and report.
    fn try_run(&mut self, faults: Faults) -> (Result<(), EngineError>, Report) {
        self.a.world.lock().unwrap().start_run(faults);
        let mut report = Report::default();
        let outcome = futures::executor::block_on(run(
            (&mut self.a, &mut self.b),
            &mut self.ledger,
            &mut Plain,
            (&opts(), Mode::Run),
            &mut report,
        ));
        (outcome, report)
    }

    fn run(&mut self, faults: Faults) -> Report {
        self.run_with(&mut Plain, faults, Mode::Run)
    }

    fn write_calls(&self) -> usize {
        self.a.world.lock().unwrap().write_calls
    }

    /// B's records by `key`, with their name.
    fn names_on_b(&self) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = (self.b.records.values())
            .filter(|s| !s.deleted)
            .map(|s| (s.fields["key"].to_string(), s.fields["name"].clone()))
            .collect();
        out.sort_by(|x, y| x.0.cmp(&y.0));
        out
    }
}

fn person(key: &str, name: &str) -> Fields {
    fields(json!({"key": key, "name": name, "city": "Osaka"}))
}

#[test]
fn a_new_record_is_created_once_and_linked() {
    let mut s = setup();
    let a1 = s.a.create_by_hand(&person("k1", "Sato"), "n");
    let report = s.run(Faults::default());
    assert_eq!(report.counts.created, 1, "{report:?}");
    assert_eq!(s.names_on_b(), vec![("\"k1\"".into(), json!("Sato"))]);
    let link = s.ledger.links.get(&a1).expect("linked");
    assert!(s.b.get(link.id(SideId::B)).is_some());
    assert!(s.ledger.cursors[0].is_some(), "the cursor moved");
}

#[test]
fn an_edit_updates_the_linked_record_and_nothing_else() {
    let mut s = setup();
    let a1 = s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.a.create_by_hand(&person("k2", "Ito"), "n");
    s.run(Faults::default());
    let b1 = s.ledger.links[&a1].id(SideId::B).to_string();
    s.a.edit_by_hand(&a1, "name", json!("Sato Jiro"));
    let report = s.run(Faults::default());
    assert_eq!((report.counts.updated, report.counts.created), (1, 0));
    assert_eq!(s.b.get(&b1).unwrap().fields["name"], json!("Sato Jiro"));
    assert_eq!(s.b.live(), 2);
}

#[test]
fn a_run_with_nothing_changed_writes_nothing() {
    let mut s = setup();
    for i in 0..5 {
        s.a.create_by_hand(&person(&format!("k{i}"), "x"), "n");
    }
    s.run(Faults::default());
    // The same records read again (from the start): their content is what the hub wrote.
    s.ledger.cursors = [None, None];
    let report = s.run(Faults::default());
    assert_eq!(report.counts.unchanged, 5, "{report:?}");
    assert_eq!(s.write_calls(), 0);
    // A touch that leaves the mapped content as it was is no change either.
    let a = s.a.records.keys().next().cloned().unwrap();
    s.a.edit_by_hand(&a, "name", json!("x"));
    assert_eq!(s.run(Faults::default()).counts.unchanged, 1);
    assert_eq!(s.write_calls(), 0);
}

#[test]
fn a_refused_write_keeps_the_cursor_and_the_next_run_writes_it() {
    let mut s = setup();
    s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.a.create_by_hand(&person("k2", "Ito"), "n");
    let refuse_all = Faults {
        refuse_pct: 100,
        ..Faults::default()
    };
    let report = s.run(refuse_all);
    assert_eq!(report.counts.failed, 2);
    assert!(report.failures.iter().all(Failure::may_pass));
    assert_eq!(
        s.ledger.cursors[0], None,
        "the cursor stays before the failures"
    );
    assert!(s.ledger.links.is_empty());
    let report = s.run(Faults::default());
    assert_eq!(report.counts.created, 2, "{report:?}");
    assert_eq!(s.b.live(), 2);
}

#[test]
fn a_record_the_hook_refuses_is_failed_and_never_written() {
    let mut s = setup();
    s.a.create_by_hand(&person("k1", "refused"), "n");
    s.a.create_by_hand(&person("k2", "Ito"), "n");
    let report = s.run_with(&mut Refusing, Faults::default(), Mode::Run);
    assert_eq!((report.counts.failed, report.counts.created), (1, 1));
    assert!(!report.failures[0].may_pass());
    assert_eq!(s.b.live(), 1);
}

#[test]
fn a_preview_plans_the_same_writes_and_writes_nothing() {
    let mut s = setup();
    let a1 = s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.run(Faults::default());
    s.a.edit_by_hand(&a1, "name", json!("Sato Jiro"));
    for i in 2..6 {
        s.a.create_by_hand(&person(&format!("k{i}"), "x"), "n");
    }
    let (links, cursors, commits) = (
        s.ledger.links.clone(),
        s.ledger.cursors.clone(),
        s.ledger.commits,
    );
    let mut rec = Recorder::default();
    s.run_with(&mut rec, Faults::default(), Mode::Preview);
    assert_eq!(s.write_calls(), 0);
    assert_eq!(
        (s.ledger.links.clone(), s.ledger.cursors.clone()),
        (links, cursors)
    );
    assert_eq!(s.ledger.commits, commits);
    assert_eq!(rec.planned.len(), 5);
    assert!(rec
        .planned
        .iter()
        .any(|(l, op)| l == &a1 && op.id.is_some()));
    // The run then does what the preview showed.
    let report = s.run(Faults::default());
    assert_eq!((report.counts.updated, report.counts.created), (1, 4));
}

#[test]
fn a_record_matched_by_key_is_updated_and_two_sources_never_share_it() {
    let mut s = setup();
    let b1 = s.b.create_by_hand(&person("k1", "old"), "b-note");
    s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.a.create_by_hand(&person("k1", "Sato too"), "n");
    let report = s.run(Faults::default());
    assert_eq!((report.counts.updated, report.counts.created), (1, 0));
    assert_eq!(report.counts.failed, 1);
    assert!(matches!(
        &report.failures[0],
        Failure::Ambiguous { found: Ambiguity::SharedTarget { target, .. }, .. } if target == &b1
    ));
    assert_eq!(s.b.live(), 1);
    // B's own field is left alone.
    assert_eq!(
        s.b.get(&b1).unwrap().fields["b_private_note"],
        json!("b-note")
    );
}

#[test]
fn a_deleted_source_record_deletes_its_target_and_its_link() {
    let mut s = setup();
    let a1 = s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.run(Faults::default());
    s.a.delete_by_hand(&a1);
    let report = s.run(Faults::default());
    assert_eq!(report.counts.updated, 1, "{report:?}");
    assert_eq!(s.b.live(), 0);
    assert!(s.ledger.links.is_empty());
}

#[test]
fn a_run_stops_at_a_failure_that_may_pass_and_a_retry_reads_on_without_moving_the_cursor() {
    let mut s = setup();
    for i in 0..5 {
        s.a.create_by_hand(&person(&format!("k{i}"), "x"), "n");
    }
    let refuse_all = Faults {
        refuse_pct: 100,
        ..Faults::default()
    };
    // Pages of 3, batches of 2: the ordinary run stops after the first page it wrote.
    let report = s.run(refuse_all);
    assert_eq!(
        (report.counts.read, report.counts.failed),
        (3, 3),
        "{report:?}"
    );
    let retry = Options {
        retry: true,
        ..opts()
    };
    let report = s.run_opts(&mut Plain, refuse_all, (&retry, Mode::Run));
    assert_eq!(
        (report.counts.read, report.counts.failed),
        (5, 5),
        "{report:?}"
    );
    assert_eq!(s.ledger.cursors[0], None);
    // A retry moves no cursor even when everything passes.
    let report = s.run_opts(&mut Plain, Faults::default(), (&retry, Mode::Run));
    assert_eq!(report.counts.created, 5);
    assert_eq!(s.ledger.cursors[0], None);
    assert_eq!(s.run(Faults::default()).counts.unchanged, 5);
}

#[test]
fn a_delete_whose_target_is_already_gone_drops_the_link_and_fails_nothing() {
    let mut s = setup();
    let a1 = s.a.create_by_hand(&person("k1", "Sato"), "n");
    s.run(Faults::default());
    let b1 = s.ledger.links[&a1].id(SideId::B).to_string();
    // A run that deleted it and died before its commit, as far as B is concerned.
    s.b.delete_by_hand(&b1);
    s.a.delete_by_hand(&a1);
    let report = s.run(Faults::default());
    assert_eq!(
        (report.counts.failed, report.counts.unchanged),
        (0, 1),
        "{report:?}"
    );
    assert!(s.ledger.links.is_empty());
}

#[test]
fn a_failed_write_call_keeps_what_the_calls_beside_it_wrote_and_the_next_run_writes_the_rest() {
    let mut s = setup();
    (s.b.batch, s.b.concurrency) = (1, 3);
    let ids: Vec<String> = (1..=6)
        .map(|i| s.a.create_by_hand(&person(&format!("k{i}"), "Sato"), "n"))
        .collect();
    let faults = Faults {
        fail_write_call: Some(2),
        ..Faults::default()
    };
    let (outcome, _) = s.try_run(faults);
    assert!(outcome.is_err(), "the failed call fails the run");
    assert_eq!(
        s.write_calls(),
        3,
        "the first page's three batches were all sent"
    );
    assert_eq!(s.b.live(), 2, "the calls beside the failed one wrote");
    for id in [&ids[0], &ids[2]] {
        assert!(
            s.ledger.links.contains_key(id),
            "{id} was written and linked"
        );
    }
    assert!(!s.ledger.links.contains_key(&ids[1]));
    assert_eq!(
        s.ledger.cursors[0], None,
        "the cursor stays before the failure"
    );
    let report = s.run(Faults::default());
    assert_eq!(report.counts.created, 4, "{report:?}");
    assert_eq!(report.counts.unchanged, 2, "{report:?}");
    assert_eq!(s.b.live(), 6, "each record once on B");
    assert!(ids.iter().all(|id| s.ledger.links.contains_key(id)));
}

#[test]
fn foretold_pages_are_read_together_and_a_wrong_foretelling_loses_no_page() {
    for wrong_pct in [0, 100] {
        let mut s = setup();
        (s.a.page_size, s.a.foretell, s.a.concurrency) = (2, 3, 3);
        let ids: Vec<String> = (1..=11)
            .map(|i| s.a.create_by_hand(&person(&format!("k{i}"), "Sato"), "n"))
            .collect();
        let report = s.run(Faults {
            foretell_wrong_pct: wrong_pct,
            ..Faults::default()
        });
        assert_eq!(report.counts.created, 11, "{wrong_pct}%: {report:?}");
        assert_eq!(s.b.live(), 11, "{wrong_pct}%: each record once on B");
        assert!(ids.iter().all(|id| s.ledger.links.contains_key(id)));
        if wrong_pct == 0 {
            assert_eq!(s.a.reads, 6, "each of the six pages read once");
        } else {
            assert!(
                s.a.reads > 6,
                "pages read past a wrong cursor are read again"
            );
        }
    }
}
