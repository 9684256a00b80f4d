//! The master key's check value: a known text encrypted with the key, kept in `hub_meta`, so a
//! hub given another key refuses to start (naming where its key came from) instead of serving
//! and failing on every secret; and the key's rotation, every secret re-encrypted in one
//! transaction.
//!
//! A database written before the check existed gets one at its first start, after one stored
//! secret (if any) was seen to decrypt with the given key.

use rand::RngCore;
use std::path::PathBuf;

use crate::secrets::{self, Cipher, SecretError};
use crate::{get, Result, Store, StoreError};

const CHECK_KEY: &str = "master_key_check";
const CHECK_CONTEXT: &str = "hub:master_key_check";
const CHECK_TEXT: &str = "renkei-hub master key check v1";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the master key from {from} is not the key this database's secrets were written with; start the hub with the right key (HUB_MASTER_KEY or HUB_MASTER_KEY_FILE / master_key_file), or restore that key file from its backup")]
    Mismatch { from: String },
    #[error("this database holds secrets written with a master key, but no key was given: {key_file} does not exist and HUB_MASTER_KEY is not set. Restore the key file from its backup or set HUB_MASTER_KEY; a new key would leave every stored secret unreadable, so none is created")]
    Missing { key_file: PathBuf },
}

/// Where the hub takes its master key from: `HUB_MASTER_KEY`, else a key file.
#[derive(Debug, Clone)]
pub struct KeySource {
    pub env_key: Option<String>,
    pub key_file: PathBuf,
}

impl KeySource {
    fn env(&self) -> Option<&str> {
        self.env_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// For messages: which variable or file the key came from.
    pub fn describe(&self) -> String {
        match self.env() {
            Some(_) => "HUB_MASTER_KEY".into(),
            None => format!("the key file {}", self.key_file.display()),
        }
    }

    /// The key if one was given or its file exists; never creates one.
    fn existing(&self) -> Result<Option<Cipher>, SecretError> {
        match self.env() {
            Some(k) => Ok(Some(Cipher::from_key(&secrets::parse_key(k)?))),
            None => secrets::read_key_file(&self.key_file).map(|k| k.map(|k| Cipher::from_key(&k))),
        }
    }
}

/// Secret columns: table, key column, ciphertext column, and the context each was bound to.
type ContextOf = fn(&str, &str) -> String;
const SECRET_COLUMNS: &[(&str, &str, &str, ContextOf)] = &[
    ("connections", "id", "credentials_enc", |id, _| {
        format!("connection:{id}:credentials")
    }),
    ("connections", "id", "access_token_enc", |id, _| {
        format!("connection:{id}:access_token")
    }),
    ("connections", "id", "refresh_token_enc", |id, _| {
        format!("connection:{id}:refresh_token")
    }),
    ("flows", "id", "notify_secret_enc", |id, _| {
        format!("flow:{id}:notify")
    }),
    ("oauth_states", "state", "pkce_verifier_enc", |state, _| {
        format!("oauth_state:{state}")
    }),
    ("sessions", "id_hash", "data_enc", |hash, _| {
        format!("session:{hash}:data")
    }),
];

impl Store {
    /// Opens the database with the master key from `source`. A key file is created only for a
    /// database that holds no secret yet; a key that does not match is refused.
    pub async fn open_with_key(url: &str, source: &KeySource) -> Result<Store> {
        let mut placeholder = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut placeholder);
        let store = Store::connect(url, Cipher::from_key(&placeholder)).await?;
        store.migrate().await?;
        let cipher = match source.existing()? {
            Some(c) => c,
            None => {
                if store.stored_check().await?.is_some() || store.sample_secret().await?.is_some() {
                    return Err(KeyError::Missing {
                        key_file: source.key_file.clone(),
                    }
                    .into());
                }
                Cipher::from_key(&secrets::create_key_file(&source.key_file)?)
            }
        };
        let store = store.with_cipher(cipher);
        store.verify_or_record(&source.describe()).await?;
        Ok(store)
    }

    /// Checks this store's key (recording the check on a database that has none).
    pub(crate) async fn check_key(&self) -> Result<()> {
        self.verify_or_record("the given key").await
    }

    async fn stored_check(&self) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM hub_meta WHERE key = $1")
            .bind(CHECK_KEY)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get(&r, "value")).transpose()
    }

    /// One stored secret and its context, to test a key on a database older than the check.
    async fn sample_secret(&self) -> Result<Option<(String, String)>> {
        for (table, key, column, context) in SECRET_COLUMNS {
            let row = sqlx::query(&format!(
                "SELECT {key} AS k, {column} AS v FROM {table} WHERE {column} IS NOT NULL LIMIT 1"
            ))
            .fetch_optional(&self.pool)
            .await?;
            if let Some(r) = row {
                let k: String = get(&r, "k")?;
                return Ok(Some((get(&r, "v")?, context(&k, column))));
            }
        }
        Ok(None)
    }

    async fn verify_or_record(&self, source: &str) -> Result<()> {
        let mismatch = || -> StoreError {
            KeyError::Mismatch {
                from: source.to_string(),
            }
            .into()
        };
        if self.stored_check().await?.is_none() {
            if let Some((enc, context)) = self.sample_secret().await? {
                self.cipher
                    .decrypt(&enc, &context)
                    .map_err(|_| mismatch())?;
            }
            // Two hubs starting at once on a new database: the first check written wins, and
            // both verify against it below.
            sqlx::query(
                "INSERT INTO hub_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            )
            .bind(CHECK_KEY)
            .bind(self.cipher.encrypt(CHECK_TEXT, CHECK_CONTEXT))
            .execute(&self.pool)
            .await?;
        }
        let stored = self.stored_check().await?.ok_or_else(mismatch)?;
        match self.cipher.decrypt(&stored, CHECK_CONTEXT) {
            Ok(text) if text == CHECK_TEXT => Ok(()),
            _ => Err(mismatch()),
        }
    }

    /// Re-encrypts every secret and the check value under `new`, in one transaction; answers
    /// the number of values re-encrypted. The store keeps using its old key: open it again
    /// with the new one.
    pub async fn rotate_key(&self, new: &Cipher) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut count = 0;
        for (table, key, column, context) in SECRET_COLUMNS {
            let rows = sqlx::query(&format!(
                "SELECT {key} AS k, {column} AS v FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(&mut *tx)
            .await?;
            for r in rows {
                let k: String = get(&r, "k")?;
                let ctx = context(&k, column);
                let plain = self.cipher.decrypt(&get::<String>(&r, "v")?, &ctx)?;
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE {key} = $2"
                ))
                .bind(new.encrypt(&plain, &ctx))
                .bind(&k)
                .execute(&mut *tx)
                .await?;
                count += 1;
            }
        }
        sqlx::query(
            "INSERT INTO hub_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(CHECK_KEY)
        .bind(new.encrypt(CHECK_TEXT, CHECK_CONTEXT))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(count)
    }
}
