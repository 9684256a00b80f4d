//! Calls through a worker: what works, and the misbehaviour a worker survives.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{MatchKey, WriteAction, WriteOp, WriteOutcome, WriteRequest};
use serde_json::json;
use std::time::Duration;

use super::*;

fn upsert(name: &str, phone: &str) -> Call {
    Call::Write(WriteRequest {
        object: "contacts".into(),
        ops: vec![WriteOp {
            op_id: "op-1".into(),
            action: WriteAction::Upsert,
            id: None,
            match_key: Some(MatchKey {
                field: "name".into(),
                value: json!(name),
            }),
            expected_version: None,
            fields: json!({"name": name, "phone": phone})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }],
    })
}

#[tokio::test]
async fn a_session_reads_pages_and_upserts_through_its_worker() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let s = host.open("good").await.expect("session");
    assert_eq!(s.connector_id(), "good");

    let Ok(Reply::Check(who)) = s.call(&conn(None), Call::Check).await else {
        panic!("check failed")
    };
    assert_eq!(who.account, "tenant boundary");

    let Ok(Reply::Read(page)) = s.call(&conn(None), read_contacts()).await else {
        panic!("read failed")
    };
    assert_eq!(page.records.len(), 10);
    assert!(page.has_more);
    let names: Vec<_> = page
        .records
        .iter()
        .map(|r| r.fields["name"].clone())
        .collect();
    assert_eq!(
        names[0],
        json!("担当者 01"),
        "Japanese text crosses the pipe intact"
    );

    for expected in [WriteOutcome::Created, WriteOutcome::Unchanged] {
        let Ok(Reply::Write(results)) = s
            .call(&conn(None), upsert("境界 花子", "03-0000-0000"))
            .await
        else {
            panic!("write failed")
        };
        assert_eq!(results[0].outcome, expected);
    }
    // The worker kept its state between calls: one process served the whole session.
    assert_eq!(s.workers_started(), 1);
    s.close().await;
}

#[tokio::test]
async fn call_once_answers_from_a_fresh_worker() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let reply = host.call_once("good", &conn(None), Call::Objects).await;
    let Ok(Reply::Objects(objects)) = reply else {
        panic!("objects failed: {reply:?}")
    };
    let ids: Vec<_> = objects.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids, ["contacts", "companies"]);
    // The connector's own errors come back as they were made.
    let mut bad = conn(None);
    bad.credentials
        .insert("api_token".into(), connector_sdk::Secret::new("expired"));
    let err = host.call_once("good", &bad, Call::Check).await.unwrap_err();
    assert_eq!(err.kind, connector_sdk::ErrorKind::AuthExpired);
    assert_eq!(err.code, "token_expired");
}

#[tokio::test]
async fn a_panic_becomes_an_error_and_the_same_worker_keeps_serving() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let s = host.open("good").await.expect("session");
    let pid = s.worker_pid();

    let err = s
        .call(&conn(Some("panic")), read_contacts())
        .await
        .unwrap_err();
    assert_eq!(err.kind, connector_sdk::ErrorKind::Internal);
    assert_eq!(err.code, "panic");
    assert_eq!(
        err.message,
        "connector panicked: told to panic while reading"
    );

    let next = s.call(&conn(None), read_contacts()).await;
    assert!(
        matches!(next, Ok(Reply::Read(ref p)) if p.records.len() == 10),
        "{next:?}"
    );
    assert_eq!(s.worker_pid(), pid, "no new worker was needed");
    assert_eq!(s.workers_started(), 1);
}

#[tokio::test]
async fn garbage_printed_to_stdout_does_not_corrupt_the_replies() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let s = host.open("good").await.expect("session");
    for _ in 0..2 {
        let reply = s.call(&conn(Some("print")), read_contacts()).await;
        let Ok(Reply::Read(page)) = reply else {
            panic!("read with stdout noise failed: {reply:?}")
        };
        assert_eq!(page.records.len(), 10);
        assert_eq!(page.next_cursor.as_deref(), Some("seq:10"));
    }
    assert_eq!(s.workers_started(), 1);
}

#[tokio::test]
async fn an_abandoned_call_does_not_leak_its_answer_into_the_next() {
    let (_dir, host) = good_host(Duration::from_secs(30), None).await;
    let s = host.open("good").await.expect("session");
    let first_pid = s.worker_pid().expect("running");
    // The caller gives up (a run cancelled): the hanging call's future is dropped mid-way.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        s.call(&conn(Some("hang")), read_contacts()),
    )
    .await;
    assert!(gave_up.is_err());
    let reply = s.call(&conn(None), Call::Check).await;
    assert!(matches!(reply, Ok(Reply::Check(_))), "{reply:?}");
    assert_eq!(s.workers_started(), 2, "the busy worker was replaced");
    assert!(!process_alive(first_pid), "the abandoned worker was killed");
}

#[tokio::test]
async fn one_worker_serves_calls_at_once_and_each_answer_reaches_its_call() {
    let (_dir, host) = good_host(Duration::from_secs(3), None).await;
    let s = host.open("good").await.expect("session");
    let hanging = {
        let s = s.clone();
        tokio::spawn(async move { s.call(&conn(Some("hang")), read_contacts()).await })
    };
    let page = |cursor: Option<&str>| {
        Call::Read(connector_sdk::ReadRequest {
            object: "contacts".into(),
            cursor: cursor.map(String::from),
            ..Default::default()
        })
    };
    let plain = conn(None);
    let (first, second) = tokio::join!(
        s.call(&plain, page(None)),
        s.call(&plain, page(Some("seq:10")))
    );
    let (Ok(Reply::Read(first)), Ok(Reply::Read(second))) = (first, second) else {
        panic!("the reads beside a hanging call failed")
    };
    assert_eq!(first.next_cursor.as_deref(), Some("seq:10"));
    let ids: Vec<&str> = first.records.iter().map(|r| r.id.as_str()).collect();
    assert!(
        second.records.iter().all(|r| !ids.contains(&r.id.as_str())),
        "each call got its own page"
    );
    assert!(
        !hanging.is_finished(),
        "answered while another call hangs in the same worker"
    );
    assert_eq!(s.workers_started(), 1, "one process served all three");
    let err = hanging.await.expect("joined").unwrap_err();
    assert_eq!(err.code, "timed_out");
}
