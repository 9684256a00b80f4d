//! The store suite: the same cases on SQLite and PostgreSQL.

mod common;
#[path = "store_suite/connection_status.rs"]
mod connection_status;
#[path = "store_suite/links_on_commit.rs"]
mod links_on_commit;
#[path = "store_suite/master_key.rs"]
mod master_key;
#[path = "store_suite/object_names.rs"]
mod object_names;
#[path = "store_suite/pending_on_commit.rs"]
mod pending_on_commit;
#[path = "store_suite/run_days.rs"]
mod run_days;

use connector_sdk::Secret;
use hub_domain::*;
use hub_messages::Message;
use hub_store::runs::Finished;
use hub_store::*;
use serde_json::json;
use std::collections::BTreeMap;

const SECRET: &str = "kintone-token-DO-NOT-LEAK-5f3a";

fn new_connection(name: &str) -> NewConnection {
    let mut credentials = BTreeMap::new();
    credentials.insert("api_token".to_string(), Secret::new(SECRET));
    NewConnection {
        connector_id: "kintone".into(),
        name: name.into(),
        settings: json!({"base_url": "http://localhost:1", "app": "1"})
            .as_object()
            .cloned()
            .unwrap(),
        registration_number: "1234-5678-9012".into(),
        phone: "03-1234-5678".into(),
        credentials,
        refresh_token: Some(Secret::new("refresh-DO-NOT-LEAK")),
    }
}

fn flow_spec(conn: &str) -> FlowSpec {
    serde_json::from_value(json!({
        "name": "kintone 顧客管理 → Zoho 取引先",
        "source": {"connection": conn, "object": "1"},
        "target": {"connection": conn, "object": "Accounts"},
        "mapping": [{"from": "会社名", "to": "Account_Name"}],
        "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}],
        "schedule": {"cron": "0 5 * * *"}
    }))
    .unwrap()
}

