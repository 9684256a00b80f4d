//! Named cases of the two-way reconcile over in-memory sides: the ones a user reported or
//! would check by hand.

mod memory;

use connector_sdk::{ConnectorError, ErrorKind, Fields, WriteOutcome, WriteResult};
use hub_engine::run::{prepare, run};
use hub_engine::{Ambiguity, Config, EngineError, Failure, Policy, Report, SideId};
use memory::{Faults, MemLedger, MemSide, Resolution, World};
use serde_json::{json, Value};

fn fields(v: Value) -> Fields {
    serde_json::from_value(v).expect("an object")
}

fn cfg(policy: Policy) -> Config {
    Config {
        policy,
        propagate_deletes: false,
        create_missing: true,
        skip_private: true,
    }
}

struct Setup {
    a: MemSide,
    b: MemSide,
    ledger: MemLedger,
}

fn setup(resolution: Resolution) -> Setup {
    let world = World::shared(7);
    Setup {
        a: MemSide::new(SideId::A, world.clone(), resolution),
        b: MemSide::new(SideId::B, world.clone(), resolution),
        ledger: MemLedger::new(world),
    }
}

impl Setup {
    fn run(&mut self, policy: Policy) -> Report {
        self.a.world.lock().unwrap().start_run(Faults::default());
        let mut report = Report::default();
        let outcome = futures::executor::block_on(run(
            &mut self.a,
            &mut self.b,
            &mut self.ledger,
            &cfg(policy),
            &mut report,
        ));
        assert!(outcome.is_ok(), "{outcome:?}");
        report
    }

    fn only_b(&self) -> String {
        self.b
            .records
            .keys()
            .next()
            .cloned()
            .expect("a record on B")
    }
}

#[test]
fn an_edit_in_the_same_tick_as_the_hub_s_write_is_not_lost_whatever_the_stamps() {
    for resolution in [Resolution::Second, Resolution::Minute, Resolution::None] {
        let mut s = setup(resolution);
        let a_id = s.a.create_by_hand(
            &fields(json!({"key": "k1", "name": "Sato", "city": "Osaka"})),
            "n",
        );
        assert_eq!(s.run(Policy::FieldMerge).counts.created, 1);
        // Same clock: B's version is the one the hub's write left.
        let b_id = s.only_b();
        let stamp_before = s.b.get(&b_id).and_then(|r| r.version);
        s.b.edit_by_hand(&b_id, "city", json!("Kyoto"));
        assert_eq!(s.b.get(&b_id).and_then(|r| r.version), stamp_before);
        let report = s.run(Policy::FieldMerge);
        assert_eq!(report.counts.updated, 1, "{resolution:?}: {report:?}");
        let a = s.a.get(&a_id).expect("A's record");
        assert_eq!(a.fields["a_city"], json!("Kyoto"), "{resolution:?}");
        let quiet = s.run(Policy::FieldMerge);
        assert_eq!(quiet.counts.created + quiet.counts.updated, 0, "{quiet:?}");
    }
}

#[test]
fn field_merge_keeps_both_sides_edits_of_different_fields() {
    let mut s = setup(Resolution::Second);
    let a_id = s.a.create_by_hand(
        &fields(json!({"key": "k1", "name": "Sato", "city": "Osaka"})),
        "n",
    );
    s.run(Policy::FieldMerge);
    let b_id = s.only_b();
    s.a.world.lock().unwrap().clock += 5;
    s.a.edit_by_hand(&a_id, "name", json!("Suzuki"));
    s.b.edit_by_hand(&b_id, "city", json!("Nagoya"));
    s.run(Policy::FieldMerge);
    for (side, id) in [(&s.a, &a_id), (&s.b, &b_id)] {
        let r = side.get(id).expect("record");
        assert_eq!(r.fields[&side.field("name")], json!("Suzuki"));
        assert_eq!(r.fields[&side.field("city")], json!("Nagoya"));
    }
}

#[test]
fn a_preview_plans_the_writes_and_writes_nothing() {
    let mut s = setup(Resolution::Second);
    s.a.create_by_hand(&fields(json!({"key": "k1", "name": "Sato"})), "n");
    s.b.create_by_hand(&fields(json!({"key": "k2", "name": "Ito"})), "n");
    let mut report = Report::default();
    let prepared = futures::executor::block_on(prepare(
        &mut s.a,
        &mut s.b,
        &mut s.ledger,
        &cfg(Policy::SourceWins),
        &mut report,
    ))
    .expect("prepared");
    let planned: Vec<SideId> = prepared
        .plan
        .writes
        .iter()
        .flatten()
        .map(|w| w.side)
        .collect();
    assert_eq!(planned, vec![SideId::A, SideId::B]);
    assert_eq!((s.a.records.len(), s.b.records.len()), (1, 1));
    assert!(s.ledger.links.is_empty() && s.ledger.commits == 0);
}

