//! The kit against a toy connector, correct and with one fault at a time: each fault must be
//! caught by its check, and only by it.

use serde_json::json;
use std::sync::Mutex;

use super::*;
use crate::error::{ConnectorError, ErrorKind};
use crate::manifest::{AuthSpec, Manifest, Text};
use crate::record::{
    CheckResult as Checked, ReadPage, ReadRequest, Record, WriteOutcome, WriteRequest, WriteResult,
};
use crate::schema::{Capabilities, FieldSchema, FieldType, ObjectSchema};
use crate::secret::Secret;

#[derive(Default, Clone, Copy)]
struct Faults {
    overlap_pages: bool,
    ignore_unknown: bool,
    no_auth_expiry: bool,
    duplicate_upserts: bool,
    never_private: bool,
    restart_on_cursor: bool,
    /// The object names no title field (its records would be shown as bare ids).
    no_title: bool,
    /// The record page is not a web address.
    bad_record_url: bool,
}

struct ToyRec {
    id: u64,
    seq: u64,
    fields: Fields,
}

#[derive(Default)]
struct Toy {
    faults: Faults,
    data: Mutex<(u64, Vec<ToyRec>)>,
}

const FIELDS: &[&str] = &["name", "note", "secret"];

impl Toy {
    fn with(faults: Faults) -> Toy {
        Toy {
            faults,
            data: Mutex::default(),
        }
    }
}

impl Connector for Toy {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "toy".into(),
            version: "0".into(),
            name: Text::new("玩具", "Toy"),
            description: Text::default(),
            auth: AuthSpec::ApiToken,
            settings: vec![],
            credentials: vec![],
            credentials_one_of: Vec::new(),
            registration_number_pattern: None,
            limits: Default::default(),
            actions: vec![],
            sandbox: vec![],
        }
    }

    fn check(&self, _: &Connection) -> Result<Checked, ConnectorError> {
        Ok(Checked {
            account: "toy".into(),
        })
    }

    fn objects(&self, _: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        Ok(vec![ObjectSchema {
            title_field: (!self.faults.no_title).then(|| "name".into()),
            record_url: Some(match self.faults.bad_record_url {
                true => "javascript:alert({id})".into(),
                false => "https://toy.example/items/{id}".into(),
            }),
            read_options: vec![],
            id: "items".into(),
            name: Text::new("品目", "Items"),
            fields: FIELDS
                .iter()
                .map(|f| FieldSchema {
                    id: f.to_string(),
                    label: f.to_string(),
                    field_type: FieldType::Text,
                    required: *f == "name",
                    unique: *f == "name",
                    read_only: false,
                    options: vec![],
                    lookup: None,
                })
                .collect(),
            capabilities: Capabilities {
                read: true,
                create: true,
                update: true,
                delete: false,
                incremental: true,
                private_records: true,
                files: false,
            },
        }])
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        if conn.credential("token").map(Secret::expose) == Some("expired")
            && !self.faults.no_auth_expiry
        {
            return Err(ConnectorError::new(ErrorKind::AuthExpired, "expired"));
        }
        let mut after: u64 = req
            .cursor
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        if self.faults.restart_on_cursor {
            after = 0;
        }
        let data = self.data.lock().unwrap();
        let mut recs: Vec<&ToyRec> = data
            .1
            .iter()
            .filter(|r| {
                if self.faults.overlap_pages && after > 0 {
                    r.seq >= after
                } else {
                    r.seq > after
                }
            })
            .collect();
        recs.sort_by_key(|r| r.seq);
        let size = req.page_size.unwrap_or(100) as usize;
        let has_more = recs.len() > size;
        recs.truncate(size);
        let last = recs.last().map(|r| r.seq).unwrap_or(after);
        Ok(ReadPage {
            records: recs
                .iter()
                .map(|r| Record {
                    id: r.id.to_string(),
                    version: Some(r.seq.to_string()),
                    modified_at: None,
                    private: !self.faults.never_private
                        && r.fields.get("secret") == Some(&json!("1")),
                    deleted: false,
                    fields: r.fields.clone(),
                })
                .collect(),
            next_cursor: Some(last.to_string()),
            has_more,
            issues: Vec::new(),
            ..Default::default()
        })
    }

    fn write(
        &self,
        _: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let mut data = self.data.lock().unwrap();
        let mut out = vec![];
        for op in &req.ops {
            let mut fields = op.fields.clone();
            if let Some(bad) = fields
                .keys()
                .find(|k| !FIELDS.contains(&k.as_str()))
                .cloned()
            {
                if self.faults.ignore_unknown {
                    fields.remove(&bad);
                } else {
                    out.push(WriteResult {
                        op_id: op.op_id.clone(),
                        outcome: WriteOutcome::Error,
                        id: None,
                        version: None,
                        modified_at: None,
                        error: Some(
                            ConnectorError::new(ErrorKind::InvalidData, "unknown field")
                                .with_field(bad),
                        ),
                    });
                    continue;
                }
            }
            data.0 += 1;
            let seq = data.0;
            let key = op.match_key.as_ref().map(|k| k.value.clone());
            let by_id = op.id.as_ref().and_then(|id| id.parse::<u64>().ok());
            let existing = data.1.iter_mut().find(|r| match by_id {
                Some(id) => r.id == id,
                None => !self.faults.duplicate_upserts && r.fields.get("name") == key.as_ref(),
            });
            let (outcome, id) = match existing {
                Some(r) => {
                    let mut merged = r.fields.clone();
                    merged.extend(fields);
                    let outcome = if r.fields == merged {
                        WriteOutcome::Unchanged
                    } else {
                        r.fields = merged;
                        r.seq = seq;
                        WriteOutcome::Updated
                    };
                    (outcome, r.id)
                }
                None => {
                    data.1.push(ToyRec {
                        id: seq,
                        seq,
                        fields,
                    });
                    (WriteOutcome::Created, seq)
                }
            };
            out.push(WriteResult {
                op_id: op.op_id.clone(),
                outcome,
                id: Some(id.to_string()),
                version: None,
                modified_at: None,
                error: None,
            });
        }
        Ok(out)
    }
}