#[tokio::test]
async fn connections_keep_secrets_encrypted() {
    for t in common::stores().await {
        let s = &t.store;
        let id = s
            .insert_connection(&new_connection("本社 kintone"))
            .await
            .unwrap();
        let c = s.get_connection(&id).await.unwrap();
        assert_eq!(c.name, "本社 kintone", "{}", t.name);
        assert_eq!(c.credential_keys, vec!["api_token"]);
        assert_eq!(c.token.status, "none");
        let secrets = s.connection_secrets(&id).await.unwrap();
        assert_eq!(secrets.credentials["api_token"].expose(), SECRET);
        assert_eq!(
            secrets.refresh_token.unwrap().expose(),
            "refresh-DO-NOT-LEAK"
        );

        // Patch merges credentials and keeps the others.
        let mut more = BTreeMap::new();
        more.insert("password".to_string(), Secret::new("pw"));
        let c = s
            .update_connection(
                &id,
                &ConnectionPatch {
                    name: Some("改名".into()),
                    credentials: Some(more),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(c.name, "改名");
        assert_eq!(c.credential_keys, vec!["api_token", "password"]);
        assert_eq!(c.phone, "03-1234-5678");

        // Tokens: saved atomically with a rotated refresh token; expiry shows in the status.
        let future = now_ms() + 3_600_000;
        s.save_tokens(
            &id,
            &Secret::new("access-1"),
            Some(&Secret::new("refresh-2")),
            Some(future),
        )
        .await
        .unwrap();
        let c = s.get_connection(&id).await.unwrap();
        assert_eq!(c.token.status, "valid");
        assert_eq!(c.token.expires_at, Some(future));
        assert!(c.token.refreshed_at.is_some());
        let secrets = s.connection_secrets(&id).await.unwrap();
        assert_eq!(secrets.access_token.unwrap().expose(), "access-1");
        assert_eq!(secrets.refresh_token.unwrap().expose(), "refresh-2");
        s.save_tokens(&id, &Secret::new("access-2"), None, Some(now_ms() - 1))
            .await
            .unwrap();
        assert_eq!(s.get_connection(&id).await.unwrap().token.status, "expired");
        assert_eq!(
            s.connection_secrets(&id)
                .await
                .unwrap()
                .refresh_token
                .unwrap()
                .expose(),
            "refresh-2"
        );
        s.set_connection_status(&id, ConnectionStatus::Reauthorize, Some("invalid_grant"))
            .await
            .unwrap();
        assert_eq!(
            s.get_connection(&id).await.unwrap().token.status,
            "reauthorize"
        );

        // Another key is refused at open; connected without the check, it cannot read the
        // secrets either.
        if let Some(file) = &t.sqlite_file {
            let url = format!("sqlite://{}", file.display());
            assert!(matches!(
                Store::open(&url, Cipher::from_key(&[1u8; 32])).await,
                Err(StoreError::Key(_))
            ));
            let other = Store::connect(&url, Cipher::from_key(&[1u8; 32]))
                .await
                .unwrap();
            assert!(matches!(
                other.connection_secrets(&id).await,
                Err(StoreError::Secret(_))
            ));
            other.close().await;
        }
        assert_eq!(s.list_connections().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn sqlite_file_holds_no_plaintext_secret() {
    let t = common::stores().await.into_iter().next().unwrap();
    let id = t
        .store
        .insert_connection(&new_connection("x"))
        .await
        .unwrap();
    t.store
        .save_tokens(&id, &Secret::new("access-DO-NOT-LEAK"), None, None)
        .await
        .unwrap();
    t.store.close().await;
    let dir = t
        .sqlite_file
        .as_ref()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    for entry in std::fs::read_dir(&dir).unwrap() {
        // The WAL and shared-memory files may vanish as the last connection closes.
        let Ok(bytes) = std::fs::read(entry.unwrap().path()) else {
            continue;
        };
        for needle in [SECRET, "refresh-DO-NOT-LEAK", "access-DO-NOT-LEAK"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} found in the database"
            );
        }
    }
}

#[tokio::test]
async fn flows_round_trip_and_delete() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let spec = flow_spec(&conn);
        let id = s.insert_flow(&spec, Some(123)).await.unwrap();
        let f = s.get_flow(&id).await.unwrap();
        assert_eq!(f.spec, spec, "{}", t.name);
        assert_eq!(f.spec.schedule.as_ref().unwrap().timezone, "Asia/Tokyo");
        assert!(f.spec.filters.skip_private);
        assert_eq!(f.next_fire_at, Some(123));
        let mut changed = spec.clone();
        changed.name = "変更後".into();
        changed.enabled = false;
        let f = s.update_flow(&id, &changed, None).await.unwrap();
        assert_eq!(f.spec.name, "変更後");
        assert_eq!(f.next_fire_at, None);
        assert!(matches!(
            s.delete_connection(&conn).await,
            Err(StoreError::Conflict(_))
        ));
        let run = s.enqueue_run(&id, Trigger::Manual, None).await.unwrap();
        assert!(matches!(
            s.delete_flow(&id).await,
            Err(StoreError::AlreadyRunning { .. })
        ));
        s.finish_run(&run, RunStatus::Success, &RunCounts::default(), None, &[])
            .await
            .unwrap();
        s.delete_flow(&id).await.unwrap();
        assert!(matches!(
            s.get_flow(&id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            s.get_run(&run).await,
            Err(StoreError::NotFound { .. })
        ));
        s.delete_connection(&conn).await.unwrap();
    }
}

#[tokio::test]
async fn one_active_run_per_flow_and_history() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), None).await.unwrap();
        let r1 = s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        assert!(
            matches!(
                s.enqueue_run(&flow, Trigger::Api, None).await,
                Err(StoreError::AlreadyRunning { .. })
            ),
            "{}",
            t.name
        );
        let claimed = s
            .claim_next_run("hub-a", now_ms() + 60_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, r1);
        assert_eq!(claimed.status, RunStatus::Running);
        assert!(s
            .claim_next_run("hub-b", now_ms() + 60_000)
            .await
            .unwrap()
            .is_none());
        assert!(matches!(
            s.enqueue_run(&flow, Trigger::Manual, None).await,
            Err(StoreError::AlreadyRunning { .. })
        ));
        assert!(s
            .renew_run_lease(&r1, "hub-a", now_ms() + 120_000)
            .await
            .unwrap());
        assert!(!s
            .renew_run_lease(&r1, "hub-b", now_ms() + 120_000)
            .await
            .unwrap());
        let counts = RunCounts {
            read: 10,
            created: 7,
            updated: 1,
            unchanged: 1,
            skipped: 0,
            failed: 1,
            warnings: 1,
        };
        let warning = RunWarning {
            record: "43".into(),
            side: "source".into(),
            code: "gaiji".into(),
            params: [("line".to_string(), "3".to_string())].into(),
            message: "外字 / gaiji".into(),
            ..Default::default()
        };
        let result = hub_store::runs::Finished {
            status: RunStatus::Partial,
            counts: &counts,
            message: Some("1 record failed"),
            errors: &[RunError {
                record: "42".into(),
                side: "target".into(),
                code: "INVALID_DATA".into(),
                message: "電話番号の形式が不正です".into(),
                ..Default::default()
            }],
            warnings: std::slice::from_ref(&warning),
        };
        s.finish_run_settling(&r1, &result, &hub_store::pending::PendingUpdate::Keep)
            .await
            .unwrap();
        assert_eq!(s.run_warnings(&r1, 100).await.unwrap(), [warning]);
        let run = s.get_run(&r1).await.unwrap();
        assert_eq!(run.counts, counts);
        assert_eq!(run.status, RunStatus::Partial);
        assert!(run.finished_at.is_some());
        assert_eq!(
            s.run_errors(&r1, 100).await.unwrap()[0].message,
            "電話番号の形式が不正です"
        );

        let r2 = s
            .enqueue_run(&flow, Trigger::Schedule, Some(1_000))
            .await
            .unwrap();
        let all = s
            .list_runs(&RunFilter {
                flow: Some(flow.clone()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec![r2.as_str(), r1.as_str()]
        );
        let sched = s
            .list_runs(&RunFilter {
                trigger: Some(Trigger::Schedule),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(sched.len(), 1);
        let failed = s
            .list_runs(&RunFilter {
                status: Some(RunStatus::Failed),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(failed.is_empty());
        // The history's date filter and chart: a window in the past holds none of these runs;
        // today (Japan time) holds both, counted by status in the database.
        let before = s
            .list_runs(&RunFilter {
                until: Some(all[1].queued_at),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(before.is_empty());
        let jst = 9 * 3_600_000;
        let per_day = s
            .runs_per_day(Some(&flow), now_ms() - 86_400_000, jst)
            .await
            .unwrap();
        let mut got: Vec<(i64, String, i64)> = per_day
            .iter()
            .map(|d| (d.day, d.status.as_str().to_string(), d.runs))
            .collect();
        got.sort();
        let mut want: Vec<(i64, String, i64)> = all
            .iter()
            .map(|r| {
                (
                    (r.queued_at + jst) / 86_400_000,
                    r.status.as_str().to_string(),
                    1,
                )
            })
            .collect();
        want.sort();
        assert_eq!(got, want);
        assert!(s
            .runs_per_day(Some("no-such-flow"), 0, jst)
            .await
            .unwrap()
            .is_empty());
        // The same scheduled occurrence is never queued twice.
        let run = s
            .claim_next_run("hub-a", now_ms() + 1000)
            .await
            .unwrap()
            .unwrap();
        s.finish_run(
            &run.id,
            RunStatus::Success,
            &RunCounts::default(),
            None,
            &[],
        )
        .await
        .unwrap();
        assert!(s
            .enqueue_run(&flow, Trigger::Schedule, Some(1_000))
            .await
            .is_err());
    }
}

/// The lease invariant: a runner whose lease expired and was taken by another writes nothing
/// more to the run (no progress, no result, no errors), and a late progress update never
/// overwrites the final counts.
#[tokio::test]
async fn a_runner_that_lost_its_lease_writes_nothing_to_the_run() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), None).await.unwrap();
        let run = s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap();
        let a = s
            .claim_next_run("hub-a", now_ms() - 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.id, run);
        let some = RunCounts {
            read: 5,
            created: 5,
            ..Default::default()
        };
        assert!(s.update_run_progress(&run, "hub-a", &some).await.unwrap());
        // hub-a stalls past its lease; hub-b resumes the run.
        assert_eq!(
            s.requeue_expired_runs(now_ms()).await.unwrap(),
            1,
            "{}",
            t.name
        );
        let b = s
            .claim_next_run("hub-b", now_ms() + 60_000)
            .await
            .unwrap()
            .expect("the abandoned run is queued again");
        let late = RunCounts {
            read: 99,
            failed: 99,
            ..Default::default()
        };
        assert!(!s.update_run_progress(&b.id, "hub-a", &late).await.unwrap());
        let lost = Finished {
            status: RunStatus::Partial,
            counts: &late,
            message: None,
            errors: &[RunError {
                record: "1".into(),
                side: "target".into(),
                code: "invalid".into(),
                message: "x".into(),
                ..Default::default()
            }],
            warnings: &[],
        };
        assert!(
            matches!(
                s.finish_claimed_run(&b.id, "hub-a", &lost, &pending::PendingUpdate::Keep)
                    .await,
                Err(StoreError::LeaseLost { .. })
            ),
            "{}",
            t.name
        );
        assert!(
            s.run_errors(&b.id, 10).await.unwrap().is_empty(),
            "{}",
            t.name
        );
        assert_ne!(s.get_run(&b.id).await.unwrap().counts, late, "{}", t.name);

        let fin = RunCounts {
            read: 7,
            created: 7,
            ..Default::default()
        };
        let done = Finished {
            status: RunStatus::Success,
            counts: &fin,
            message: None,
            errors: &[],
            warnings: &[],
        };
        s.finish_claimed_run(&b.id, "hub-b", &done, &pending::PendingUpdate::Keep)
            .await
            .unwrap();
        // A progress update that arrives after the end changes nothing.
        assert!(!s.update_run_progress(&b.id, "hub-b", &late).await.unwrap());
        let r = s.get_run(&b.id).await.unwrap();
        assert_eq!(
            (r.status, r.counts),
            (RunStatus::Success, fin),
            "{}",
            t.name
        );
    }
}

#[tokio::test]
async fn concurrent_claims_take_each_run_once() {
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let mut runs = Vec::new();
        for i in 0..20 {
            let mut spec = flow_spec(&conn);
            spec.name = format!("flow {i}");
            let flow = s.insert_flow(&spec, None).await.unwrap();
            runs.push(s.enqueue_run(&flow, Trigger::Manual, None).await.unwrap());
        }
        let mut tasks = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                while let Some(r) = s
                    .claim_next_run(&format!("w{w}"), now_ms() + 60_000)
                    .await
                    .unwrap()
                {
                    mine.push(r.id);
                }
                mine
            }));
        }
        let mut claimed = Vec::new();
        for t in tasks {
            claimed.extend(t.await.unwrap());
        }
        claimed.sort();
        runs.sort();
        assert_eq!(claimed, runs, "{}: every run claimed exactly once", t.name);
    }
}

