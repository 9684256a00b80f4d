//! Who may call the kintone emulator and through which path: password and token auth,
//! per-app and view-only tokens, guest-space paths; plus the shared request counters and
//! injected faults.

mod kintone_support;

use kintone_support::{send, start, value, Auth};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn authentication_errors() {
    let k = start().await;
    let path = "/k/v1/records.json?app=1";
    let (s, v) = send(k.req(Method::GET, path, Auth::None)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("CB_AU01"))
    );
    let (user, pass) = k.login();
    let (s, v) = send(k.req(Method::GET, path, Auth::Login(&user, "wrong"))).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("CB_AU01"))
    );
    assert!(v["id"].as_str().is_some_and(|i| !i.is_empty()));
    assert_eq!(
        send(k.req(Method::GET, path, Auth::Login(&user, &pass)))
            .await
            .0,
        StatusCode::OK
    );

    // Another app's token.
    let (s, v) = k.get(path, &k.token(2)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("GAIA_IA02"))
    );
    // Several tokens, comma-joined or repeated.
    let both = format!("{},{}", k.token(2), k.token(1));
    assert_eq!(k.get(path, &both).await.0, StatusCode::OK);
    let rb = k
        .req(Method::GET, path, Auth::Token(&k.token(2)))
        .header("X-Cybozu-API-Token", k.token(1));
    assert_eq!(send(rb).await.0, StatusCode::OK);

    // A view-only token may read but not write.
    let ro = k.readonly_token();
    assert_eq!(k.get(path, &ro).await.0, StatusCode::OK);
    let body = json!({"app": 1, "record": {"会社名": {"value": "読み取り専用株式会社"}}});
    let (s, v) = k
        .call(Method::POST, "/k/v1/record.json", &ro, Some(body))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("GAIA_NO01"))
    );

    // apps.json refuses tokens and lists every app for the login user.
    let (s, _) = k.get("/k/v1/apps.json", &k.token(1)).await;
    assert!(s.is_client_error());
    let (s, v) = send(k.req(Method::GET, "/k/v1/apps.json", Auth::Login(&user, &pass))).await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = v["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["顧客管理", "活動履歴", "問い合わせ管理"]);
    assert_eq!(v["apps"][0]["spaceId"], Value::Null);
    assert_eq!(v["apps"][2]["spaceId"], "1");
}

#[tokio::test]
async fn guest_space_apps_need_the_guest_path() {
    let k = start().await;
    let t3 = k.token(3);
    let (s, v) = k.get("/k/v1/records.json?app=3", &t3).await;
    assert!(s.is_client_error());
    assert_eq!(v["code"], "GAIA_IL23");
    let (s, v) = k.get("/k/guest/1/v1/records.json?app=3", &t3).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["records"].as_array().unwrap().len(), 5);
    let (_, v) = k.get("/k/guest/1/v1/records.json?app=1", &k.token(1)).await;
    assert_eq!(v["code"], "GAIA_IL23");
    let (s, v) = k.get("/k/guest/1/v1/app.json?id=3", &t3).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["name"].as_str(), v["spaceId"].as_str()),
        (Some("問い合わせ管理"), Some("1"))
    );
    let body = json!({"app": 3, "record": {"問い合わせ番号": {"value": "Q-2024-100"}, "件名": {"value": "テスト"}}});
    let (s, v) = k
        .call(Method::POST, "/k/guest/1/v1/record.json", &t3, Some(body))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = k
        .get(
            &format!(
                "/k/guest/1/v1/record.json?app=3&id={}",
                v["id"].as_str().unwrap()
            ),
            &t3,
        )
        .await;
    assert_eq!(value(&v["record"], "ステータス"), "未対応");
}

#[tokio::test]
async fn counters_and_injected_faults() {
    let k = start().await;
    let t = k.token(1);
    let ctl = |p: &str| format!("{}/_sandbox/{p}", k.base);
    k.http.post(ctl("stats/reset")).send().await.unwrap();
    for _ in 0..3 {
        k.get("/k/v1/records.json?app=1", &t).await;
    }
    k.get("/k/guest/1/v1/records.json?app=3", &k.token(3)).await;
    k.http.get(ctl("kintone/apps/1")).send().await.unwrap();
    let stats: Value = k
        .http
        .get(ctl("stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["GET /k/v1/records.json"], 3, "{stats}");
    assert_eq!(
        stats["requests"]["GET /k/guest/{space}/v1/records.json"], 1,
        "{stats}"
    );
    assert_eq!(stats["total"], 4);

    let faults = json!({"fail_next": 1, "kinds": ["too_many"], "retry_after_s": 7});
    k.http
        .put(ctl("faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    let r = k
        .req(Method::GET, "/k/v1/records.json?app=1", Auth::Token(&t))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "7");
    let body: Value = r.json().await.unwrap();
    assert!(body["code"].is_string() && body["id"].is_string(), "{body}");
    assert_eq!(
        k.get("/k/v1/records.json?app=1", &t).await.0,
        StatusCode::OK
    );
}
