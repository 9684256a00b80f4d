//! An object's watched folder and what moves through it:
//!
//! ```text
//! <csv_root>/<object>/            files dropped here (or uploaded) wait to be imported
//!            <object>/.incoming/  uploads being written (renamed into place when complete)
//!            <object>/.queue/     uploads whose name was taken: `<ms>_<n>_<name>`, in order
//!            <object>/.processing/ the one file being imported
//!            <object>/backup/YYYY-MM-DD/  imported files, by the day they finished
//!            <object>/export/     CSV written for 奉行's 汎用データ受入
//! ```
//!
//! Files are moved, never copied, and never onto an existing name (a hard link that fails if
//! the name exists, then the old name removed), so nothing is overwritten or lost, and a file
//! arriving under the name of one being imported simply waits its turn.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{CsvResult, IoContext};

pub struct ObjectDir {
    pub dir: PathBuf,
}

/// A file waiting to be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub path: PathBuf,
    /// The name it arrived with (without the queue prefix).
    pub name: String,
    /// Milliseconds since 1970: when it arrived (its modified time, or when it was queued).
    pub arrived_ms: u64,
    /// Written by `receive_file`: complete when it appears, no need to wait for its size.
    pub queued: bool,
}

pub fn ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn now_ms() -> u64 {
    ms(SystemTime::now())
}

/// A file name this route imports: a plain `.csv` or `.txt` name, not hidden.
pub fn importable_name(name: &str) -> bool {
    let lower = name.to_lowercase();
    !name.starts_with('.')
        && !name.starts_with('~')
        && (lower.ends_with(".csv") || lower.ends_with(".txt"))
}

/// A plain file name: no folders, no parent references, no control characters.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && !name.chars().any(|c| {
            matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control()
        })
}

