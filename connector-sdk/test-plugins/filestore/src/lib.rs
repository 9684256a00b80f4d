//! `filestore`: a test connector whose objects are JSON files in the directory named by the
//! `path` setting. Deterministic and inspectable, so engine tests can edit either side between
//! runs, kill runs at any point, and check every record afterwards. Not for production use.
//!
//! Objects: `companies` (name unique, phone, address, rank) and `people` (name, company,
//! email, phone). A record whose `confidential` field is "1" is private. Reads are incremental
//! by (modified, id); writes support upserts by id or by an exact match key, and deletes
//! (tombstones). The setting `fail_first_writes` makes the first N write calls answer
//! "rate limited" (for retry tests). A `rank` other than A, B or C is refused as invalid data
//! naming the field (for tests of what a refused value looks like).

pub mod store;

use connector_sdk::*;
use serde_json::{json, Value};
use std::path::PathBuf;

#[derive(Default)]
pub struct FileStore {
    /// The object file the last read parsed.
    reads: store::ReadCache,
}

/// An object: id, Japanese name, and fields as (name, unique).
struct ObjectDef {
    id: &'static str,
    ja: &'static str,
    fields: &'static [(&'static str, bool)],
}

const OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        id: "companies",
        ja: "会社",
        fields: &[
            ("name", true),
            ("phone", false),
            ("address", false),
            ("rank", false),
            ("confidential", false),
        ],
    },
    ObjectDef {
        id: "people",
        ja: "担当者",
        fields: &[
            ("name", true),
            ("company", false),
            ("email", false),
            ("phone", false),
            ("confidential", false),
        ],
    },
];

fn dir(conn: &Connection) -> Result<PathBuf, ConnectorError> {
    conn.require_setting("path").map(PathBuf::from)
}

fn io(e: std::io::Error) -> ConnectorError {
    ConnectorError::new(ErrorKind::Transient, format!("file store: {e}"))
}

fn schema(object: &str) -> Result<&'static ObjectDef, ConnectorError> {
    OBJECTS.iter().find(|o| o.id == object).ok_or_else(|| {
        ConnectorError::new(ErrorKind::NotFound, format!("no object '{object}'"))
            .with_ja(format!("オブジェクト「{object}」はありません"))
    })
}

fn stamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

fn to_record(id: u64, r: &store::StoredRecord) -> Record {
    Record {
        id: id.to_string(),
        version: Some(r.version.to_string()),
        modified_at: Some(stamp(r.modified)),
        private: r.fields.get("confidential").and_then(Value::as_str) == Some("1"),
        deleted: r.deleted,
        fields: r.fields.clone(),
    }
}

