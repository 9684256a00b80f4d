//! `hub key rotate`: a new master key, every stored secret re-encrypted under it in one
//! transaction. The new key is written to `<key file>.new` (0600) before the database changes,
//! so a crash at any point leaves either the old key valid, or the new one on disk.

use anyhow::{bail, Context, Result};
use hub_store::key_check::KeySource;
use hub_store::secrets::{generate_key, write_key_file};
use hub_store::Cipher;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Config;

pub async fn rotate(cfg: &Config) -> Result<ExitCode> {
    let source = super::key_source(cfg);
    let store = super::open_store(cfg).await?;
    let staged = staged_path(&source);
    if staged.exists() {
        bail!(
            "{} exists: an earlier rotation did not finish. If the hub starts with the current key, delete it and rotate again; otherwise it holds the key in use",
            staged.display()
        );
    }
    let key = generate_key();
    write_key_file(&staged, &key).with_context(|| "cannot write the new key; nothing changed")?;
    let count = match store.rotate_key(&Cipher::from_key(&key)).await {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e).context("the rotation was rolled back; the current key stays in use");
        }
    };
    store.close().await;
    if source.env_key.is_some() {
        println!(
            "re-encrypted {count} secrets. The new key is in {}: set HUB_MASTER_KEY to its contents before the hub starts again (every hub sharing this database), keep a backup, then delete the file.",
            staged.display()
        );
    } else {
        std::fs::rename(&staged, &source.key_file).with_context(|| {
            format!(
                "the database now uses the new key, which is in {}: move it to {} by hand",
                staged.display(),
                source.key_file.display()
            )
        })?;
        println!(
            "re-encrypted {count} secrets under a new key in {}; back it up now (other hubs sharing this database need the same file)",
            source.key_file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn staged_path(source: &KeySource) -> PathBuf {
    let mut name = source.key_file.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}
