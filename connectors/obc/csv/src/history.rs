//! The import history (CSVデータ取込履歴): one JSON line per change of an import, under
//! `<csv_root>/.renkei/import_history.jsonl`; an import's state is its last line. Appending
//! whole lines keeps it safe against a crash (a torn last line is skipped and never glued to
//! the next one) and lets any process that serves the connection read it.

use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{CsvResult, IoContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    /// Waiting or being imported.
    #[serde(rename = "未処理")]
    Pending,
    /// Read through without an error.
    #[serde(rename = "処理済")]
    Done,
    /// The file could not be read, or some of its rows could not.
    #[serde(rename = "エラー")]
    Error,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::Pending => "未処理",
            State::Done => "処理済",
            State::Error => "エラー",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// One import of one file: `<started ms>-<hash prefix>`.
    pub id: String,
    pub object: String,
    pub file: String,
    /// SHA-256 of the file's bytes (hex).
    pub hash: String,
    pub state: State,
    pub bytes: u64,
    #[serde(default)]
    pub encoding: Option<String>,
    /// Rows read as records.
    #[serde(default)]
    pub rows: u64,
    /// Rows that could not be read.
    #[serde(default)]
    pub errors: u64,
    /// The first row errors, each naming its line and column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_details: Vec<String>,
    /// 外字 in the rows read (imported all the same, with a warning in the run).
    #[serde(default)]
    pub warnings: u64,
    /// The first of them, each naming its line and column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warning_details: Vec<String>,
    #[serde(default)]
    pub message: Option<String>,
    /// The earlier import of the same content, when this one was skipped as a duplicate.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// Where the file went, relative to the object's folder (`backup/2026-11-22/取引先.csv`).
    #[serde(default)]
    pub backup: Option<String>,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
}

/// How many row errors an entry keeps (the run history has all of them).
pub const MAX_DETAILS: usize = 20;

pub struct History {
    path: PathBuf,
}

impl History {
    pub fn new(root: &Path) -> Self {
        History {
            path: root.join(".renkei").join("import_history.jsonl"),
        }
    }

    /// Every import's latest state, oldest first.
    pub fn entries(&self) -> CsvResult<Vec<Entry>> {
        let text = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(crate::error::CsvError::io(
                    "read the import history",
                    "取込履歴を読めません",
                    &self.path,
                    e,
                ))
            }
        };
        let mut out: Vec<Entry> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for line in text.split(|b| *b == b'\n') {
            // A line torn by a crash does not parse and is skipped.
            let Ok(e) = serde_json::from_slice::<Entry>(line) else {
                continue;
            };
            match index.get(&e.id) {
                Some(&i) => out[i] = e,
                None => {
                    index.insert(e.id.clone(), out.len());
                    out.push(e);
                }
            }
        }
        Ok(out)
    }

    pub fn append(&self, entry: &Entry) -> CsvResult<()> {
        let what = "write the import history";
        let ja = "取込履歴を書けません";
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).ctx(what, ja, dir)?;
        }
        let mut line = serde_json::to_vec(entry).unwrap_or_default();
        line.push(b'\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .ctx(what, ja, &self.path)?;
        // After a crash mid-line, start on a new line so this one stays whole.
        let len = f.metadata().ctx(what, ja, &self.path)?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            f.seek(SeekFrom::Start(len - 1)).ctx(what, ja, &self.path)?;
            f.read_exact(&mut last).ctx(what, ja, &self.path)?;
            if last[0] != b'\n' {
                line.insert(0, b'\n');
            }
        }
        f.write_all(&line).ctx(what, ja, &self.path)?;
        f.sync_data().ctx(what, ja, &self.path)?;
        Ok(())
    }
}

pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, state: State) -> Entry {
        Entry {
            id: id.into(),
            object: "csv_customers".into(),
            file: "取引先.csv".into(),
            hash: "ab".into(),
            state,
            bytes: 10,
            encoding: None,
            rows: 0,
            errors: 0,
            error_details: vec![],
            warnings: 0,
            warning_details: vec![],
            message: None,
            duplicate_of: None,
            backup: None,
            started_at: now(),
            finished_at: None,
        }
    }

    #[test]
    fn the_last_line_of_an_import_is_its_state_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::new(dir.path());
        assert!(h.entries().unwrap().is_empty());
        h.append(&entry("1", State::Pending)).unwrap();
        // A crash in the middle of a line.
        let path = dir.path().join(".renkei/import_history.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"id\":\"2\",\"obj").unwrap();
        drop(f);
        h.append(&entry("1", State::Done)).unwrap();
        h.append(&entry("3", State::Error)).unwrap();
        let all = h.entries().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].id.as_str(), all[0].state), ("1", State::Done));
        assert_eq!(all[1].state, State::Error);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"処理済\""), "{text}");
    }
}