/// Moves `from` to `to` unless `to` exists: `Ok(false)` when the name is taken.
pub fn move_no_clobber(from: &Path, to: &Path) -> std::io::Result<bool> {
    match std::fs::hard_link(from, to) {
        Ok(()) => match std::fs::remove_file(from) {
            Ok(()) => Ok(true),
            // Held open by its writer (Windows): undo, so the file exists under one name.
            Err(e) => {
                let _ = std::fs::remove_file(to);
                Err(e)
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        // File systems without hard links (FAT, some shares): check, then rename. Only this
        // route writes these folders, one import at a time, so the gap is not raced.
        Err(_) => {
            if to.exists() {
                return Ok(false);
            }
            std::fs::rename(from, to)?;
            Ok(true)
        }
    }
}

impl ObjectDir {
    pub fn new(root: &Path, object: &str) -> Self {
        ObjectDir {
            dir: root.join(object),
        }
    }

    pub fn processing(&self) -> PathBuf {
        self.dir.join(".processing")
    }

    pub fn queue(&self) -> PathBuf {
        self.dir.join(".queue")
    }

    pub fn incoming(&self) -> PathBuf {
        self.dir.join(".incoming")
    }

    pub fn export(&self) -> PathBuf {
        self.dir.join("export")
    }

    /// Creates the folder (and its working folders) if missing.
    pub fn ensure(&self) -> CsvResult<()> {
        for d in [self.dir.clone(), self.processing(), self.queue()] {
            std::fs::create_dir_all(&d).ctx("create the folder", "フォルダを作成できません", &d)?;
        }
        Ok(())
    }

    /// The file being imported, if any (the first by name if a person put more there).
    pub fn in_process(&self) -> CsvResult<Option<PathBuf>> {
        let mut files = list_files(&self.processing())?;
        files.sort();
        Ok(files.into_iter().next())
    }

    /// Waiting files in arrival order. A queued file never comes before a file of the same
    /// name in the folder: it was queued because that one arrived first.
    pub fn waiting(&self) -> CsvResult<Vec<Waiting>> {
        let mut out = Vec::new();
        for path in list_files(&self.dir)? {
            let Some(name) = file_name(&path) else {
                continue;
            };
            if !importable_name(&name) {
                continue;
            }
            let arrived_ms = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(ms)
                .unwrap_or(0);
            out.push(Waiting {
                path,
                name,
                arrived_ms,
                queued: false,
            });
        }
        for path in list_files(&self.queue())? {
            let Some(qname) = file_name(&path) else {
                continue;
            };
            let mut parts = qname.splitn(3, '_');
            let (Some(t), Some(_), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            let Ok(arrived_ms) = t.parse::<u64>() else {
                continue;
            };
            out.push(Waiting {
                path,
                name: name.to_string(),
                arrived_ms,
                queued: true,
            });
        }
        out.sort_by(|a, b| {
            (a.arrived_ms, a.queued, &a.name, &a.path).cmp(&(
                b.arrived_ms,
                b.queued,
                &b.name,
                &b.path,
            ))
        });
        // Same name: the folder's file before the queued ones (whatever its modified time).
        let mut i = 0;
        while i < out.len() {
            if !out[i].queued {
                let name = out[i].name.clone();
                if let Some(q) = out[..i].iter().position(|o| o.queued && o.name == name) {
                    let f = out.remove(i);
                    out.insert(q, f);
                }
            }
            i += 1;
        }
        Ok(out)
    }

    /// The first waiting file whose size stayed the same for `settle` (a file still being
    /// copied grows, and one held open by its writer cannot be moved): `None` when nothing
    /// is ready. Waits `settle` at most once per call.
    pub fn next_stable(&self, settle: Duration) -> CsvResult<Option<Waiting>> {
        let waiting = self.waiting()?;
        if waiting.is_empty() {
            return Ok(None);
        }
        let look = |w: &Waiting| {
            std::fs::metadata(&w.path)
                .ok()
                .map(|m| (m.len(), m.modified().ok()))
        };
        let before: Vec<_> = waiting.iter().map(look).collect();
        if waiting.iter().any(|w| !w.queued) {
            std::thread::sleep(settle);
        }
        // Files of one name go in order: a later one never passes one still being written.
        let mut blocked: Vec<&str> = Vec::new();
        for (w, b) in waiting.iter().zip(before) {
            if blocked.contains(&w.name.as_str()) {
                continue;
            }
            if w.queued || (b.is_some() && look(w) == b) {
                return Ok(Some(w.clone()));
            }
            blocked.push(&w.name);
        }
        Ok(None)
    }

    /// Moves a waiting file into `.processing/`; `None` if it went away or is still held
    /// open by its writer (it is tried again later).
    pub fn take(&self, w: &Waiting) -> CsvResult<Option<PathBuf>> {
        let to = self.processing().join(&w.name);
        match move_no_clobber(&w.path, &to) {
            Ok(true) => Ok(Some(to)),
            Ok(false) => Ok(None),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(crate::error::CsvError::io(
                "take the file",
                "ファイルを取り込み用に移動できません",
                &w.path,
                e,
            )),
        }
    }

    /// Moves a file into `backup/<date>/`, under a free name (`取引先.csv`, `取引先 (2).csv`…):
    /// the path relative to the object's folder.
    pub fn backup_path(&self, date: &str, name: &str) -> (PathBuf, String) {
        let dir = self.dir.join("backup").join(date);
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => (&name[..i], &name[i..]),
            _ => (name, ""),
        };
        let mut n = 1;
        loop {
            let candidate = if n == 1 {
                name.to_string()
            } else {
                format!("{stem} ({n}){ext}")
            };
            let path = dir.join(&candidate);
            if !path.exists() {
                return (path, format!("backup/{date}/{candidate}"));
            }
            n += 1;
        }
    }

    /// Writes an uploaded file: into `.incoming/`, then renamed into the folder, or into the
    /// queue when a file of that name is waiting. Answers where it went and whether queued.
    pub fn receive(&self, name: &str, content: &[u8]) -> CsvResult<(PathBuf, bool)> {
        use std::io::Write;
        let what = "store the uploaded file";
        let ja = "受信したファイルを保存できません";
        self.ensure()?;
        let incoming = self.incoming();
        std::fs::create_dir_all(&incoming).ctx(what, ja, &incoming)?;
        let stamp = now_ms();
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = incoming.join(format!("{stamp}_{}_{seq}.part", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp).ctx(what, ja, &tmp)?;
            f.write_all(content).ctx(what, ja, &tmp)?;
            f.sync_all().ctx(what, ja, &tmp)?;
        }
        let dest = self.dir.join(name);
        let result = (|| -> std::io::Result<(PathBuf, bool)> {
            if move_no_clobber(&tmp, &dest)? {
                return Ok((dest.clone(), false));
            }
            let mut n = 0u32;
            loop {
                let q = self.queue().join(format!("{stamp:013}_{n:04}_{name}"));
                if move_no_clobber(&tmp, &q)? {
                    return Ok((q, true));
                }
                n += 1;
            }
        })();
        match result {
            Ok(r) => Ok(r),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(crate::error::CsvError::io(what, ja, &dest, e))
            }
        }
    }
}

pub fn file_name(p: &Path) -> Option<String> {
    p.file_name().and_then(|n| n.to_str()).map(str::to_string)
}

/// Regular files directly in `dir` (none when it does not exist).
fn list_files(dir: &Path) -> CsvResult<Vec<PathBuf>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(crate::error::CsvError::io(
                "list the folder",
                "フォルダの中を読めません",
                dir,
                e,
            ))
        }
    };
    let mut out = Vec::new();
    for entry in rd.flatten() {
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            out.push(entry.path());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, text: &str) {
        std::fs::write(p, text).unwrap();
    }

    #[test]
    fn a_growing_file_is_not_taken_until_its_size_settles() {
        let root = tempfile::tempdir().unwrap();
        let d = ObjectDir::new(root.path(), "csv_customers");
        d.ensure().unwrap();
        let path = d.dir.join("取引先.csv");
        write(&path, "取引先コード\r\n");
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
                for i in 0..12 {
                    writeln!(f, "{i}").unwrap();
                    f.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(25));
                }
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(d.next_stable(Duration::from_millis(100)).unwrap(), None);
        writer.join().unwrap();
        let w = d.next_stable(Duration::from_millis(100)).unwrap().unwrap();
        assert_eq!(w.name, "取引先.csv");
        let taken = d.take(&w).unwrap().unwrap();
        assert!(taken.starts_with(d.processing()));
        assert!(!path.exists());
    }

    #[test]
    fn an_upload_under_a_waiting_name_is_queued_behind_it() {
        let root = tempfile::tempdir().unwrap();
        let d = ObjectDir::new(root.path(), "csv_customers");
        let (p1, q1) = d.receive("取引先.csv", b"one").unwrap();
        let (p2, q2) = d.receive("取引先.csv", b"two").unwrap();
        let (_, q3) = d.receive("別.csv", b"three").unwrap();
        assert!(!q1 && q2 && !q3);
        assert_eq!(std::fs::read(&p1).unwrap(), b"one");
        assert_eq!(std::fs::read(&p2).unwrap(), b"two");
        let order: Vec<(String, bool)> = d
            .waiting()
            .unwrap()
            .into_iter()
            .map(|w| (w.name, w.queued))
            .collect();
        let first_same = order.iter().position(|o| o.0 == "取引先.csv").unwrap();
        assert_eq!(order[first_same], ("取引先.csv".to_string(), false));
        assert!(order[first_same + 1..].contains(&("取引先.csv".to_string(), true)));
        assert!(std::fs::read_dir(d.incoming()).unwrap().next().is_none());
    }

    #[test]
    fn backup_names_never_overwrite() {
        let root = tempfile::tempdir().unwrap();
        let d = ObjectDir::new(root.path(), "csv_customers");
        let (p, rel) = d.backup_path("2026-11-22", "取引先.csv");
        assert_eq!(rel, "backup/2026-11-22/取引先.csv");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        write(&p, "x");
        let (_, rel) = d.backup_path("2026-11-22", "取引先.csv");
        assert_eq!(rel, "backup/2026-11-22/取引先 (2).csv");
    }

    #[test]
    fn names() {
        assert!(importable_name("取引先.CSV") && importable_name("社員.txt"));
        assert!(!importable_name(".hidden.csv") && !importable_name("a.xlsx"));
        assert!(plain_name("取引先.csv"));
        assert!(!plain_name("../x.csv") && !plain_name("a/b.csv") && !plain_name(".x"));
    }
}
