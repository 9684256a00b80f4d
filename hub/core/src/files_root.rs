//! Folder settings (a manifest's `path` kind, e.g. 奉行's CSV watch folder) stay inside one
//! folder the admin chose (`HUB_FILES_ROOT`, default `data/files`): a connector creates
//! folders and reads and writes files where such a setting points, so `/etc` or `../../..`
//! must not be accepted. A relative value is taken inside the root; the stored value is the
//! absolute path. `..` may not climb out, and a symbolic link inside the root that leads out
//! is seen through (the longest existing part of the path is resolved).

use std::path::{Component, Path, PathBuf};

use crate::error::{HubError, HubResult};
use hub_messages::Message;

/// The default root, relative to the hub's working folder.
pub const DEFAULT_ROOT: &str = "data/files";

/// The absolute folder for `value`, inside `root`; refused (naming `field`) otherwise.
pub fn confine(root: &Path, field: &str, value: &str) -> HubResult<String> {
    let refuse = || {
        HubError::invalid(
            field,
            Message::new("err.files_root").with("root", root.display()),
        )
    };
    let root = absolute(root);
    let wanted = Path::new(value);
    let joined = if wanted.is_absolute() {
        wanted.to_path_buf()
    } else {
        root.join(wanted)
    };
    let normal = normalize(&joined).ok_or_else(refuse)?;
    if !normal.starts_with(&root) {
        return Err(refuse());
    }
    // Symbolic links: what the existing part of the path really is must be inside the root too.
    if let (Some(real_root), Some(real)) = (resolve_existing(&root), resolve_existing(&normal)) {
        if !real.starts_with(&real_root) {
            return Err(refuse());
        }
    }
    Ok(normal.display().to_string())
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p).unwrap_or_else(|| p.to_path_buf())
    } else {
        let joined = std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf());
        normalize(&joined).unwrap_or(joined)
    }
}

/// `.` and `..` removed without touching the disk; `None` when `..` climbs above `/`.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Prefix(_) | Component::RootDir => out.push(c.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Some(out)
}

/// The longest existing ancestor of `p` resolved through its links, with the rest appended.
fn resolve_existing(p: &Path) -> Option<PathBuf> {
    let mut existing = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        let name = existing.file_name()?.to_os_string();
        rest.push(name);
        if !existing.pop() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        std::fs::create_dir_all(&root).unwrap();
        let ok = confine(&root, "settings.csv_root", "bugyo/csv").unwrap();
        assert_eq!(ok, root.join("bugyo/csv").display().to_string());
        let inside = root.join("a").display().to_string();
        assert_eq!(confine(&root, "f", &inside).unwrap(), inside);
        for bad in [
            "/etc",
            "../../..",
            "bugyo/../../x",
            "/",
            "..",
            "a/../../files2",
        ] {
            let e = confine(&root, "settings.csv_root", bad).unwrap_err();
            assert!(e.to_string().contains("settings.csv_root"), "{bad}: {e}");
        }
        // A link inside the root that leads out of it.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
            assert!(confine(&root, "f", "escape/x").is_err());
        }
    }
}
