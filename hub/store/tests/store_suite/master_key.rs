//! The master key: a database refuses a key other than the one its secrets were written with,
//! no key file is made for a database that has secrets, rotation re-encrypts everything, and a
//! SQLite database's files are private.

use super::common;
use super::{new_connection, SECRET};
use hub_store::key_check::{KeyError, KeySource};
use hub_store::*;

fn source(env_key: Option<&str>, key_file: &std::path::Path) -> KeySource {
    KeySource {
        env_key: env_key.map(str::to_string),
        key_file: key_file.to_path_buf(),
    }
}

#[tokio::test]
async fn another_key_is_refused_naming_where_it_came_from() {
    for t in common::stores().await {
        let id = t
            .store
            .insert_connection(&new_connection("x"))
            .await
            .unwrap();
        let url = match &t.sqlite_file {
            Some(f) => format!("sqlite://{}", f.display()),
            None => continue_with_postgres_url(&t).await,
        };
        // Another key, from the variable: refused, naming the variable.
        let err = Store::open_with_key(
            &url,
            &source(Some(&"cd".repeat(32)), "/nonexistent/k".as_ref()),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Key(KeyError::Mismatch { .. })),
            "{}: {err}",
            t.name
        );
        assert!(err.to_string().contains("HUB_MASTER_KEY"), "{err}");
        // Another key from a file: refused, naming the file.
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other.key");
        std::fs::write(&other, "ef".repeat(32)).unwrap();
        set_private(&other);
        let err = Store::open_with_key(&url, &source(None, &other))
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(&other.display().to_string()),
            "{err}"
        );
        // No key at all: refused, and no key file is created.
        let missing = dir.path().join("master.key");
        let err = Store::open_with_key(&url, &source(None, &missing))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Key(KeyError::Missing { .. })),
            "{err}"
        );
        assert!(
            !missing.exists(),
            "a key file was created for a database with secrets"
        );
        // The right key opens it and reads the secret.
        let right = hex_key(&[42u8; 32]);
        let store = Store::open_with_key(&url, &source(Some(&right), &missing))
            .await
            .unwrap();
        let c = store.connection_secrets(&id).await.unwrap();
        assert_eq!(c.credentials["api_token"].expose(), SECRET);
    }
}

#[tokio::test]
async fn a_new_database_gets_a_key_file_and_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/hub.db", dir.path().display());
    let key_file = dir.path().join("data/master.key");
    let store = Store::open_with_key(&url, &source(None, &key_file))
        .await
        .unwrap();
    assert!(key_file.exists());
    store.close().await;
    // The same file opens it again; a new file in its place does not.
    Store::open_with_key(&url, &source(None, &key_file))
        .await
        .unwrap()
        .close()
        .await;
    std::fs::remove_file(&key_file).unwrap();
    let err = Store::open_with_key(&url, &source(None, &key_file))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Key(KeyError::Missing { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn rotation_re_encrypts_every_secret_in_one_go() {
    for t in common::stores().await {
        let id = t
            .store
            .insert_connection(&new_connection("x"))
            .await
            .unwrap();
        let new = Cipher::from_key(&[7u8; 32]);
        let n = t.store.rotate_key(&new).await.unwrap();
        assert!(n >= 2, "{}: {n} secrets re-encrypted", t.name);
        let url = match &t.sqlite_file {
            Some(f) => format!("sqlite://{}", f.display()),
            None => continue_with_postgres_url(&t).await,
        };
        let nowhere = std::path::Path::new("/nonexistent/k");
        let err = Store::open_with_key(&url, &source(Some(&hex_key(&[42u8; 32])), nowhere))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Key(KeyError::Mismatch { .. })),
            "{err}"
        );
        let store = Store::open_with_key(&url, &source(Some(&hex_key(&[7u8; 32])), nowhere))
            .await
            .unwrap();
        let c = store.connection_secrets(&id).await.unwrap();
        assert_eq!(c.credentials["api_token"].expose(), SECRET);
        assert_eq!(c.refresh_token.unwrap().expose(), "refresh-DO-NOT-LEAK");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_private_even_when_an_older_hub_left_them_open() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("hub.db");
    let url = format!("sqlite://{}", db.display());
    let store = Store::open(&url, common::cipher()).await.unwrap();
    store.insert_connection(&new_connection("x")).await.unwrap();
    assert_eq!(mode(&data), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        let f = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if f.exists() {
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }
    store.close().await;
    // What an older hub left: a 0755 folder and 0644 files; the next start tightens them.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::open(&url, common::cipher()).await.unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&db), 0o600);
    store.close().await;
}

fn hex_key(k: &[u8; 32]) -> String {
    k.iter().map(|b| format!("{b:02x}")).collect()
}

fn set_private(p: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

async fn continue_with_postgres_url(t: &common::TestStore) -> String {
    t.postgres_url
        .clone()
        .expect("a PostgreSQL test store has its URL")
}
