//! One JSON file per object, changed under an exclusive `flock` and replaced atomically, so the
//! hub's worker and a test editing "by hand" never see half a file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

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

/// Opens `dir/object.json` under an exclusive lock (`dir/object.lock`).
pub fn open(dir: &Path, object: &str) -> std::io::Result<Locked> {
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
    let path = dir.join(format!("{object}.json"));
    let data = match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(std::io::Error::other)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ObjectFile {
            next_id: 1,
            ..Default::default()
        },
        Err(e) => return Err(e),
    };
    Ok(Locked {
        _lock: lock,
        path,
        data,
    })
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
