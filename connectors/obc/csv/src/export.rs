//! `write`: records become rows of a CP932 CSV for 奉行's 汎用データ受入, appended to
//! `<object>/export/<object>_<YYYY-MM-DD>.csv` (header written when the file is new), in
//! the import format's columns. A batch is appended with one write, so a reader never sees
//! half a batch. A record with a character CP932 cannot hold fails alone, naming the column
//! and the character; it is never written with a '?'.

use connector_sdk::{
    ConnectorError, ErrorKind, WriteAction, WriteOutcome, WriteRequest, WriteResult,
};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::assumed::EXPORT_DATE_FORMAT;
use crate::error::{CsvResult, IoContext};
use crate::format::{format_of, ImportFormat, ValueKind};
use crate::inbox::ObjectDir;
use crate::table::write_row_cp932;

fn failed(op_id: &str, e: ConnectorError) -> WriteResult {
    WriteResult {
        op_id: op_id.to_string(),
        outcome: WriteOutcome::Error,
        id: None,
        version: None,
        modified_at: None,
        error: Some(e),
    }
}

/// A field value as 奉行 reads it: text as is, dates `yyyy/MM/dd`, numbers as decimals.
fn cell(v: Option<&Value>, kind: ValueKind) -> String {
    let text = match v {
        None | Some(Value::Null) => return String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => (if *b { "1" } else { "0" }).to_string(),
        Some(other) => other.to_string(),
    };
    match kind {
        ValueKind::Date => chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(|d| d.format(EXPORT_DATE_FORMAT).to_string())
            .unwrap_or(text),
        _ => text,
    }
}

pub fn export_file(dir: &ObjectDir, object: &str, date: &str) -> PathBuf {
    dir.export().join(format!("{object}_{date}.csv"))
}

pub fn write(
    root: &Path,
    conn: &connector_sdk::Connection,
    req: &WriteRequest,
) -> CsvResult<Vec<WriteResult>> {
    let format = format_of(conn, &req.object)?;
    let dir = ObjectDir::new(root, &req.object);
    let mut out = Vec::new();
    let mut results = Vec::with_capacity(req.ops.len());
    for op in &req.ops {
        match row_for(&format, op) {
            Ok((id, fields)) => match write_row_cp932(&fields, &mut out) {
                Ok(()) => results.push(WriteResult {
                    op_id: op.op_id.clone(),
                    outcome: if op.action == WriteAction::Create || op.id.is_none() {
                        WriteOutcome::Created
                    } else {
                        WriteOutcome::Updated
                    },
                    id: Some(id),
                    version: None,
                    modified_at: None,
                    error: None,
                }),
                Err((col, e)) => {
                    let c = &format.columns[col - 1];
                    let header = c.headers.first().cloned().unwrap_or_default();
                    results.push(failed(
                        &op.op_id,
                        ConnectorError::new(
                            ErrorKind::InvalidData,
                            format!(
                                "record {id}, column {col} ({header}): the character {} cannot be written in Shift_JIS (CP932); replace it",
                                e.describe()
                            ),
                        )
                        .with_code("unencodable_character")
                        .with_ja(format!(
                            "{id} の{col}列目「{header}」の{}文字目の文字{}は Shift_JIS (CP932) で表せません。別の文字に置き換えてください",
                            e.index + 1,
                            e.describe()
                        ))
                        .with_field(c.field.clone()),
                    ));
                }
            },
            Err(e) => results.push(failed(&op.op_id, e)),
        }
    }
    if !out.is_empty() {
        append(&dir, &format, &out)?;
    }
    Ok(results)
}

/// The record's id (its key) and its cells, or why it cannot be exported.
fn row_for(
    format: &ImportFormat,
    op: &connector_sdk::WriteOp,
) -> Result<(String, Vec<String>), ConnectorError> {
    if op.action == WriteAction::Delete {
        return Err(ConnectorError::new(
            ErrorKind::Unsupported,
            "a 奉行 CSV export cannot delete records; delete them in 奉行",
        )
        .with_ja("CSV 出力ではレコードを削除できません。奉行で削除してください"));
    }
    if let Some(unknown) = op
        .fields
        .keys()
        .find(|k| !format.columns.iter().any(|c| &c.field == *k))
    {
        return Err(ConnectorError::new(
            ErrorKind::InvalidData,
            format!(
                "field '{unknown}' is not a column of {}; add it to the import format",
                format.object
            ),
        )
        .with_ja(format!(
            "項目「{unknown}」は {} の CSV の列にありません。CSV 取込フォーマットに追加してください",
            format.object
        ))
        .with_field(unknown.clone()));
    }
    let key_value = op
        .fields
        .get(&format.key)
        .or(op
            .match_key
            .as_ref()
            .filter(|m| m.field == format.key)
            .map(|m| &m.value))
        .map(|v| cell(Some(v), ValueKind::Text))
        .or_else(|| op.id.clone())
        .unwrap_or_default();
    if key_value.trim().is_empty() {
        return Err(ConnectorError::new(
            ErrorKind::InvalidData,
            format!(
                "the key '{}' ({}) is empty; 奉行 cannot import a row without it",
                format.key,
                format.key_header()
            ),
        )
        .with_ja(format!(
            "キー「{}」が空です。奉行はキーのない行を受け入れられません",
            format.key_header()
        ))
        .with_field(format.key.clone()));
    }
    let cells = format
        .columns
        .iter()
        .map(|c| {
            if c.field == format.key {
                key_value.clone()
            } else {
                cell(op.fields.get(&c.field), c.kind)
            }
        })
        .collect();
    Ok((key_value, cells))
}

fn append(dir: &ObjectDir, format: &ImportFormat, rows: &[u8]) -> CsvResult<()> {
    let what = "write the export file";
    let ja = "出力ファイルを書けません";
    let export = dir.export();
    std::fs::create_dir_all(&export).ctx(what, ja, &export)?;
    let date = chrono::Local::now().format("%Y-%m-%d").to_string();
    let path = export_file(dir, &format.object, &date);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ctx(what, ja, &path)?;
    let mut buf = Vec::with_capacity(rows.len() + 256);
    if f.metadata().ctx(what, ja, &path)?.len() == 0 {
        let header: Vec<String> = format
            .columns
            .iter()
            .map(|c| {
                c.headers
                    .first()
                    .cloned()
                    .unwrap_or_else(|| c.field.clone())
            })
            .collect();
        // Headers come from the format and were typed in CP932-capable text, but a custom
        // one might not be: that is a settings error, not a silent '?'.
        write_row_cp932(&header, &mut buf).map_err(|(col, e)| {
            crate::error::CsvError::settings(
                crate::format::FORMATS_SETTING,
                format!(
                    "{} の{}列目の見出しの文字{}は Shift_JIS (CP932) で表せません",
                    format.object,
                    col,
                    e.describe()
                ),
                format!(
                    "{}: the header of column {col} has {}, which Shift_JIS (CP932) cannot hold",
                    format.object,
                    e.describe()
                ),
            )
        })?;
    }
    buf.extend_from_slice(rows);
    f.write_all(&buf).ctx(what, ja, &path)?;
    f.sync_data().ctx(what, ja, &path)?;
    Ok(())
}
