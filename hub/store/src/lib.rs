//! Renkei Hub's persistence: one `Store` over SQLite (embedded default, one file, WAL) or
//! PostgreSQL (several hub processes), chosen by the URL. Queries are written once in the SQL
//! both engines accept (`$N` placeholders, BIGINT milliseconds for times, TEXT JSON); the few
//! that need engine-specific locking branch on [`Engine`], and statements with thousands of
//! parameters take theirs from `params` (`?` on SQLite).
//!
//! Secrets are encrypted before they reach SQL (see [`secrets`]); nothing here logs values.

mod api_tokens;
pub mod changes;
mod connections;
pub mod connectors;
mod flows;
mod inquiries;
pub mod key_check;
pub mod links;
mod migrations;
pub mod oauth_states;
pub mod object_names;
mod params;
pub mod pending;
mod private_files;
pub mod run_days;
pub mod runs;
pub mod schedule;
pub mod secrets;
pub mod user_map;
pub mod users;

pub use secrets::{Cipher, SecretError};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    #[error("flow '{flow}' already has a queued or running run")]
    AlreadyRunning { flow: String },
    #[error("{0}")]
    Conflict(String),
    /// The run's lease expired and another runner may have taken it: this one must stop.
    #[error("run '{run}' is no longer this runner's: its lease expired (another runner may have resumed it)")]
    LeaseLost { run: String },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("cannot make the database files private ({path}): {source}")]
    Permissions {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] key_check::KeyError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    cipher: Arc<Cipher>,
    /// The SQLite file, kept private (`private_files`).
    sqlite_file: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("engine", &self.engine)
            .finish()
    }
}

impl Store {
    /// A transaction that writes. On SQLite it takes the write lock at BEGIN: a deferred
    /// transaction that reads first cannot upgrade while another process writes (it fails with
    /// SQLITE_BUSY at once, whatever the busy timeout), and `hub run` shares the file with a
    /// serving hub.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// Connects (creating a SQLite file and its directory if missing), applies migrations and
    /// checks that `cipher` is the key this database's secrets were written with (recording
    /// it on a new database): see [`key_check`].
    pub async fn open(url: &str, cipher: Cipher) -> Result<Store> {
        let store = Store::connect(url, cipher).await?;
        store.migrate().await?;
        store.check_key().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str, cipher: Cipher) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (engine, url) = normalize_url(url)?;
        let sqlite_file = sqlite_file(&url);
        if let Some(f) = &sqlite_file {
            private_files::create_private(f).map_err(|source| StoreError::Permissions {
                path: f.display().to_string(),
                source,
            })?;
        }
        let max = match engine {
            Engine::Sqlite => 8,
            Engine::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                             PRAGMA wal_autocheckpoint = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Store {
            pool,
            engine,
            cipher: Arc::new(cipher),
            sqlite_file,
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        migrations::migrator(self.engine).run(&self.pool).await?;
        if let Some(f) = &self.sqlite_file {
            private_files::make_private(f).map_err(|source| StoreError::Permissions {
                path: f.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// The same database with another key (after the key was checked or rotated).
    pub(crate) fn with_cipher(&self, cipher: Cipher) -> Store {
        Store {
            cipher: Arc::new(cipher),
            ..self.clone()
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// Copies SQLite's write-ahead log into the database file, as far as no reader still needs
    /// it (nothing to do on PostgreSQL). The scheduler calls it after a pass: left to SQLite,
    /// the copy runs inside whichever commit crosses `wal_autocheckpoint` pages, and with the
    /// default 1,000 that was every fourth batch of a 10,000-flow minute (13 ms each, on the
    /// fire lag). The 10,000 set in `connect` bounds the log (40 MB) should nobody call this.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.engine == Engine::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn normalize_url(url: &str) -> Result<(Engine, String)> {
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_string()));
        }
        if path != ":memory:" {
            if let Some(dir) = Path::new(path)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
        let query = if query.contains("mode=") {
            query.to_string()
        } else if query.is_empty() {
            "mode=rwc".to_string()
        } else {
            format!("{query}&mode=rwc")
        };
        Ok((Engine::Sqlite, format!("sqlite://{path}?{query}")))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Engine::Postgres, url.to_string()))
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

/// The file of a normalised SQLite URL (none for `:memory:` or PostgreSQL).
fn sqlite_file(normalized: &str) -> Option<PathBuf> {
    let rest = normalized.strip_prefix("sqlite://")?;
    let path = rest.split('?').next().unwrap_or(rest);
    (path != ":memory:" && !path.is_empty()).then(|| PathBuf::from(path))
}

/// Unique-constraint violations on both engines (SQLite 2067/1555, PostgreSQL 23505).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            matches!(
                db.code().as_deref(),
                Some("2067") | Some("1555") | Some("23505")
            ) || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

pub(crate) fn get<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(col).map_err(StoreError::from)
}

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T> {
    let text: String = get(row, col)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let dir = std::env::temp_dir().join(format!("hubstore-url-{}", std::process::id()));
        let url = format!("sqlite://{}/x/hub.db", dir.display());
        let (e, u) = normalize_url(&url).unwrap();
        assert_eq!(e, Engine::Sqlite);
        assert!(u.ends_with("hub.db?mode=rwc"));
        assert!(dir.join("x").is_dir());
        assert!(matches!(
            normalize_url("mysql://x"),
            Err(StoreError::BadUrl(_))
        ));
        assert_eq!(
            normalize_url("postgres://u@h/db").unwrap().0,
            Engine::Postgres
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
