//! The route's actions: `receive_file` (an upload from `hub agent watch` or the API) and
//! `import_history` (the CSVデータ取込履歴 table on the connection page).

use base64::Engine as _;
use connector_sdk::{ActionSpec, Connection, SettingField, SettingKind, Text};
use serde_json::{json, Value};
use std::path::Path;

use crate::error::{CsvError, CsvResult};
use crate::format::{format_of, formats};
use crate::history::{History, State};
use crate::import::sha256_hex;
use crate::inbox::{importable_name, plain_name, ObjectDir};

pub const RECEIVE_FILE: &str = "receive_file";
pub const IMPORT_HISTORY: &str = "import_history";

fn input_field(key: &str, ja: &str, en: &str, kind: SettingKind, required: bool) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind,
        required,
        pattern: None,
        help: None,
        default: None,
        endpoint: false,
    }
}

pub fn specs() -> Vec<ActionSpec> {
    vec![
        ActionSpec {
            id: IMPORT_HISTORY.into(),
            label: Text::new("CSV 取込履歴", "CSV import history"),
            help: Some(Text::new(
                "監視フォルダに置かれた CSV の状態（未処理・処理済・エラー）、件数、エラー行を表示します",
                "The CSV files of the watched folder: state (未処理 waiting, 処理済 done, エラー error), rows and row errors",
            )),
            inputs: vec![
                input_field("object", "オブジェクトID（空欄ならすべて）", "Object id (empty: all)", SettingKind::Text, false),
                input_field("limit", "件数", "Rows", SettingKind::Number, false),
            ],
            hidden: false,
        },
        ActionSpec {
            id: RECEIVE_FILE.into(),
            label: Text::new("CSV ファイルの受信", "Receive a CSV file"),
            help: Some(Text::new(
                "hub agent watch などから送られた CSV を監視フォルダに置きます",
                "Puts a CSV sent by hub agent watch (or the API) into the watched folder",
            )),
            inputs: vec![
                input_field("object", "オブジェクトID", "Object id", SettingKind::Text, true),
                input_field("name", "ファイル名", "File name", SettingKind::Text, true),
                input_field("content_base64", "内容（Base64）", "Content (base64)", SettingKind::Text, true),
            ],
            hidden: true,
        },
    ]
}

fn text_input<'a>(input: &'a Value, key: &str) -> CsvResult<&'a str> {
    input
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            CsvError::input(
                key,
                format!("「{key}」を指定してください"),
                format!("'{key}' is required (text)"),
            )
        })
}

pub fn receive_file(root: &Path, conn: &Connection, input: &Value) -> CsvResult<Value> {
    let object = text_input(input, "object")?;
    let format = format_of(conn, object)?;
    let name = text_input(input, "name")?;
    if !plain_name(name) || !importable_name(name) {
        return Err(CsvError::input(
            "name",
            format!("ファイル名「{name}」は使えません。取引先.csv のようにフォルダを含まない .csv か .txt の名前にしてください"),
            format!("file name '{name}' cannot be used: give a plain .csv or .txt name such as 取引先.csv"),
        ));
    }
    let content = base64::engine::general_purpose::STANDARD
        .decode(text_input(input, "content_base64")?.trim())
        .map_err(|e| {
            CsvError::input(
                "content_base64",
                format!("content_base64 が Base64 として読めません: {e}"),
                format!("content_base64 is not base64: {e}"),
            )
        })?;
    if content.is_empty() {
        return Err(CsvError::input(
            "content_base64",
            "ファイルが空です",
            "the file is empty",
        ));
    }
    let dir = ObjectDir::new(root, &format.object);
    let (_, queued) = dir.receive(name, &content)?;
    let (ja, en) = if queued {
        (
            format!(
                "{name} を受け取りました。同じ名前のファイルの取り込みが済んでから取り込みます"
            ),
            format!(
                "{name} received; it waits until the file of the same name before it is imported"
            ),
        )
    } else {
        (
            format!("{name} を受け取りました。次の実行で取り込みます"),
            format!("{name} received; the next run imports it"),
        )
    };
    Ok(json!({
        "object": format.object,
        "name": name,
        "bytes": content.len(),
        "hash": sha256_hex(&content),
        "state": State::Pending.label(),
        "queued": queued,
        "message": {"ja": ja, "en": en},
    }))
}

fn col(key: &str, ja: &str, en: &str) -> Value {
    json!({"key": key, "label": {"ja": ja, "en": en}})
}

pub fn import_history(root: &Path, conn: &Connection, input: &Value) -> CsvResult<Value> {
    let only = input
        .get("object")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::trim);
    let objects: Vec<String> = match only {
        Some(o) => vec![format_of(conn, o)?.object],
        None => formats(conn)?.into_iter().map(|f| f.object).collect(),
    };
    let limit = match input.get("limit") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().parse().ok(),
        _ => Some(100),
    }
    .unwrap_or(100)
    .clamp(1, 10_000) as usize;

    let mut rows: Vec<Value> = Vec::new();
    // Files still waiting in the folders: 未処理, newest first.
    for object in &objects {
        let dir = ObjectDir::new(root, object);
        let mut waiting = dir.waiting()?;
        waiting.reverse();
        for w in waiting {
            let Ok(bytes) = std::fs::read(&w.path) else {
                continue; // taken meanwhile
            };
            rows.push(json!({
                "object": object, "file": w.name, "hash": sha256_hex(&bytes),
                "state": State::Pending.label(), "rows": Value::Null, "errors": Value::Null,
                "bytes": bytes.len(),
                "received_at": chrono::DateTime::from_timestamp_millis(w.arrived_ms as i64)
                    .map(|t| t.with_timezone(&chrono::Local).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
                "started_at": Value::Null, "finished_at": Value::Null, "backup": Value::Null,
                "message": if w.queued { "同じ名前のファイルの後に取り込みます / waits for the file of the same name" } else { "次の実行で取り込みます / imported by the next run" },
                "error_details": [],
            }));
        }
    }
    let entries = History::new(root).entries()?;
    for e in entries.iter().rev() {
        if !objects.contains(&e.object) {
            continue;
        }
        rows.push(json!({
            "id": e.id, "object": e.object, "file": e.file, "hash": e.hash,
            "state": e.state.label(), "rows": e.rows, "errors": e.errors, "bytes": e.bytes,
            "received_at": Value::Null, "started_at": e.started_at, "finished_at": e.finished_at,
            "backup": e.backup, "message": e.message, "duplicate_of": e.duplicate_of,
            "encoding": e.encoding, "error_details": e.error_details,
            "warnings": e.warnings, "warning_details": e.warning_details,
        }));
    }
    let total = rows.len();
    rows.truncate(limit);
    Ok(json!({
        "columns": [
            col("state", "状態", "State"),
            col("file", "ファイル", "File"),
            col("object", "オブジェクト", "Object"),
            col("rows", "取込件数", "Rows"),
            col("errors", "エラー行", "Row errors"),
            col("warnings", "外字", "Gaiji"),
            col("started_at", "開始", "Started"),
            col("finished_at", "完了", "Finished"),
            col("backup", "バックアップ", "Backup"),
            col("message", "メッセージ", "Message"),
        ],
        "rows": rows,
        "message": {
            "ja": format!("{total} 件の取込履歴（うち {} 件を表示）", total.min(limit)),
            "en": format!("{total} imports ({} shown)", total.min(limit)),
        },
    }))
}
