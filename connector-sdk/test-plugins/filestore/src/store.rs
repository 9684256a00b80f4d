//! One JSON file per object, changed under an exclusive `flock` and replaced atomically, so the
//! hub's worker and a test editing "by hand" never see half a file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRecord {
    pub version: u64,
    /// Milliseconds, strictly increasing within the file (a logical clock that follows wall time).
    pub modified: i64,
    #[serde(default)]
    pub deleted: bool,
    pub fields: Map<String, Value>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ObjectFile {
    pub next_id: u64,
    pub clock: i64,
    pub records: BTreeMap<u64, StoredRecord>,
}

impl ObjectFile {
    /// A modified stamp later than every earlier one.
    pub fn tick(&mut self) -> i64 {
        let now = chrono::Utc::now().timestamp_millis();
        self.clock = now.max(self.clock + 1);
        self.clock
    }
}

pub struct Locked {
    _lock: File,
    path: PathBuf,
    pub data: ObjectFile,
}

/// Takes the exclusive lock of `dir/object` (`dir/object.lock`), held while the file lives.
fn lock(dir: &Path, object: &str) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!("{object}.lock")))?;
    // SAFETY: flock on a file descriptor we own; released when `lock` is closed.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(lock)
}

fn empty() -> ObjectFile {
    ObjectFile {
        next_id: 1,
        ..Default::default()
    }
}

/// Opens `dir/object.json` under an exclusive lock (`dir/object.lock`).
pub fn open(dir: &Path, object: &str) -> std::io::Result<Locked> {
    let lock = lock(dir, object)?;
    let path = dir.join(format!("{object}.json"));
    let data = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(std::io::Error::other)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => empty(),
        Err(e) => return Err(e),
    };
    Ok(Locked {
        _lock: lock,
        path,
        data,
    })
}

/// One saved version of a file: a save replaces it (a new inode), a hand edit changes its
/// modification time or length.
type Saved = (u64, i64, i64, u64);

/// The last file read, parsed: a read of page after page parses the file once, not per page.
#[derive(Default)]
pub struct ReadCache(Mutex<Option<(PathBuf, Saved, Arc<ObjectFile>)>>);

/// `dir/object.json` as last saved (read under the lock), parsed again only when it changed.
pub fn snapshot(dir: &Path, object: &str, cache: &ReadCache) -> std::io::Result<Arc<ObjectFile>> {
    let _lock = lock(dir, object)?;
    let path = dir.join(format!("{object}.json"));
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Arc::new(empty())),
        Err(e) => return Err(e),
    };
    let saved = (meta.ino(), meta.mtime(), meta.mtime_nsec(), meta.len());
    let mut slot = cache.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((p, s, data)) = slot.as_ref() {
        if *p == path && *s == saved {
            return Ok(data.clone());
        }
    }
    let bytes = std::fs::read(&path)?;
    let data: Arc<ObjectFile> =
        Arc::new(serde_json::from_slice(&bytes).map_err(std::io::Error::other)?);
    *slot = Some((path, saved, data.clone()));
    Ok(data)
}

impl Locked {
    pub fn save(&self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(&self.data).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(tmp, &self.path)
    }
}
