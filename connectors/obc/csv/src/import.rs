//! One file's import, from the moment it is taken into `.processing/` to its history entry
//! and its move into `backup/<date>/`. Every step can be repeated after a crash: the state
//! is the folder plus the history, and each step checks both before acting.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::error::{CsvResult, IoContext};
use crate::history::{self, Entry, History, State, MAX_DETAILS};
use crate::inbox::{self, move_no_clobber, ObjectDir};
use crate::rows::{FileError, ParsedFile};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A file whose rows are being handed to the hub.
pub struct Current {
    pub path: PathBuf,
    pub name: String,
    pub hash: String,
    pub bytes: Vec<u8>,
    /// Data rows already handed over.
    pub row: usize,
    /// The open import when the file is in `.processing/`; `None` when it is re-read from
    /// its backup (an import finished before the hub committed its last pages).
    pub entry: Option<Entry>,
}

pub struct Importer<'a> {
    pub dir: &'a ObjectDir,
    pub history: &'a History,
    pub object: &'a str,
}

fn read_file(path: &Path) -> CsvResult<Vec<u8>> {
    std::fs::read(path).ctx("read the file", "ファイルを読めません", path)
}

impl Importer<'_> {
    fn entries_for(&self, hash: &str) -> CsvResult<Vec<Entry>> {
        Ok(self
            .history
            .entries()?
            .into_iter()
            .filter(|e| e.object == self.object && e.hash == hash)
            .collect())
    }

    /// The file in `.processing/` as an open import: its existing entry, or a new one.
    /// `None` when it needs no import: a duplicate of a finished import (moved to backup), or
    /// an import whose move to backup was interrupted (completed now).
    pub fn open_processing(&self, path: &Path) -> CsvResult<Option<Current>> {
        let bytes = read_file(path)?;
        let hash = sha256_hex(&bytes);
        let name = inbox::file_name(path).unwrap_or_default();
        let entries = self.entries_for(&hash)?;
        if let Some(e) = entries
            .iter()
            .rev()
            .find(|e| e.state == State::Pending && e.file == name)
        {
            return Ok(Some(Current {
                path: path.to_path_buf(),
                name,
                hash,
                bytes,
                row: 0,
                entry: Some(e.clone()),
            }));
        }
        // Finished, but the crash came before the move: finish the move.
        if let Some(e) = entries.iter().rev().find(|e| {
            e.state != State::Pending
                && e.file == name
                && e.backup
                    .as_ref()
                    .is_some_and(|b| !self.dir.dir.join(b).exists())
        }) {
            self.move_to_backup(path, e.clone())?;
            return Ok(None);
        }
        let mut entry = Entry {
            id: format!("{}-{}", inbox::now_ms(), &hash[..12]),
            object: self.object.to_string(),
            file: name.clone(),
            hash: hash.clone(),
            state: State::Pending,
            bytes: bytes.len() as u64,
            encoding: None,
            rows: 0,
            errors: 0,
            error_details: Vec::new(),
            warnings: 0,
            warning_details: Vec::new(),
            message: None,
            duplicate_of: None,
            backup: None,
            started_at: history::now(),
            finished_at: None,
        };
        let done = entries
            .iter()
            .rev()
            .find(|e| e.state == State::Done && e.duplicate_of.is_none())
            .or_else(|| entries.iter().rev().find(|e| e.state == State::Done));
        if let Some(done) = done {
            entry.state = State::Done;
            entry.duplicate_of = Some(done.id.clone());
            entry.message = Some(format!(
                "同じ内容のファイル（{}、{}）を取込済みのため取り込みませんでした / skipped: the same content was imported before ({}, {})",
                done.file,
                done.finished_at.as_deref().unwrap_or(&done.started_at),
                done.file,
                done.finished_at.as_deref().unwrap_or(&done.started_at),
            ));
            entry.finished_at = Some(history::now());
            self.finish(path, entry)?;
            return Ok(None);
        }
        self.history.append(&entry)?;
        Ok(Some(Current {
            path: path.to_path_buf(),
            name,
            hash,
            bytes,
            row: 0,
            entry: Some(entry),
        }))
    }

    /// The file with content `hash`, to go on from `row`: in `.processing/`, else in its
    /// backup. `None` when it is gone (a person removed it): reading goes on with the next.
    pub fn locate(&self, hash: &str, row: usize) -> CsvResult<Option<Current>> {
        if let Some(p) = self.dir.in_process()? {
            let bytes = read_file(&p)?;
            if sha256_hex(&bytes) == hash {
                if let Some(mut c) = self.open_processing(&p)? {
                    c.row = row;
                    return Ok(Some(c));
                }
            }
        }
        for e in self.entries_for(hash)?.iter().rev() {
            let Some(rel) = e.backup.as_ref() else {
                continue;
            };
            if e.state == State::Pending || e.duplicate_of.is_some() {
                continue;
            }
            let path = self.dir.dir.join(rel);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if sha256_hex(&bytes) != hash {
                continue;
            }
            return Ok(Some(Current {
                path,
                name: e.file.clone(),
                hash: hash.to_string(),
                bytes,
                row,
                entry: None,
            }));
        }
        Ok(None)
    }

    /// Records the outcome of a file read to its end, then moves it to backup.
    pub fn finish_parsed(&self, c: &Current, parsed: &ParsedFile<'_>) -> CsvResult<()> {
        let Some(mut entry) = c.entry.clone() else {
            return Ok(());
        };
        let (ok, errors, gaiji) = parsed.outcome();
        let errors: Vec<String> = errors
            .iter()
            .map(|e| format!("{} / {}", e.ja, e.en))
            .collect();
        entry.encoding = Some(parsed.encoding.label().to_string());
        entry.rows = ok as u64;
        entry.errors = errors.len() as u64;
        entry.state = if errors.is_empty() {
            State::Done
        } else {
            State::Error
        };
        let (rows, bad, n) = (entry.rows, entry.errors, gaiji.len());
        let (mut ja, mut en) = if errors.is_empty() {
            (
                format!("{rows} 行を読み込みました"),
                format!("{rows} rows read"),
            )
        } else {
            (
                format!("{rows} 行を読み込み、{bad} 行は読めませんでした（行番号は詳細を参照）"),
                format!("{rows} rows read, {bad} rows could not be read (see the details for their lines)"),
            )
        };
        if n > 0 {
            ja.push_str(&format!(
                "。外字（ユーザー定義文字）が {n} 箇所あります（詳細を参照）"
            ));
            en.push_str(&format!(
                "; {n} user-defined characters (gaiji), see the details"
            ));
        }
        entry.message = Some(format!("{ja} / {en}"));
        entry.error_details = errors.into_iter().take(MAX_DETAILS).collect();
        entry.warnings = n as u64;
        entry.warning_details = gaiji.iter().take(MAX_DETAILS).map(|g| g.detail()).collect();
        entry.finished_at = Some(history::now());
        self.finish(&c.path, entry)
    }

    /// Records a file that cannot be read at all, then moves it to backup.
    pub fn finish_failed(&self, c: &Current, e: &FileError) -> CsvResult<()> {
        let Some(mut entry) = c.entry.clone() else {
            return Ok(());
        };
        entry.state = State::Error;
        entry.message = Some(e.message());
        entry.finished_at = Some(history::now());
        self.finish(&c.path, entry)
    }

    /// History first, then the move: a crash between them is completed by
    /// `open_processing`, which finds the entry pointing at a backup that is not there yet.
    fn finish(&self, path: &Path, mut entry: Entry) -> CsvResult<()> {
        let date = chrono::Local::now().format("%Y-%m-%d").to_string();
        let (_, rel) = self.dir.backup_path(&date, &entry.file);
        entry.backup = Some(rel);
        self.history.append(&entry)?;
        self.move_to_backup(path, entry)
    }

    fn move_to_backup(&self, path: &Path, mut entry: Entry) -> CsvResult<()> {
        let what = "move the file to the backup folder";
        let ja = "ファイルをバックアップフォルダへ移動できません";
        loop {
            let rel = entry.backup.clone().unwrap_or_default();
            let to = self.dir.dir.join(&rel);
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).ctx(what, ja, parent)?;
            }
            if move_no_clobber(path, &to).ctx(what, ja, path)? {
                return Ok(());
            }
            // The name was taken meanwhile (by hand): another name, recorded first.
            let date = rel
                .split('/')
                .nth(1)
                .map(str::to_string)
                .unwrap_or_else(|| chrono::Local::now().format("%Y-%m-%d").to_string());
            entry.backup = Some(self.dir.backup_path(&date, &entry.file).1);
            self.history.append(&entry)?;
        }
    }
}
