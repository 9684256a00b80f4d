//! One connection status, from the last check or run: `unchecked` until then, `ok` / `error`
//! with the time it was found, back to `unchecked` when the endpoint or a credential changes.

use super::common;
use super::new_connection;
use connector_sdk::Secret;
use hub_domain::*;
use hub_store::*;
use std::collections::BTreeMap;

#[tokio::test]
async fn a_connection_is_unchecked_until_checked_and_again_after_a_change() {
    for t in common::stores().await {
        let s = &t.store;
        let id = s.insert_connection(&new_connection("本社")).await.unwrap();
        let c = s.get_connection(&id).await.unwrap();
        assert_eq!(c.status, ConnectionStatus::Unchecked, "{}", t.name);
        assert_eq!(c.checked_at, None);

        // A failed check: error, with its reason and time.
        let before = now_ms();
        s.set_connection_status(&id, ConnectionStatus::Error, Some("認証に失敗しました"))
            .await
            .unwrap();
        let c = s.get_connection(&id).await.unwrap();
        assert_eq!(c.status, ConnectionStatus::Error);
        assert_eq!(c.status_message.as_deref(), Some("認証に失敗しました"));
        assert!(c.checked_at.is_some_and(|at| at >= before), "{c:?}");

        // A new credential: what the check found says nothing any more.
        let mut creds = BTreeMap::new();
        creds.insert("api_token".to_string(), Secret::new("new-token"));
        let c = s
            .update_connection(
                &id,
                &ConnectionPatch {
                    credentials: Some(creds),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(c.status, ConnectionStatus::Unchecked);
        assert_eq!((c.checked_at, c.status_message), (None, None));

        // A good check: ok, with its time. A rename keeps it.
        s.set_connection_status(&id, ConnectionStatus::Ok, None)
            .await
            .unwrap();
        let c = s
            .update_connection(
                &id,
                &ConnectionPatch {
                    name: Some("本社 kintone".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(c.status, ConnectionStatus::Ok);
        assert!(c.checked_at.is_some());

        // A token refresh is not a check: the status stays.
        s.save_tokens(&id, &Secret::new("access"), None, None)
            .await
            .unwrap();
        assert_eq!(
            s.get_connection(&id).await.unwrap().status,
            ConnectionStatus::Ok
        );

        // A moved endpoint: unchecked again.
        let c = s
            .update_connection(
                &id,
                &ConnectionPatch {
                    endpoint_changed: true,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(c.status, ConnectionStatus::Unchecked);
        assert_eq!(c.checked_at, None);

        // Signed in again after 再認証が必要: unchecked, not ok.
        s.set_connection_status(&id, ConnectionStatus::Reauthorize, Some("invalid_grant"))
            .await
            .unwrap();
        s.save_tokens(&id, &Secret::new("access-2"), None, None)
            .await
            .unwrap();
        let c = s.get_connection(&id).await.unwrap();
        assert_eq!(c.status, ConnectionStatus::Unchecked);
        assert_eq!(c.status_message, None);
    }
}

/// Rows saved before `0007_connection_checked` were `ok` by default, never checked: 未確認.
#[tokio::test]
async fn connections_saved_before_the_migration_are_unchecked() {
    use sqlx::Executor;
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("migrations");
    std::fs::create_dir_all(&old).unwrap();
    let dir_of = |set: &str| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(set)
    };
    let files = std::fs::read_dir(dir_of("sqlite"))
        .unwrap()
        .chain(std::fs::read_dir(dir_of("shared")).unwrap());
    for e in files {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if name.as_str() < "0007" {
            std::fs::copy(e.path(), old.join(&name)).unwrap();
        }
    }
    let file = dir.path().join("hub.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        for (id, status) in [("c1", "ok"), ("c2", "reauthorize")] {
            pool.execute(
                format!(
                    "INSERT INTO connections (id, connector_id, name, settings, registration_number, \
                     phone, status, created_at, updated_at) \
                     VALUES ('{id}', 'kintone', '{id}', '{{}}', '1', '03-1234-5678', '{status}', 1, 1)"
                )
                .as_str(),
            )
            .await
            .unwrap();
        }
        pool.close().await;
    }
    let store = Store::open(&format!("sqlite://{}", file.display()), common::cipher())
        .await
        .unwrap();
    let c1 = store.get_connection("c1").await.unwrap();
    assert_eq!(c1.status, ConnectionStatus::Unchecked);
    assert_eq!(c1.checked_at, None);
    assert_eq!(
        store.get_connection("c2").await.unwrap().status,
        ConnectionStatus::Reauthorize
    );
}