impl Connector for FileStore {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "filestore".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            name: Text::new("ファイルストア（テスト用）", "File store (for tests)"),
            description: Text::new(
                "JSON ファイルにレコードを保存するテスト用コネクタ",
                "Test connector keeping records in JSON files",
            ),
            auth: AuthSpec::None,
            settings: vec![
                SettingField {
                    key: "path".into(),
                    label: Text::new("保存先フォルダ", "Folder"),
                    kind: SettingKind::Path,
                    required: true,
                    pattern: None,
                    help: None,
                    default: None,
                    endpoint: false,
                },
                SettingField {
                    key: "fail_first_writes".into(),
                    label: Text::new(
                        "最初に失敗させる書き込み回数（テスト用）",
                        "Fail the first N writes (tests)",
                    ),
                    kind: SettingKind::Number,
                    required: false,
                    pattern: None,
                    help: None,
                    default: None,
                    endpoint: false,
                },
                SettingField {
                    key: "write_delay_ms".into(),
                    label: Text::new(
                        "書き込みごとの待ち時間（ミリ秒、テスト用）",
                        "Wait before each write, ms (tests)",
                    ),
                    kind: SettingKind::Number,
                    required: false,
                    pattern: None,
                    help: None,
                    default: None,
                    endpoint: false,
                },
            ],
            credentials: vec![],
            credentials_one_of: Vec::new(),
            registration_number_pattern: None,
            limits: Limits {
                read_page_size: 50,
                write_batch_size: 20,
                max_concurrency: 2,
                requests_per_second: None,
                daily_quota: None,
            },
            actions: vec![],
            sandbox: vec![],
        }
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let d = dir(conn)?;
        std::fs::create_dir_all(&d).map_err(io)?;
        Ok(CheckResult {
            account: format!("folder {}", d.display()),
        })
    }

    fn objects(&self, _conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        Ok(OBJECTS
            .iter()
            .map(|ObjectDef { id, ja, fields }| ObjectSchema {
                title_field: Some("name".into()),
                // Fictional (`.invalid`): the file store has no UI, but tests see the link.
                record_url: Some(format!("https://filestore.invalid/{id}/{{id}}")),
                read_options: vec![],
                id: id.to_string(),
                name: Text::new(*ja, *id),
                fields: fields
                    .iter()
                    .map(|(f, unique)| FieldSchema {
                        id: f.to_string(),
                        label: f.to_string(),
                        field_type: FieldType::Text,
                        required: *unique,
                        unique: *unique,
                        read_only: false,
                        options: vec![],
                        lookup: None,
                    })
                    .collect(),
                capabilities: Capabilities {
                    read: true,
                    create: true,
                    update: true,
                    delete: true,
                    incremental: true,
                    private_records: true,
                    files: false,
                },
            })
            .collect())
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        schema(&req.object)?;
        let f = store::snapshot(&dir(conn)?, &req.object, &self.reads).map_err(io)?;
        let (after_m, after_id) = match &req.cursor {
            Some(c) => {
                let v: Value = serde_json::from_str(c)
                    .map_err(|_| ConnectorError::new(ErrorKind::InvalidData, "bad cursor"))?;
                (v["m"].as_i64().unwrap_or(0), v["id"].as_u64().unwrap_or(0))
            }
            None => {
                let since = req
                    .since
                    .as_deref()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.timestamp_millis());
                (since.unwrap_or(0), 0)
            }
        };
        let mut all: Vec<(i64, u64)> = f
            .records
            .iter()
            .map(|(id, r)| (r.modified, *id))
            .filter(|k| *k > (after_m, after_id))
            .collect();
        all.sort();
        let total = req.count.then_some(all.len() as u64);
        let size = req.page_size.unwrap_or(50).clamp(1, 50) as usize;
        let has_more = all.len() > size;
        all.truncate(size);
        let records: Vec<Record> = all
            .iter()
            .map(|(_, id)| to_record(*id, &f.records[id]))
            .collect();
        let next = all
            .last()
            .map(|(m, id)| json!({"m": m, "id": id}).to_string())
            .or_else(|| req.cursor.clone());
        Ok(ReadPage {
            records,
            next_cursor: next,
            has_more,
            issues: Vec::new(),
            total,
            ..Default::default()
        })
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let fields = schema(&req.object)?.fields;
        let d = dir(conn)?;
        // A slow system, so that a run lasts long enough to watch (live progress tests).
        if let Some(ms) = conn
            .setting("write_delay_ms")
            .and_then(|v| v.parse::<u64>().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms.min(10_000)));
        }
        if let Some(n) = conn
            .setting("fail_first_writes")
            .and_then(|v| v.parse::<i64>().ok())
        {
            let mut counter = store::open(&d, "_writes").map_err(io)?;
            counter.data.clock += 1;
            counter.save().map_err(io)?;
            if counter.data.clock <= n {
                return Err(ConnectorError::new(
                    ErrorKind::RateLimited,
                    "injected: too many requests",
                )
                .with_code("injected")
                .with_retry_after_ms(10));
            }
        }
        let mut f = store::open(&d, &req.object).map_err(io)?;
        let mut out = Vec::new();
        for op in &req.ops {
            out.push(apply(&mut f.data, fields, op));
        }
        f.save().map_err(io)?;
        Ok(out)
    }
}

