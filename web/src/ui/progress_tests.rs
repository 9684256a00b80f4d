//! The JSON the progress bar reads (`/ui/runs/{id}/status`): counts, the expected total, a
//! percentage and an estimate while the run works; and the pages that name the run to follow.

use axum::body::{to_bytes, Body};
use axum::http::{header, Request};
use hub_domain::{Endpoint, FlowSpec, NewConnection, RunCounts, RunStatus, Trigger};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::test_app::{session_for, TestApp};

async fn get(t: &TestApp, path: &str, sid: &str, lang: &str) -> String {
    let req = Request::get(path)
        .header(header::COOKIE, format!("renkei_session={sid}; lang={lang}"))
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(req).await.unwrap();
    let body = to_bytes(resp.into_body(), 1 << 22).await.unwrap();
    String::from_utf8_lossy(&body).into_owned()
}

async fn status(t: &TestApp, run: &str, sid: &str, lang: &str) -> Value {
    let text = get(t, &format!("/ui/runs/{run}/status"), sid, lang).await;
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

async fn flow(t: &TestApp) -> String {
    let mut ids = vec![];
    for name in ["送信元", "送信先"] {
        let id = t
            .store
            .insert_connection(&NewConnection {
                connector_id: "filestore".into(),
                name: name.into(),
                settings: Default::default(),
                registration_number: String::new(),
                phone: String::new(),
                credentials: Default::default(),
                refresh_token: None,
            })
            .await
            .unwrap();
        ids.push(id);
    }
    let spec: FlowSpec = serde_json::from_value(json!({
        "name": "会社を同期",
        "source": Endpoint { connection: ids[0].clone(), object: "companies".into() },
        "target": Endpoint { connection: ids[1].clone(), object: "companies".into() },
    }))
    .unwrap();
    t.store.insert_flow(&spec, None).await.unwrap()
}

#[tokio::test]
async fn a_running_run_answers_counts_total_percent_and_estimate() {
    let t = TestApp::start().await;
    let (sid, _) = session_for(&t.store, "yamada", "operator").await;
    let flow = flow(&t).await;
    let run = t
        .store
        .enqueue_run(&flow, Trigger::Manual, None)
        .await
        .unwrap();
    let claimed = t
        .store
        .claim_next_run("test", hub_domain::now_ms() + 60_000)
        .await
        .unwrap()
        .map(|r| r.id);
    assert_eq!(claimed.as_deref(), Some(run.as_str()));

    // Nothing read yet, no total: counts only, an indeterminate bar.
    let s = status(&t, &run, &sid, "ja").await;
    assert_eq!(s["status"], "running", "{s}");
    assert_eq!(s["finished"], false);
    assert_eq!(s["percent"], Value::Null, "{s}");
    assert_eq!(s["eta_secs"], Value::Null, "{s}");
    assert_eq!(s["counts_label"], "読込 0件 / 書込 0件", "{s}");

    // The source told 400 records; 100 read, 60 written so far.
    t.store.set_run_expected(&run, 400).await.unwrap();
    let counts = RunCounts {
        read: 100,
        created: 40,
        updated: 20,
        ..Default::default()
    };
    assert!(t
        .store
        .update_run_progress(&run, "test", &counts)
        .await
        .unwrap());
    let s = status(&t, &run, &sid, "ja").await;
    assert_eq!(s["counts"]["read"], 100, "{s}");
    assert_eq!(s["written"], 60, "{s}");
    assert_eq!(s["expected"], 400, "{s}");
    assert_eq!(s["percent"], 25, "{s}");
    assert!(s["eta_secs"].as_i64().is_some_and(|n| n >= 0), "{s}");
    assert_eq!(s["counts_label"], "読込 100 / 400件 / 書込 60件", "{s}");
    let eta = s["eta_label"].as_str().unwrap_or_default();
    assert!(eta.starts_with("残り約 "), "{s}");
    let en = status(&t, &run, &sid, "en").await;
    assert_eq!(en["counts_label"], "Read 100 of 400 / Written 60", "{en}");
    assert!(
        en["eta_label"]
            .as_str()
            .is_some_and(|e| e.ends_with(" left")),
        "{en}"
    );

    // The flow page and the dashboard name the run their bar follows.
    let follows = format!("data-run=\"{run}\"");
    let page = get(&t, &format!("/flows/{flow}"), &sid, "ja").await;
    assert!(page.contains(&follows), "{page}");
    assert!(page.contains("data-bar-label=\"実行の進み具合\""), "{page}");
    let home = get(&t, "/", &sid, "ja").await;
    assert!(home.contains(&follows), "{home}");

    // Finished: full, no estimate, and the pages follow nothing any more.
    let done = RunCounts {
        read: 400,
        created: 400,
        ..Default::default()
    };
    t.store
        .finish_run(&run, RunStatus::Success, &done, None, &[])
        .await
        .unwrap();
    let s = status(&t, &run, &sid, "ja").await;
    assert_eq!(s["finished"], true, "{s}");
    assert_eq!(s["percent"], 100, "{s}");
    assert_eq!(s["eta_secs"], Value::Null, "{s}");
    let page = get(&t, &format!("/flows/{flow}"), &sid, "ja").await;
    assert!(!page.contains("data-run="), "{page}");
}
