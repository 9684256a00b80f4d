//! On-premise 奉行 CSV through a watched folder (`<csv_root>/<object id>/`): the OBC connector
//! hands every object whose id starts with `csv_` to these functions.
//!
//! - `objects`/`check` create each object's folder; formats come from `csv_import_formats`
//!   (see [`format`]) with built-in 取引先 and 社員 defaults.
//! - `read` takes stable files one at a time and hands their rows over page by page; each
//!   file's import is recorded in the import history and the file moved to `backup/<date>/`
//!   (see [`read`] for how a crash loses nothing).
//! - `write` appends CP932 CSV for 奉行's 汎用データ受入 under `<object>/export/`.
//! - Actions `receive_file` (uploads) and `import_history`.

pub mod actions;
pub mod assumed;
pub mod codec;
mod error;
pub mod export;
pub mod format;
pub mod history;
mod import;
pub mod inbox;
pub mod read;
pub mod rows;
pub mod table;

pub use error::CsvError;

use connector_sdk::*;
use serde_json::Value;
use std::path::PathBuf;

use crate::error::IoContext;
use crate::format::formats;
use crate::inbox::ObjectDir;

/// Object ids of this route start with this prefix; the connector sends those here.
pub const OBJECT_PREFIX: &str = "csv_";

/// The connection setting naming the watched folder.
pub const ROOT_SETTING: &str = "csv_root";

pub fn is_csv_object(object: &str) -> bool {
    object.starts_with(OBJECT_PREFIX)
}

/// The watched folder, when the connection sets one.
fn root(conn: &Connection) -> Option<PathBuf> {
    conn.setting(ROOT_SETTING).map(PathBuf::from)
}

fn require_root(conn: &Connection) -> Result<PathBuf, ConnectorError> {
    root(conn).ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::InvalidSettings,
            "setting 'csv_root' (CSV watch folder) is required for the 奉行 CSV objects",
        )
        .with_ja("CSV のオブジェクトを使うには「CSV 監視フォルダ」を設定してください")
        .with_field(ROOT_SETTING)
    })
}

/// The settings this route adds to the connector's manifest (after `csv_root`).
pub fn settings() -> Vec<SettingField> {
    vec![format::setting_field()]
}

/// Creates the watched folder of every object (the folder a person or `hub agent watch`
/// drops files into), and the history's folder.
fn ensure_folders(
    root: &std::path::Path,
    conn: &Connection,
) -> Result<Vec<ObjectSchema>, CsvError> {
    let formats = formats(conn)?;
    let renkei = root.join(".renkei");
    std::fs::create_dir_all(&renkei).ctx(
        "create the CSV watch folder",
        "CSV 監視フォルダを作成できません",
        &renkei,
    )?;
    for f in &formats {
        ObjectDir::new(root, &f.object).ensure()?;
    }
    Ok(formats.iter().map(|f| f.schema()).collect())
}

/// The CSV objects, or none when `csv_root` is not set. Creates their folders.
pub fn objects(conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
    let Some(root) = root(conn) else {
        return Ok(Vec::new());
    };
    Ok(ensure_folders(&root, conn)?)
}

/// 接続テスト for the CSV route: `None` when `csv_root` is not set. Checks the formats and
/// that the folder can be written (creating the objects' folders).
pub fn check(conn: &Connection) -> Option<Result<CheckResult, ConnectorError>> {
    let root = root(conn)?;
    Some(
        (|| {
            let schemas = ensure_folders(&root, conn)?;
            let probe = root.join(".renkei").join(".write-test");
            std::fs::write(&probe, b"ok").ctx(
                "write in the CSV watch folder",
                "CSV 監視フォルダに書き込めません",
                &probe,
            )?;
            let _ = std::fs::remove_file(&probe);
            let names: Vec<String> = schemas
                .iter()
                .map(|s| format!("{} = {}", s.id, s.name.ja))
                .collect();
            Ok::<_, CsvError>(CheckResult {
                account: format!("CSV 監視フォルダ {} ({})", root.display(), names.join(", ")),
            })
        })()
        .map_err(ConnectorError::from),
    )
}

pub fn read(conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
    read_with(conn, req, &read::Options::default())
}

/// `read` with explicit options (the tests shorten the settle time).
pub fn read_with(
    conn: &Connection,
    req: &ReadRequest,
    opts: &read::Options,
) -> Result<ReadPage, ConnectorError> {
    let root = require_root(conn)?;
    Ok(read::read(&root, conn, req, opts)?)
}

/// Exports records as CP932 CSV into `<csv_root>/<object>/export/` for 奉行 to import.
pub fn write(conn: &Connection, req: &WriteRequest) -> Result<Vec<WriteResult>, ConnectorError> {
    let root = require_root(conn)?;
    Ok(export::write(&root, conn, req)?)
}

/// Actions of the CSV route (`receive_file`, `import_history`); `None` for any other name.
pub fn action(
    conn: &Connection,
    name: &str,
    input: &Value,
) -> Option<Result<Value, ConnectorError>> {
    let run = |f: fn(&std::path::Path, &Connection, &Value) -> Result<Value, CsvError>| {
        let root = require_root(conn)?;
        f(&root, conn, input).map_err(ConnectorError::from)
    };
    match name {
        actions::RECEIVE_FILE => Some(run(actions::receive_file)),
        actions::IMPORT_HISTORY => Some(run(actions::import_history)),
        _ => None,
    }
}

/// The CSV route's actions, for the manifest.
pub fn actions() -> Vec<ActionSpec> {
    actions::specs()
}