/// The scheduler's batch: per occurrence queued, skipped (an active run, or missed and
/// skipped) or lost (moved by someone else, or listed twice), with the due flows read ahead.
#[tokio::test]
async fn a_batch_of_occurrences_is_told_apart_per_flow() {
    use hub_store::schedule::{Occurrence, Taken};
    let occ = |flow: &str, old: Millis, skip: Option<&str>| Occurrence {
        flow_id: flow.to_string(),
        old,
        new: Some(old + 60_000),
        skip: skip.map(String::from),
        message: None,
    };
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let spec = flow_spec(&conn);
        let free = s.insert_flow(&spec, Some(2_000)).await.unwrap();
        let busy = s.insert_flow(&spec, Some(1_000)).await.unwrap();
        let missed = s.insert_flow(&spec, Some(1_500)).await.unwrap();
        let moved = s.insert_flow(&spec, Some(1_000)).await.unwrap();
        let later = s.insert_flow(&spec, Some(9_000)).await.unwrap();
        s.insert_flow(&spec, None).await.unwrap();
        s.enqueue_run(&busy, Trigger::Manual, None).await.unwrap();

        // Read ahead one at a time: every due flow once, earliest fire time first.
        let mut due = s.read_due_flows(5_000, 1);
        let mut read = Vec::new();
        while let Some(d) = due.recv().await {
            read.push(d.unwrap());
        }
        let mut ids: Vec<&str> = read.iter().map(|d| d.id.as_str()).collect();
        ids[..2].sort_unstable();
        let mut first = [busy.as_str(), moved.as_str()];
        first.sort_unstable();
        assert_eq!(ids[..2], first, "{}", t.name);
        assert_eq!(ids[2..], [missed.as_str(), free.as_str()], "{}", t.name);
        assert!(!ids.contains(&later.as_str()));
        assert_eq!(read[0].schedule.as_ref().unwrap().cron, "0 5 * * *");

        let taken = s
            .take_occurrences(&[
                occ(&free, 2_000, None),
                occ(&busy, 1_000, None),
                occ(&missed, 1_500, Some("missed")),
                occ(&moved, 999, None),
                occ(&free, 2_000, None),
            ])
            .await
            .unwrap();
        assert!(
            matches!(taken[0], Taken::Queued(_)),
            "{}: {taken:?}",
            t.name
        );
        assert!(
            matches!(taken[1], Taken::Skipped(_)),
            "{}: {taken:?}",
            t.name
        );
        assert!(
            matches!(taken[2], Taken::Skipped(_)),
            "{}: {taken:?}",
            t.name
        );
        assert_eq!(taken[3..], [Taken::Lost, Taken::Lost], "{}", t.name);
        if let Taken::Skipped(id) = &taken[2] {
            assert_eq!(
                s.get_run(id).await.unwrap().message.as_deref(),
                Some("missed")
            );
        }
        assert_eq!(s.get_flow(&free).await.unwrap().next_fire_at, Some(62_000));
        assert_eq!(s.get_flow(&moved).await.unwrap().next_fire_at, Some(1_000));
    }
}

