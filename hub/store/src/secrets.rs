//! Encryption at rest for credentials and tokens: XChaCha20-Poly1305 with a random nonce per
//! value and the owning row as associated data, so a ciphertext copied to another row fails.
//! The key never touches the database: it comes from `HUB_MASTER_KEY` or a key file (mode 0600).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::path::{Path, PathBuf};

const PREFIX: &str = "v1:";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("HUB_MASTER_KEY must be 32 bytes as 64 hex characters or base64 ({0}); generate one with `openssl rand -hex 32`")]
    BadKey(String),
    #[error("master key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "master key file {path} is readable by others (mode {mode:o}); run `chmod 600 {path}`"
    )]
    KeyFileMode { path: PathBuf, mode: u32 },
    #[error("a stored secret cannot be decrypted: the master key differs from the one it was written with, or the data was altered")]
    Decrypt,
    #[error("a stored secret is not in the expected format")]
    Format,
}

#[derive(Clone)]
pub struct Cipher {
    aead: XChaCha20Poly1305,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher([REDACTED])")
    }
}

impl Cipher {
    pub fn from_key(key: &[u8; KEY_LEN]) -> Self {
        Cipher {
            aead: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key from `HUB_MASTER_KEY` (hex or base64) if given, else from `key_file`, creating
    /// the file with a fresh random key and mode 0600 on first start.
    pub fn load(env_key: Option<&str>, key_file: &Path) -> Result<Self, SecretError> {
        if let Some(k) = env_key.map(str::trim).filter(|k| !k.is_empty()) {
            return Ok(Cipher::from_key(&parse_key(k)?));
        }
        Ok(Cipher::from_key(&load_or_create_key_file(key_file)?))
    }

    /// Encrypts `plain`, bound to `context` (e.g. `connection:ID:credentials`).
    pub fn encrypt(&self, plain: &str, context: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            // Encryption fails only for messages beyond the cipher's length limit (~256 GiB).
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str, context: &str) -> Result<String, SecretError> {
        let raw = stored.strip_prefix(PREFIX).ok_or(SecretError::Format)?;
        let bytes = B64.decode(raw).map_err(|_| SecretError::Format)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretError::Format);
        }
        let (nonce, ct) = bytes.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::Format)
    }
}

pub(crate) fn parse_key(k: &str) -> Result<[u8; KEY_LEN], SecretError> {
    let bytes = if k.len() == KEY_LEN * 2 && k.chars().all(|c| c.is_ascii_hexdigit()) {
        hex::decode(k).map_err(|e| SecretError::BadKey(e.to_string()))?
    } else {
        B64.decode(k)
            .map_err(|e| SecretError::BadKey(e.to_string()))?
    };
    bytes
        .try_into()
        .map_err(|v: Vec<u8>| SecretError::BadKey(format!("got {} bytes", v.len())))
}

fn load_or_create_key_file(path: &Path) -> Result<[u8; KEY_LEN], SecretError> {
    match read_key_file(path)? {
        Some(key) => Ok(key),
        None => create_key_file(path),
    }
}

/// The key in `path`, or none when the file does not exist.
pub(crate) fn read_key_file(path: &Path) -> Result<Option<[u8; KEY_LEN]>, SecretError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            check_mode(path)?;
            parse_key(text.trim()).map(Some)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SecretError::KeyFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A fresh random key.
pub fn generate_key() -> [u8; KEY_LEN] {
    let mut key = [0u8; KEY_LEN];
    rand::thread_rng().fill_bytes(&mut key);
    key
}

/// Writes `key` to a new file at `path` (mode 0600, hex); refuses to overwrite one.
pub fn write_key_file(path: &Path, key: &[u8; KEY_LEN]) -> Result<(), SecretError> {
    let err = |source| SecretError::KeyFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    write_private(path, &hex::encode(key)).map_err(err)
}

/// Creates `path` with a fresh random key, mode 0600.
pub(crate) fn create_key_file(path: &Path) -> Result<[u8; KEY_LEN], SecretError> {
    let key = generate_key();
    write_key_file(path, &key)?;
    tracing::info!(file = %path.display(), "created a new master key file; back it up: without it stored secrets cannot be read");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(unix)]
fn check_mode(path: &Path) -> Result<(), SecretError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| SecretError::KeyFile {
            path: path.to_path_buf(),
            source,
        })?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::KeyFileMode {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path) -> Result<(), SecretError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context() {
        let c = Cipher::from_key(&[7u8; 32]);
        let enc = c.encrypt("トークン-secret", "connection:a:credentials");
        assert!(!enc.contains("secret"));
        assert_eq!(
            c.decrypt(&enc, "connection:a:credentials").unwrap(),
            "トークン-secret"
        );
        assert!(matches!(
            c.decrypt(&enc, "connection:b:credentials"),
            Err(SecretError::Decrypt)
        ));
        let other = Cipher::from_key(&[8u8; 32]);
        assert!(matches!(
            other.decrypt(&enc, "connection:a:credentials"),
            Err(SecretError::Decrypt)
        ));
    }

    #[test]
    fn key_file_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let a = Cipher::load(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let b = Cipher::load(None, &path).unwrap();
        let enc = a.encrypt("x", "c");
        assert_eq!(b.decrypt(&enc, "c").unwrap(), "x");
    }

    #[test]
    fn env_key_formats() {
        assert!(Cipher::load(Some(&"ab".repeat(32)), Path::new("/nonexistent/k")).is_ok());
        let err = Cipher::load(Some("short"), Path::new("/nonexistent/k")).unwrap_err();
        assert!(err.to_string().contains("HUB_MASTER_KEY"));
    }
}
