//! `good`: a well-behaved test connector over an in-memory store (see [`store`]), used by the
//! hub's plugin-boundary tests and as the conformance kit's reference subject.
//!
//! - objects `contacts` (private when `confidential` is "1") and `companies`, 12 records each;
//! - `read` pages of at most 10 records in change order; the cursor `seq:N` is a watermark;
//! - `write` upserts by id or match key, reports `unchanged`, refuses unknown fields per op;
//! - credential `api_token`: "expired" answers `auth_expired`, "wrong" answers `auth_failed`;
//! - setting `tenant` separates stores; setting `misbehave` (see [`misbehave`]) breaks `read`.

pub mod misbehave;
pub mod objects;
pub mod store;
mod write;

use connector_sdk::*;

pub const PAGE_SIZE: u32 = 10;
pub const BATCH_SIZE: u32 = 20;

pub struct Good;

fn authorize(conn: &Connection) -> Result<String, ConnectorError> {
    let token = conn.require_credential("api_token")?;
    match token.expose() {
        "expired" => Err(ConnectorError::new(
            ErrorKind::AuthExpired,
            "the access token has expired",
        )
        .with_code("token_expired")
        .with_ja("アクセストークンの有効期限が切れています")),
        "wrong" => Err(
            ConnectorError::new(ErrorKind::AuthFailed, "the API token was refused")
                .with_ja("API トークンが正しくありません"),
        ),
        _ => Ok(conn.setting("tenant").unwrap_or_else(|| "default".into())),
    }
}

fn object(id: &str) -> Result<&'static objects::ObjectDef, ConnectorError> {
    objects::find(id).ok_or_else(|| {
        ConnectorError::new(ErrorKind::NotFound, format!("no object '{id}'"))
            .with_ja(format!("オブジェクト「{id}」はありません"))
    })
}

fn parse_cursor(cursor: Option<&str>) -> Result<u64, ConnectorError> {
    match cursor {
        None => Ok(0),
        Some(c) => c
            .strip_prefix("seq:")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!("'{c}' is not a cursor of this connector"),
                )
            }),
    }
}

