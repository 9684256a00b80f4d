//! A worker that dies or hangs: the call fails with the reason, the hub goes on.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::ErrorKind;
use std::time::{Duration, Instant};

use super::*;

#[tokio::test]
async fn a_segfault_is_reported_and_the_host_carries_on() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let s = host.open("good").await.expect("session");

    let err = s
        .call(&conn(Some("segfault")), read_contacts())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert_eq!(err.code, "crashed");
    assert_eq!(err.message, "connector good crashed: signal 11 (SIGSEGV)");
    assert_eq!(
        err.message_ja.as_deref(),
        Some("コネクタ good が異常終了しました: シグナル 11 (SIGSEGV)")
    );

    // A new session works, and so does the old one: it starts a fresh worker.
    let fresh = host.open("good").await.expect("new session");
    assert!(matches!(
        fresh.call(&conn(None), Call::Check).await,
        Ok(Reply::Check(_))
    ));
    assert!(matches!(
        s.call(&conn(None), Call::Check).await,
        Ok(Reply::Check(_))
    ));
    assert_eq!(s.workers_started(), 2);
}

#[tokio::test]
async fn an_abort_in_a_call_is_a_crash_with_signal_6() {
    let (_dir, host) = good_host(Duration::from_secs(10), None).await;
    let err = host
        .call_once("good", &conn(Some("abort")), read_contacts())
        .await
        .unwrap_err();
    assert_eq!(err.code, "crashed");
    assert_eq!(err.message, "connector good crashed: signal 6 (SIGABRT)");
}

#[tokio::test]
async fn a_hanging_call_times_out_and_its_worker_is_killed() {
    let (_dir, host) = good_host(Duration::from_secs(1), None).await;
    let s = host.open("good").await.expect("session");
    let pid = s.worker_pid().expect("running");
    let started = Instant::now();

    let err = s
        .call(&conn(Some("hang")), read_contacts())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind, ErrorKind::Internal);
    assert_eq!(err.code, "timed_out");
    assert_eq!(err.message, "connector good timed out after 1 s");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(!process_alive(pid), "the hung worker {pid} is gone");
    assert!(s.worker_pid().is_none());
}

#[tokio::test]
async fn runaway_memory_is_stopped_by_the_worker_limit() {
    let limit = 256 * 1024 * 1024;
    let (_dir, host) = good_host(Duration::from_secs(20), Some(limit)).await;
    let s = host.open("good").await.expect("session under the limit");
    let err = s
        .call(&conn(Some("oom")), read_contacts())
        .await
        .unwrap_err();
    assert_eq!(err.code, "crashed");
    assert_eq!(
        err.message,
        "connector good crashed: signal 6 (SIGABRT), out of memory (limit 256 MiB)"
    );
    // Within the limit, the next worker serves normally.
    assert!(matches!(
        s.call(&conn(None), read_contacts()).await,
        Ok(Reply::Read(_))
    ));
}