#[tokio::test]
async fn api_tokens_and_inquiries() {
    for t in common::stores().await {
        let s = &t.store;
        let token = s.create_api_token("ci").await.unwrap();
        assert!(token.starts_with("rkh_"));
        assert_eq!(
            s.verify_api_token(&token).await.unwrap().as_deref(),
            Some("ci"),
            "{}",
            t.name
        );
        assert_eq!(s.verify_api_token("rkh_wrong").await.unwrap(), None);
        assert_eq!(s.verify_api_token("").await.unwrap(), None);
        let listed = s.list_api_tokens().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_at.is_some());

        let inq = NewInquiry {
            company: "株式会社サンプル".into(),
            name: "山田 太郎".into(),
            email: "taro@example.jp".into(),
            registration_number: "1234-5678-9012".into(),
            connector_name: "kintone".into(),
        };
        s.insert_inquiry(&inq).await.unwrap();
        let all = s.list_inquiries(10).await.unwrap();
        assert_eq!(all[0].fields, inq);
    }
}

#[tokio::test]
async fn api_token_roles_expiry_and_revocation() {
    for t in common::stores().await {
        let s = &t.store;
        // The old way keeps full access: role admin, no expiry.
        let old = s.create_api_token("script").await.unwrap();
        let a = s.authenticate_api_token(&old).await.unwrap().unwrap();
        assert_eq!((a.name.as_str(), a.role.as_str()), ("script", "admin"));
        assert_eq!((a.expires_at, a.revoked_at), (None, None));

        let in_90d = now_ms() + 90 * 86_400_000;
        let op = s
            .create_api_token_with("ops", "operator", Some(in_90d))
            .await
            .unwrap();
        assert!(op.token.starts_with("rkh_"));
        let a = s.authenticate_api_token(&op.token).await.unwrap().unwrap();
        assert_eq!(
            (a.id.as_str(), a.role.as_str()),
            (op.id.as_str(), "operator")
        );
        assert_eq!(a.expires_at, Some(in_90d));

        // Expired: not valid, still listed.
        let gone = s
            .create_api_token_with("old", "read_only", Some(now_ms() - 1))
            .await
            .unwrap();
        assert_eq!(
            s.authenticate_api_token(&gone.token).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(s.verify_api_token(&gone.token).await.unwrap(), None);

        // Revoked by name, then by id; the value is never stored in the clear.
        let r = s.revoke_api_token("ops").await.unwrap();
        assert_eq!(r.id, op.id);
        assert!(r.revoked_at.is_some());
        assert_eq!(
            s.authenticate_api_token(&op.token).await.unwrap(),
            None,
            "{}",
            t.name
        );
        assert_eq!(
            s.revoke_api_token(&op.id).await.unwrap().revoked_at,
            r.revoked_at
        );
        assert_eq!(
            s.revoke_api_token("ops").await.unwrap(),
            r,
            "again by name: unchanged"
        );
        assert!(matches!(
            s.revoke_api_token("nobody").await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(s.authenticate_api_token(&old).await.unwrap().is_some());

        // Two live tokens with one name: revoke by id.
        let x1 = s
            .create_api_token_with("twin", "admin", None)
            .await
            .unwrap();
        s.create_api_token_with("twin", "admin", None)
            .await
            .unwrap();
        assert!(matches!(
            s.revoke_api_token("twin").await,
            Err(StoreError::Conflict(_))
        ));
        s.revoke_api_token(&x1.id).await.unwrap();
        assert!(s.revoke_api_token("twin").await.is_ok());

        let listed = s.list_api_tokens().await.unwrap();
        assert_eq!(listed.len(), 5, "{}", t.name);
        let now = now_ms();
        let active: Vec<&str> = listed
            .iter()
            .filter(|t| t.is_active(now))
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(active, ["script"]);
        let dump = format!("{listed:?}");
        assert!(!dump.contains(&old[4..]) && !dump.contains(&op.token[4..]));
    }
}

#[tokio::test]
async fn each_occurrence_is_taken_once() {
    use hub_store::schedule::Taken;
    for t in common::stores().await {
        let s = &t.store;
        let conn = s.insert_connection(&new_connection("c")).await.unwrap();
        let flow = s.insert_flow(&flow_spec(&conn), Some(1_000)).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (s, flow) = (s.clone(), flow.clone());
            tasks.push(tokio::spawn(async move {
                s.take_occurrence(&flow, 1_000, Some(2_000), None, None)
                    .await
                    .unwrap()
            }));
        }
        let mut queued = 0;
        for task in tasks {
            match task.await.unwrap() {
                Taken::Queued(_) => queued += 1,
                Taken::Lost => {}
                Taken::Skipped(_) => panic!("nothing was active"),
            }
        }
        assert_eq!(
            queued, 1,
            "{}: the occurrence was queued {queued} times",
            t.name
        );
        assert_eq!(s.get_flow(&flow).await.unwrap().next_fire_at, Some(2_000));
        // The next occurrence meets the queued run: recorded as skipped (overlap), not queued.
        match s
            .take_occurrence(&flow, 2_000, Some(3_000), None, None)
            .await
            .unwrap()
        {
            Taken::Skipped(id) => {
                let r = s.get_run(&id).await.unwrap();
                assert_eq!(r.status, RunStatus::Skipped);
                assert!(Message::stored_both(&r.message.unwrap()).contains("overlap"));
            }
            other => panic!("{other:?}"),
        }
        // Due flows come from the database.
        assert_eq!(s.due_flows(3_000, 10).await.unwrap().len(), 1);
        assert!(s.due_flows(2_999, 10).await.unwrap().is_empty());
    }
}
