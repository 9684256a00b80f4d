//! Optional persistence for emulators: one JSON file per emulator in the data directory,
//! written atomically (temp file + rename) so a crash never leaves half a file.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub fn path_for(dir: Option<&Path>, emulator: &str) -> Option<PathBuf> {
    dir.map(|d| d.join(format!("{emulator}.json")))
}

/// Loads a saved state; `None` when there is no file (first start) or it cannot be read.
pub fn load<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "sandbox data file unreadable; starting from seed data");
            None
        }
    }
}

pub fn save<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(tmp, path)
}
