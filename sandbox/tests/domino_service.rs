//! The Calendar service, authentication and injected failures of the Domino emulator
//! (reference/domino.md §3–5, §8, §10).

mod domino_support;

use domino_support::{content_range, Das};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn calendar_count_bounds_and_empty_range() {
    let d = Das::new().await;
    for bad in [
        "count=0",
        "count=101",
        "count=x",
        "since=2024-01-01T00:00:00Z&sincenow=true",
    ] {
        let r = d
            .get(&format!("/api/calendar/events?{bad}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let now = chrono::Utc::now();
    let since = (now - chrono::Duration::days(40)).format("%Y-%m-%dT%H:%M:%SZ");
    let before = (now + chrono::Duration::days(30)).format("%Y-%m-%dT%H:%M:%SZ");
    let r = d
        .get(&format!(
            "/api/calendar/events?since={since}&before={before}&count=100"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cr = content_range(&r).expect("content-range");
    let body: Value = r.json().await.unwrap();
    let events = body["events"].as_array().unwrap();
    assert_eq!(cr, format!("items 0-{}", events.len() - 1));
    assert!(events.len() >= 9, "{}", events.len());

    let r = d
        .get(&format!(
            "/api/calendar/events?since={since}&before={before}&start=2&count=3"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(content_range(&r).as_deref(), Some("items 2-4"));

    let r = d
        .get("/api/calendar/events?since=2090-01-01T00:00:00Z&days=7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("content-type").is_none());
    assert!(r.headers().get("content-range").is_none());
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn calendar_events_round_trip_through_the_mail_file() {
    let d = Das::new().await;
    let ev = json!({"events": [{
        "summary": "(株)テスト商事 定例", "location": "会議室B",
        "start": {"date": "2031-04-01", "time": "10:00:00", "tzid": "Asia/Tokyo"},
        "end": {"date": "2031-04-01", "time": "11:00:00", "tzid": "Asia/Tokyo"},
        "class": "private"
    }]});
    let r = d
        .send(reqwest::Method::POST, "/api/calendar/events")
        .json(&ev)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let uid = loc.rsplit('/').next().unwrap().to_string();
    let got: Value = d
        .get(&format!("/api/calendar/events/{uid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let e = &got["events"][0];
    assert_eq!(
        e["start"],
        json!({"date": "2031-04-01", "time": "10:00:00", "tzid": "Asia/Tokyo"})
    );
    assert_eq!(e["class"], "private");
    // The Data service shows the same entry with the Notes privacy item.
    let doc: Value = d
        .get(&format!("/api/data/documents/unid/{uid}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["OrgConfidential"], "1");
    assert_eq!(doc["StartDateTime"], "2031-04-01T01:00:00Z");

    let r = d
        .send(
            reqwest::Method::DELETE,
            &format!("/api/calendar/events/{uid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = d
        .get(&format!("/api/calendar/events/{uid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_credentials_get_the_html_login_form_and_sessions_work() {
    let d = Das::new().await;
    let url = format!("{}/api/data/collections", d.base);
    let r = d
        .http
        .get(&url)
        .basic_auth(&d.user, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("name=\"Password\""));
    let r = d.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = d
        .http
        .post(format!("{}/names.nsf?Login", d.sb.urls.domino))
        .form(&[
            ("Username", d.user.as_str()),
            ("Password", d.password.as_str()),
            ("RedirectTo", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("DomAuthSessId="));
    let r = d
        .http
        .get(&url)
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let views: Vec<Value> = r.json().await.unwrap();
    assert!(views.iter().any(|v| v["@title"] == "($Contacts)"));
    let r = d
        .http
        .get(format!("{}/api/data", d.sb.urls.domino))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let dbs: Vec<Value> = r.json().await.unwrap();
    assert!(dbs.iter().any(|db| db["@filepath"] == "mail/tyamada.nsf"));
    // names.nsf is a database of its own, enabled for views only.
    let names = format!("{}/names.nsf/api/data", d.sb.urls.domino);
    let r = d
        .http
        .get(format!("{names}/collections/name/People"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(content_range(&r).as_deref(), Some("items 0-3/4"));
    let r = d
        .http
        .get(format!("{names}/documents"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The user changes their Internet password: the old one stops working.
    let r = d
        .control(
            reqwest::Method::PUT,
            &format!("/_sandbox/domino/users/{}/password", d.user),
        )
        .json(&json!({"password": "新しいパスワード-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = d
        .http
        .get(&url)
        .basic_auth(&d.user, Some(&d.password))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = d
        .http
        .get(&url)
        .basic_auth(&d.user, Some("新しいパスワード-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn injected_delete_race_and_disabled_access() {
    let d = Das::new().await;
    let unid = d.contact("田中").await.unwrap();
    d.control(reqwest::Method::POST, "/_sandbox/domino/delete-conflict")
        .json(&json!({"count": 1}))
        .send()
        .await
        .unwrap();
    let path = format!("/api/data/documents/unid/{unid}");
    let r = d.send(reqwest::Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Document is not deleted because another user modified it."
    );
    assert_eq!(
        d.send(reqwest::Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let stats: Value = d
        .control(reqwest::Method::GET, "/_sandbox/stats")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats["requests"]["DELETE /{folder}/{db}/api/data/documents/unid/{unid}"],
        2
    );

    d.control(reqwest::Method::PUT, "/_sandbox/domino/access")
        .json(&json!({"database": "mail/tyamada.nsf", "allow": 1, "views": {"($ToDo)": false}}))
        .send()
        .await
        .unwrap();
    let r = d.get("/api/data/documents").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The Domino data service is not enabled for this database."
    );
    let r = d
        .get("/api/data/collections/name/($ToDo)")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        d.get("/api/data/collections/name/($Contacts)")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    d.control(reqwest::Method::PUT, "/_sandbox/domino/access")
        .json(&json!({"services": ["Data"]}))
        .send()
        .await
        .unwrap();
    let r = d.get("/api/calendar/events").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"code": 403, "text": "Forbidden"}));
}

#[tokio::test]
async fn a_changed_password_survives_a_restart_with_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("renkei-domino-{}", uuid_like()));
    let opts = sandbox::SandboxOptions {
        data_dir: Some(dir.clone()),
        ..Default::default()
    };
    let sb = sandbox::start(opts.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let r = http
        .put(format!(
            "{}/_sandbox/domino/users/tyamada/password",
            sb.urls.domino
        ))
        .json(&json!({"password": "persisted-pass"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let file = dir.join("domino.json");
    let saved = async {
        for _ in 0..50 {
            if std::fs::read_to_string(&file).is_ok_and(|s| s.contains("persisted-pass")) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        false
    };
    assert!(saved.await, "saved within 2.5 s");
    sb.shutdown();
    let again = sandbox::start(opts).await.unwrap();
    assert_eq!(again.credentials["domino"]["password"], "persisted-pass");
    again.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
