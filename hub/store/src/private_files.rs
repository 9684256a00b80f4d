//! A SQLite database holds password hashes, session data and customer records: its folder is
//! made 0700 and its files (`hub.db`, `-wal`, `-shm`, `-journal`) 0600, when first created and
//! at every start after migrations (an older hub made them 0644). SQLite creates the `-wal`
//! and `-shm` files with the main file's mode, so creating that one private is what matters.
//!
//! The folder is tightened only when it is the database's own (not `.`, `/`, or a shared
//! sticky folder such as `/tmp`): a database at `./hub.db` leaves the working folder alone.

use std::path::Path;

const SIDE_FILES: [&str; 4] = ["", "-wal", "-shm", "-journal"];

#[cfg(unix)]
pub(crate) fn create_private(db: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = own_folder(db) {
        tighten(dir, 0o700)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Makes the database's files 0600 and its own folder 0700.
#[cfg(unix)]
pub(crate) fn make_private(db: &Path) -> std::io::Result<()> {
    if let Some(dir) = own_folder(db) {
        tighten(dir, 0o700)?;
    }
    for suffix in SIDE_FILES {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        if file.exists() {
            tighten(file, 0o600)?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn own_folder(db: &Path) -> Option<&Path> {
    use std::os::unix::fs::PermissionsExt;
    let dir = db.parent().filter(|d| !d.as_os_str().is_empty())?;
    if dir == Path::new(".") || dir == Path::new("/") || dir.parent().is_none() {
        return None;
    }
    let mode = std::fs::metadata(dir).ok()?.permissions().mode();
    // Sticky and writable by all: a shared folder like /tmp, not the hub's.
    (mode & 0o1000 == 0).then_some(dir)
}

#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn create_private(_: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn make_private(_: &Path) -> std::io::Result<()> {
    Ok(())
}