impl Connector for Good {
    fn action(
        &self,
        conn: &Connection,
        action: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, ConnectorError> {
        self.run_action(conn, action, input)
    }

    fn manifest(&self) -> Manifest {
        Manifest {
            id: "good".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            name: Text::new("テスト用コネクタ", "Test connector"),
            description: Text::new(
                "メモリ上のデータを読み書きするテスト用コネクタ",
                "Test connector over in-memory data",
            ),
            auth: AuthSpec::ApiToken,
            settings: vec![
                SettingField {
                key: "tenant".into(),
                label: Text::new("テナント", "Tenant"),
                kind: SettingKind::Text,
                required: false,
                pattern: None,
                help: None,
                default: Some("default".into()),
                endpoint: false,
            },
            SettingField {
                key: "misbehave".into(),
                label: Text::new("異常動作（テスト用）", "Misbehave (tests)"),
                kind: SettingKind::Text,
                required: false,
                pattern: None,
                help: Some(Text::new(
                    "panic / abort / segfault / hang / oom / print: 読み込み時にわざと異常終了します",
                    "panic / abort / segfault / hang / oom / print: breaks on read on purpose",
                )),
                default: None,
                endpoint: false,
            }],
            credentials: vec![SettingField {
                key: "api_token".into(),
                label: Text::new("API トークン", "API token"),
                kind: SettingKind::Secret,
                required: true,
                pattern: None,
                help: None,
                default: None,
                endpoint: false,
            }],
            credentials_one_of: Vec::new(),
            registration_number_pattern: None,
            limits: Limits {
                read_page_size: PAGE_SIZE,
                write_batch_size: BATCH_SIZE,
                max_concurrency: 1,
                requests_per_second: None,
                daily_quota: None,
            },
            actions: vec![
                ActionSpec {
                    id: "set_token".into(),
                    label: Text::new("トークンの変更", "Change token"),
                    help: None,
                    inputs: vec![SettingField {
                        key: "token".into(),
                        label: Text::new("新しいトークン", "New token"),
                        kind: SettingKind::Secret,
                        required: true,
                        pattern: None,
                        help: None,
                        default: None,
                        endpoint: false,
                    }],
                    hidden: false,
                },
                ActionSpec {
                    id: "tables".into(),
                    label: Text::new("テーブル一覧", "Tables"),
                    help: None,
                    inputs: vec![],
                    hidden: false,
                },
            ],
            sandbox: vec![],
        }
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let tenant = authorize(conn)?;
        Ok(CheckResult {
            account: format!("tenant {tenant}"),
        })
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        authorize(conn)?;
        Ok(objects::OBJECTS.iter().map(|o| o.schema()).collect())
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        misbehave::on_read(conn)?;
        let tenant = authorize(conn)?;
        let def = object(&req.object)?;
        let after = parse_cursor(req.cursor.as_deref())?;
        let limit = req.page_size.unwrap_or(PAGE_SIZE).clamp(1, PAGE_SIZE) as usize;
        store::with_tenant(&tenant, |t| {
            let Some(table) = t.tables.get(def.id) else {
                return Ok(ReadPage::default());
            };
            let mut changed: Vec<&store::Stored> = table
                .records
                .values()
                .filter(|r| r.seq > after)
                .filter(|r| req.since.as_ref().is_none_or(|s| r.modified_at() > *s))
                .collect();
            changed.sort_by_key(|r| r.seq);
            let has_more = changed.len() > limit;
            changed.truncate(limit);
            let last = changed.last().map(|r| r.seq).unwrap_or(after);
            let records = changed
                .into_iter()
                .map(|r| {
                    let mut fields = r.fields.clone();
                    if let Some(keep) = &req.fields {
                        fields.retain(|k, _| keep.contains(k));
                    }
                    Record {
                        id: r.id.to_string(),
                        version: Some(r.version.to_string()),
                        modified_at: Some(r.modified_at()),
                        private: r.private(),
                        deleted: r.deleted,
                        fields,
                    }
                })
                .collect();
            Ok(ReadPage {
                records,
                next_cursor: Some(format!("seq:{last}")),
                has_more,
                issues: Vec::new(),
                ..Default::default()
            })
        })
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let tenant = authorize(conn)?;
        let def = object(&req.object)?;
        if req.ops.len() > BATCH_SIZE as usize {
            return Err(ConnectorError::new(
                ErrorKind::InvalidData,
                format!(
                    "at most {BATCH_SIZE} operations per write, got {}",
                    req.ops.len()
                ),
            ));
        }
        Ok(store::with_tenant(&tenant, |t| {
            req.ops.iter().map(|op| write::apply(t, def, op)).collect()
        }))
    }
}

impl Good {
    /// `set_token` hands a new token to the hub to store; `tables` answers rows for a table.
    fn run_action(
        &self,
        conn: &Connection,
        action: &str,
        input: &serde_json::Value,
    ) -> Result<serde_json::Value, ConnectorError> {
        match action {
            "set_token" => {
                let token = input.get("token").and_then(|t| t.as_str()).unwrap_or("");
                if token.is_empty() || token == "wrong" {
                    return Err(ConnectorError::new(
                        ErrorKind::InvalidData,
                        "the new token was refused",
                    )
                    .with_ja("新しいトークンは使えません"));
                }
                Ok(serde_json::json!({
                    "message": {"ja": "トークンを変更しました", "en": "Token changed"},
                    "store_credentials": {"api_token": token},
                }))
            }
            "tables" => {
                let tenant = authorize(conn)?;
                let rows: Vec<serde_json::Value> = objects::OBJECTS
                    .iter()
                    .map(|o| {
                        let n = store::with_tenant(&tenant, |t| {
                            t.tables.get(o.id).map_or(0, |tb| tb.records.len())
                        });
                        serde_json::json!({"object": o.id, "records": n})
                    })
                    .collect();
                Ok(serde_json::json!({
                    "columns": [
                        {"key": "object", "label": {"ja": "オブジェクト", "en": "Object"}},
                        {"key": "records", "label": {"ja": "件数", "en": "Records"}},
                    ],
                    "rows": rows,
                }))
            }
            other => Err(ConnectorError::new(
                ErrorKind::Unsupported,
                format!("no action '{other}'"),
            )),
        }
    }
}

export_connector!(Good);