fn result(
    op: &WriteOp,
    outcome: WriteOutcome,
    id: Option<u64>,
    rec: Option<&store::StoredRecord>,
    error: Option<ConnectorError>,
) -> WriteResult {
    WriteResult {
        op_id: op.op_id.clone(),
        outcome,
        id: id.map(|i| i.to_string()),
        version: rec.map(|r| r.version.to_string()),
        modified_at: rec.map(|r| stamp(r.modified)),
        error,
    }
}

fn apply(f: &mut store::ObjectFile, fields: &[(&str, bool)], op: &WriteOp) -> WriteResult {
    if let Some(unknown) = op
        .fields
        .keys()
        .find(|k| !fields.iter().any(|(f, _)| f == k))
    {
        let e = ConnectorError::new(ErrorKind::InvalidData, format!("unknown field '{unknown}'"))
            .with_field(unknown.clone())
            .with_ja(format!("項目「{unknown}」はありません"));
        return result(op, WriteOutcome::Error, None, None, Some(e));
    }
    if let Some(rank) = op.fields.get("rank").and_then(Value::as_str) {
        if !rank.is_empty() && !["A", "B", "C"].contains(&rank) {
            let e = ConnectorError::new(
                ErrorKind::InvalidData,
                format!("rank must be A, B or C: '{rank}'"),
            )
            .with_field("rank")
            .with_ja("ランクはA・B・Cのいずれかです");
            return result(op, WriteOutcome::Error, None, None, Some(e));
        }
    }
    let found = match (&op.id, &op.match_key) {
        (Some(id), _) => id
            .parse::<u64>()
            .ok()
            .filter(|i| f.records.get(i).is_some_and(|r| !r.deleted)),
        (None, Some(k)) => f
            .records
            .iter()
            .find(|(_, r)| !r.deleted && r.fields.get(&k.field) == Some(&k.value))
            .map(|(i, _)| *i),
        _ => None,
    };
    let not_found = || {
        ConnectorError::new(ErrorKind::NotFound, "no such record")
            .with_ja("レコードが見つかりません")
    };
    match (op.action, found) {
        (WriteAction::Delete, Some(id)) => {
            let m = f.tick();
            let r = f.records.get_mut(&id).map(|r| {
                r.deleted = true;
                r.version += 1;
                r.modified = m;
                r.clone()
            });
            result(op, WriteOutcome::Deleted, Some(id), r.as_ref(), None)
        }
        (WriteAction::Delete, None) => result(op, WriteOutcome::Deleted, None, None, None),
        (WriteAction::Create, _) | (WriteAction::Upsert, None) if op.id.is_none() => {
            let id = f.next_id;
            f.next_id += 1;
            let m = f.tick();
            let r = store::StoredRecord {
                version: 1,
                modified: m,
                deleted: false,
                fields: op.fields.clone(),
            };
            f.records.insert(id, r.clone());
            result(op, WriteOutcome::Created, Some(id), Some(&r), None)
        }
        (_, Some(id)) => {
            let current = f.records[&id].clone();
            if op
                .expected_version
                .as_deref()
                .is_some_and(|v| v != current.version.to_string())
            {
                return result(op, WriteOutcome::Conflict, Some(id), Some(&current), None);
            }
            let mut merged = current.fields.clone();
            for (k, v) in &op.fields {
                merged.insert(k.clone(), v.clone());
            }
            if merged == current.fields {
                return result(op, WriteOutcome::Unchanged, Some(id), Some(&current), None);
            }
            let m = f.tick();
            let r = store::StoredRecord {
                version: current.version + 1,
                modified: m,
                deleted: false,
                fields: merged,
            };
            f.records.insert(id, r.clone());
            result(op, WriteOutcome::Updated, Some(id), Some(&r), None)
        }
        _ => result(op, WriteOutcome::Error, None, None, Some(not_found())),
    }
}

connector_sdk::export_connector!(FileStore::default());
