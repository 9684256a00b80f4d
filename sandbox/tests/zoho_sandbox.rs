//! The sandbox side of the Zoho emulator: persistence across restarts, the raw record routes
//! for seeding history, and reset.

mod zoho_support;

use reqwest::Method;
use serde_json::json;
use serde_json::Value;
use std::time::{Duration, Instant};
use zoho_support::{start, start_in, Zoho};

#[tokio::test]
async fn records_and_refresh_tokens_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("zoho-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("zoho.json");

    let z = start_in(0, Some(dir.clone())).await;
    let preset = z.cred(0, "refresh_token");
    let t = z.token("A").await;
    let (s, r) = Zoho::send(
        z.call(Method::POST, &t, "Leads")
            .json(&json!({"data": [{"Last_Name": "永続", "Company": "株式会社保存テスト"}]})),
    )
    .await;
    assert_eq!(s, 201);
    let id = r["data"][0]["details"]["id"].as_str().unwrap().to_string();
    // The save runs shortly after the write, in the background.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !std::fs::read_to_string(&file).is_ok_and(|s| s.contains("株式会社保存テスト")) {
        assert!(Instant::now() < deadline, "zoho.json was not written");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(z);

    let z = start_in(0, Some(dir.clone())).await;
    assert_eq!(z.cred(0, "refresh_token"), preset);
    let t = z.token("A").await;
    let (s, got) = Zoho::send(z.get(&t, &format!("Leads/{id}"))).await;
    assert_eq!(s, 200);
    assert_eq!(got["data"][0]["Company"], "株式会社保存テスト");
    drop(z);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn raw_routes_seed_history_without_counting_and_reset_restores_the_seed() {
    let z = start(0).await;
    let rows: Vec<Value> = (0..250)
        .map(|i| {
            json!({
                "Last_Name": format!("履歴{i:03}"),
                "Company": "株式会社過去データ",
                "Created_Time": "2024-01-05T09:00:00+09:00",
                "Modified_Time": format!("2024-02-01T09:{:02}:{:02}+09:00", i / 60, i % 60),
            })
        })
        .collect();
    let url = format!("{}/_sandbox/zoho/orgs/b/modules/Leads/records", z.crm);
    let r: Value = z
        .http
        .post(&url)
        .json(&json!({ "data": rows }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["failed"], 0);
    let raw: Value = z
        .http
        .get(format!("{url}?offset=3&limit=2"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["count"], 3 + 250);
    assert_eq!(raw["data"].as_array().unwrap().len(), 2);

    // The kept history is what the API reports, and the raw routes were not counted.
    let t = z.token("B").await;
    let path =
        "Leads?fields=Last_Name,Modified_Time&sort_by=Modified_Time&sort_order=asc&per_page=1";
    let (_, oldest) = Zoho::send(z.get(&t, path)).await;
    assert_eq!(
        oldest["data"][0]["Modified_Time"],
        "2024-02-01T09:00:00+09:00"
    );
    let stats: Value = z
        .http
        .get(format!("{}/_sandbox/stats", z.crm))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 1, "{stats}");

    let r = z
        .http
        .post(format!("{}/_sandbox/zoho/reset", z.crm))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, count) = Zoho::send(z.get(&t, "Leads/actions/count")).await;
    assert_eq!(count["count"], 3);
}