#[test]
fn a_refusal_that_may_pass_keeps_the_cursors_and_one_that_cannot_does_not() {
    let refused = |kind| Failure::Refused {
        label: "1".into(),
        side: SideId::B,
        result: WriteResult {
            op_id: "b0".into(),
            outcome: WriteOutcome::Error,
            id: None,
            version: None,
            modified_at: None,
            error: Some(ConnectorError::new(kind, "refused")),
        },
    };
    assert!(refused(ErrorKind::Transient).may_pass());
    assert!(!refused(ErrorKind::InvalidData).may_pass());
    let down = EngineError::connector(
        SideId::A,
        ConnectorError::new(ErrorKind::RateLimited, "429"),
    );
    assert!(down.may_pass());
    assert_eq!(down.to_string(), "source: 429 (rate_limited)");
    let settings = EngineError::connector(
        SideId::B,
        ConnectorError::new(ErrorKind::InvalidSettings, "unknown app"),
    );
    assert!(!settings.may_pass());

    // A run whose writes were refused (transiently) keeps its cursors: the record is read again.
    let mut s = setup(Resolution::Second);
    s.a.create_by_hand(&fields(json!({"key": "k1", "name": "Sato"})), "n");
    s.a.world.lock().unwrap().start_run(Faults {
        refuse_pct: 100,
        ..Faults::default()
    });
    let mut report = Report::default();
    let ok = futures::executor::block_on(run(
        &mut s.a,
        &mut s.b,
        &mut s.ledger,
        &cfg(Policy::SourceWins),
        &mut report,
    ));
    assert!(ok.is_ok());
    assert_eq!(report.counts.failed, 1);
    assert_eq!(s.ledger.cursors, [None, None]);
    assert_eq!(s.run(Policy::SourceWins).counts.created, 1);
    assert_eq!(s.b.records.len(), 1);
}

#[test]
fn a_run_over_sendable_sides_is_sendable() {
    fn sendable<T: Send>(_: &T) {}
    let mut s = setup(Resolution::Second);
    let mut report = Report::default();
    let c = cfg(Policy::SourceWins);
    let fut = run(&mut s.a, &mut s.b, &mut s.ledger, &c, &mut report);
    sendable(&fut);
}

#[test]
fn a_deleted_linked_record_deletes_its_partner_only_when_the_flow_says_so() {
    for propagate in [false, true] {
        let mut s = setup(Resolution::Second);
        let a_id =
            s.a.create_by_hand(&fields(json!({"key": "k1", "name": "Sato"})), "n");
        s.run(Policy::SourceWins);
        s.a.delete_by_hand(&a_id);
        s.a.world.lock().unwrap().start_run(Faults::default());
        let mut report = Report::default();
        let c = Config {
            propagate_deletes: propagate,
            ..cfg(Policy::SourceWins)
        };
        let ok =
            futures::executor::block_on(run(&mut s.a, &mut s.b, &mut s.ledger, &c, &mut report));
        assert!(ok.is_ok(), "{ok:?}");
        assert_eq!(
            s.b.live(),
            usize::from(!propagate),
            "propagate {propagate}: {report:?}"
        );
        assert_eq!(s.ledger.links.len(), usize::from(!propagate));
        assert_eq!(report.counts.skipped, i64::from(!propagate));
    }
}

#[test]
fn a_key_with_several_partners_or_a_taken_partner_is_reported_never_guessed() {
    let mut s = setup(Resolution::Second);
    s.b.create_by_hand(&fields(json!({"key": "k1", "name": "Sato"})), "n");
    s.b.create_by_hand(&fields(json!({"key": "k1", "name": "Sato Co."})), "n");
    s.a.create_by_hand(&fields(json!({"key": "k1", "name": "Sato"})), "n");
    s.a.create_by_hand(&fields(json!({"key": "k2", "name": "Ito"})), "n");
    s.a.create_by_hand(&fields(json!({"key": "k2", "name": "Ito KK"})), "n");
    s.b.create_by_hand(&fields(json!({"key": "k2", "name": "Ito"})), "n");
    let report = s.run(Policy::SourceWins);
    let mut found: Vec<(String, Ambiguity)> = report
        .failures
        .iter()
        .filter_map(|f| match f {
            Failure::Ambiguous { label, found, .. } => Some((label.clone(), found.clone())),
            _ => None,
        })
        .collect();
    found.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(
        found,
        vec![
            (
                "A1".to_string(),
                Ambiguity::Several(vec!["B1".into(), "B2".into()])
            ),
            ("A3".to_string(), Ambiguity::Taken("B3".into())),
            ("target:B1".to_string(), Ambiguity::Taken("A1".into())),
            ("target:B2".to_string(), Ambiguity::Taken("A1".into())),
        ]
    );
    // Nothing is guessed: the k1 records stay apart, A2 and B3 (the first of k2) are paired.
    assert_eq!(s.ledger.links.len(), 1);
    assert_eq!((s.a.live(), s.b.live()), (3, 3));
}