fn sample(n: u64) -> Fields {
    let mut f = Fields::new();
    f.insert("name".into(), json!(format!("品目 {n}")));
    f.insert("note".into(), json!("適合性テスト"));
    f
}

fn connection() -> Connection {
    let mut c = Connection::default();
    c.credentials.insert("token".into(), Secret::new("ok"));
    c
}

fn suite_for(toy: &Toy) -> Suite<'_> {
    Suite::new(toy, connection(), "items", sample)
        .page_size(3)
        .expire_token(|c| {
            c.credentials.insert("token".into(), Secret::new("expired"));
        })
        .mark_private(|conn, ids| {
            let ops = ids
                .iter()
                .map(|id| crate::record::WriteOp {
                    op_id: format!("private-{id}"),
                    action: crate::record::WriteAction::Update,
                    id: Some(id.clone()),
                    match_key: None,
                    expected_version: None,
                    fields: json!({"secret": "1"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            let req = WriteRequest {
                object: "items".into(),
                ops,
            };
            toy.write(conn, &req).map(|_| ()).map_err(|e| e.to_string())
        })
}

fn run_against(toy: &Toy) -> Report {
    suite_for(toy).run()
}

fn failed(report: &Report) -> Vec<&'static str> {
    report.failures().map(|c| c.name).collect()
}

#[test]
fn a_correct_connector_passes_every_check() {
    let toy = Toy::default();
    let report = run_against(&toy);
    assert!(report.passed(), "{report}");
    for name in ALL_CHECKS {
        assert_eq!(report.outcome(name), Some(&Outcome::Passed), "{report}");
    }
}

#[test]
fn each_fault_is_caught_by_its_check() {
    // Faults in reading also upset the checks that read everything; the others are caught
    // by their own check only.
    let cases: &[(Faults, &[&str], bool)] = &[
        (
            Faults {
                overlap_pages: true,
                ..Default::default()
            },
            &[PAGING_TO_END, CURSOR_RESUME],
            false,
        ),
        (
            Faults {
                restart_on_cursor: true,
                ..Default::default()
            },
            &[PAGING_TO_END, CURSOR_RESUME],
            false,
        ),
        (
            Faults {
                ignore_unknown: true,
                ..Default::default()
            },
            &[UNKNOWN_FIELD],
            true,
        ),
        (
            Faults {
                no_auth_expiry: true,
                ..Default::default()
            },
            &[AUTH_EXPIRED],
            true,
        ),
        (
            Faults {
                duplicate_upserts: true,
                ..Default::default()
            },
            &[UPSERT_IDEMPOTENT],
            true,
        ),
        (
            Faults {
                never_private: true,
                ..Default::default()
            },
            &[PRIVATE_RECORDS],
            true,
        ),
    ];
    for (faults, expected, exact) in cases {
        let report = run_against(&Toy::with(*faults));
        let got = failed(&report);
        if *exact {
            assert_eq!(got, *expected, "{report}");
        } else {
            for name in *expected {
                assert!(got.contains(name), "{name} should fail:\n{report}");
            }
            assert_eq!(report.outcome(SEED), Some(&Outcome::Passed), "{report}");
        }
    }
}

#[test]
fn an_object_must_say_how_its_records_are_named() {
    for faults in [
        Faults {
            no_title: true,
            ..Default::default()
        },
        Faults {
            bad_record_url: true,
            ..Default::default()
        },
    ] {
        let report = run_against(&Toy::with(faults));
        assert_eq!(failed(&report), vec![OBJECT_LISTED], "{report}");
    }
}

#[test]
fn a_record_link_fills_in_the_id_percent_encoded() {
    let url = "https://x.example/k/3/show#record={id}";
    assert_eq!(
        crate::schema::record_link(url, "10").as_deref(),
        Some("https://x.example/k/3/show#record=10")
    );
    assert_eq!(
        crate::schema::record_link(url, "a/b c").as_deref(),
        Some("https://x.example/k/3/show#record=a%2Fb%20c")
    );
    assert_eq!(crate::schema::record_link("https://x.example/", "10"), None);
}

#[test]
fn missing_hooks_skip_their_checks_and_say_so() {
    let toy = Toy::default();
    let report = Suite::new(&toy, connection(), "items", sample).run();
    assert_eq!(
        report.outcome(AUTH_EXPIRED),
        Some(&Outcome::Skipped("no expire_token hook given".into()))
    );
    // No hook and no private record in the data: the capability is not backed by anything.
    assert!(
        matches!(report.outcome(PRIVATE_RECORDS), Some(Outcome::Failed(m)) if m.contains("mark_private")),
        "{report}"
    );
    assert!(report.to_string().contains("SKIP auth_expired"), "{report}");
}

#[test]
fn an_unknown_object_fails_first_and_skips_the_rest() {
    let toy = Toy::default();
    let report = Suite::new(&toy, connection(), "nothing", sample).run();
    assert_eq!(failed(&report), vec![OBJECT_LISTED]);
    assert_eq!(report.checks.len(), ALL_CHECKS.len());
}

#[test]
#[should_panic(expected = "fails conformance checks [\"unknown_field\"]")]
fn assert_conformance_panics_naming_the_failures() {
    let toy = Toy::with(Faults {
        ignore_unknown: true,
        ..Default::default()
    });
    assert_conformance(suite_for(&toy));
}
