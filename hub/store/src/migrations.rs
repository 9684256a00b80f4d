//! The schema's migrations, one set for both engines (`migrations/shared`) plus a file per
//! engine where their SQL differs (`migrations/sqlite`, `migrations/postgres`: `0001_initial`).
//!
//! Each folder is embedded by `sqlx::migrate!`, so version, description, type, `no_tx` and
//! checksum (SHA-384 of the file) are derived by sqlx exactly as when each engine had a full
//! folder of its own: databases migrated before the split see the same history and run on.

use crate::Engine;
use sqlx::migrate::{Migration, Migrator};
use std::borrow::Cow;
use std::sync::LazyLock;

static SHARED: Migrator = sqlx::migrate!("./migrations/shared");
static SQLITE_ONLY: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_ONLY: Migrator = sqlx::migrate!("./migrations/postgres");

static SQLITE: LazyLock<Migrator> = LazyLock::new(|| merged(&SQLITE_ONLY));
static POSTGRES: LazyLock<Migrator> = LazyLock::new(|| merged(&POSTGRES_ONLY));

/// The migrations `engine` runs, in version order.
pub(crate) fn migrator(engine: Engine) -> &'static Migrator {
    match engine {
        Engine::Sqlite => &SQLITE,
        Engine::Postgres => &POSTGRES,
    }
}

fn merged(specific: &Migrator) -> Migrator {
    let mut all: Vec<Migration> = specific.iter().chain(SHARED.iter()).cloned().collect();
    all.sort_by_key(|m| m.version);
    Migrator {
        migrations: Cow::Owned(all),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::migrate::MigrationType;

    /// (version, description, SHA-384 hex) of every migration (up to 0010 taken from the
    /// per-engine folders before they were merged); a database records these, so they must
    /// never change: a new migration is added here, an old one is never edited.
    const SHARED_HISTORY: [(i64, &str, &str); 13] = [
        (2, "users", "c59a0538d260a4ca01b9854a5a0c7d9fed6e88fa87b3b7417d26164cf3c9f6d5493df606c2fe0bd22c834d936cc18eba"),
        (3, "run changes", "40467c8bcaa5173defdf688d9ca6d12eaed37c67e0349ee0f6dc41d94dd5f8ce57b14d1ed0321ccd8da82c75eae58a36"),
        (4, "run history indexes", "98040df965dbd6f3d51ad03afb7c09422c2c62d6e5bba8b75e49df4d5a8dad2f7dfea39bfe9b68b1a5193578c8f77d9b"),
        (5, "api token roles", "f95b7a32cddebc27169ec8bffe0c86e482af0d11de4f640f1b543ddbb84b3e9b8ab43ff82c74494beb370f740296d55a"),
        (6, "key check", "1b48859ecafc5dfa20f11bd602fece757cc3d291c3227844bd226c48809046a9c87dd8c8957ba8441b0e207c677cc701"),
        (7, "connection checked", "7ab0631a2d3de80c1e7f0450806db0f8fcca7f755b6f9d15c45f74979952dfd7ad7258fa91601ee728c088217387aaf9"),
        (8, "pending records", "78e9e4edc4fa7e7f5f3b03d831cbebec5c0468a85f5ccf26be37a5898412d5d1a8ba346a1a70fb3ae016c76ec4345017"),
        (9, "user map", "013af84950b855502de076ea6bd054207978fed6907223e94077b85f9fe74f9825009dc1c467befc236515901ac8b29f"),
        (10, "inquiry delivery", "6ef75e3b79278cac96b4814ebf9600ea0364f14537f100730a6b40fcc1b9cf0586b13b36038c67971389b20abfc2a264"),
        (11, "run warnings", "e6fc33e3d06400fb4a3414d2b59b68d1f743c78a3d43f30e57ba39de9f1291737cf8ac41dc88cf3685699b329c0d18d5"),
        (12, "run expected", "250106d108e18b7a8881197390a212f407ef03567511356edef20a3774662f96c81f4edbf636db6818ccaa998c330f59"),
        (13, "run days", "9c0ca8d9dd9cacc6f5a1b354f10f6727cd83ca7d14ab4906df956a343cf10f159081e4cff58f76d0e8d7ba4882c7e71d"),
        (14, "record titles", "6b6f652172c6765220a0e6354f911cb1cce99b109ae608c2e0b886eb16d1fd0b5dc8a53ba02a1bef260b1153087a6872"),
    ];
    const SQLITE_INITIAL: &str = "625de63b6fd7bb95e1781bf442a176d00e054076786069ff376169def25853ab440cb28237079bf849d9ae6f8c2c9d92";
    const POSTGRES_INITIAL: &str = "57f19bb533f7c3b7fad8ca3e88220e55024c14910f10628d9e56590541f37c3ce17e485e164b82361a5b506d62a7693d";

    fn history(engine: Engine) -> Vec<(i64, String, String)> {
        migrator(engine)
            .iter()
            .map(|m| {
                assert_eq!(m.migration_type, MigrationType::Simple, "{}", m.version);
                assert!(!m.no_tx, "{}", m.version);
                (
                    m.version,
                    m.description.to_string(),
                    hex::encode(&m.checksum),
                )
            })
            .collect()
    }

    fn expected(initial: &str) -> Vec<(i64, String, String)> {
        std::iter::once((1, "initial", initial))
            .chain(SHARED_HISTORY)
            .map(|(v, d, c)| (v, d.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn each_engine_keeps_the_history_its_databases_recorded() {
        assert_eq!(history(Engine::Sqlite), expected(SQLITE_INITIAL));
        assert_eq!(history(Engine::Postgres), expected(POSTGRES_INITIAL));
    }

    #[test]
    fn checksums_are_of_the_sql_run() {
        for engine in [Engine::Sqlite, Engine::Postgres] {
            for m in migrator(engine).iter() {
                let again = Migration::new(
                    m.version,
                    m.description.clone(),
                    m.migration_type,
                    m.sql.clone(),
                    m.no_tx,
                );
                assert_eq!(again.checksum, m.checksum, "{engine:?} {}", m.version);
            }
        }
    }
}
