//! Cursors, bulkRequest and upsert in the kintone emulator: paging to the end, expiry and the
//! live-cursor limit, all-or-nothing bulk writes, updateKey and upsert.

mod kintone_support;

use kintone_support::{start, value, K};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create_cursor(k: &K, body: Value) -> (StatusCode, Value) {
    k.call(
        Method::POST,
        "/k/v1/records/cursor.json",
        &k.token(1),
        Some(body),
    )
    .await
}

async fn advance_clock(k: &K, secs: i64) {
    let r = k
        .http
        .post(format!("{}/_sandbox/kintone/clock", k.base))
        .json(&json!({"advance_seconds": secs}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

#[tokio::test]
async fn cursor_pages_to_the_end_in_query_order() {
    let k = start().await;
    let t = k.token(1);
    let (s, v) = create_cursor(
        &k,
        json!({"app": 1, "fields": ["$id", "売上高"], "query": "order by 売上高 desc", "size": 7}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["totalCount"], "30");
    let id = v["id"].as_str().unwrap().to_string();
    let mut sales = Vec::new();
    let mut pages = 0;
    loop {
        let (s, v) = k
            .get(&format!("/k/v1/records/cursor.json?id={id}"), &t)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        pages += 1;
        for r in v["records"].as_array().unwrap() {
            assert_eq!(r.as_object().unwrap().len(), 2);
            sales.push(value(r, "売上高").parse::<u64>().unwrap());
        }
        if v["next"] == false {
            break;
        }
        assert!(pages < 10);
    }
    assert_eq!((pages, sales.len()), (5, 30));
    assert!(sales.windows(2).all(|w| w[0] >= w[1]));
    // Fully read: gone.
    let (s, v) = k
        .get(&format!("/k/v1/records/cursor.json?id={id}"), &t)
        .await;
    assert!(s.is_client_error());
    assert_eq!(v["code"], "GAIA_CU01");
}

#[tokio::test]
async fn cursor_limits_expiry_and_deletion() {
    let k = start().await;
    let t = k.token(1);
    for bad in [
        json!({"app": 1, "size": 501}),
        json!({"app": 1, "size": 0}),
        json!({"app": 1, "query": "limit 10"}),
    ] {
        let (s, v) = create_cursor(&k, bad.clone()).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("CB_VA01")),
            "{bad}"
        );
    }
    let mut ids = Vec::new();
    for _ in 0..10 {
        let (s, v) = create_cursor(&k, json!({"app": 1, "size": 500})).await;
        assert_eq!(s, StatusCode::OK);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (s, v) = create_cursor(&k, json!({"app": 1})).await;
    assert!(s.is_client_error());
    assert_eq!(v["code"], "GAIA_TM12");
    // Deleting one frees a slot.
    let (s, v) = k
        .call(
            Method::DELETE,
            "/k/v1/records/cursor.json",
            &t,
            Some(json!({"id": ids[0]})),
        )
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({})));
    assert_eq!(create_cursor(&k, json!({"app": 1})).await.0, StatusCode::OK);
    // Ten minutes later every cursor has expired.
    advance_clock(&k, 601).await;
    let (_, v) = k
        .get(&format!("/k/v1/records/cursor.json?id={}", ids[1]), &t)
        .await;
    assert_eq!(v["code"], "GAIA_CU01");
    let live: Value = k
        .http
        .get(format!("{}/_sandbox/kintone/cursors", k.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(live["live"], 0);
    assert_eq!(create_cursor(&k, json!({"app": 1})).await.0, StatusCode::OK);
    // Another app's token cannot read a cursor.
    let (s, v) = create_cursor(&k, json!({"app": 1, "size": 1})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = k
        .get(
            &format!("/k/v1/records/cursor.json?id={}", v["id"].as_str().unwrap()),
            &k.token(2),
        )
        .await;
    assert_eq!(v["code"], "GAIA_IA02");
}

#[tokio::test]
async fn bulk_request_rolls_everything_back_on_failure() {
    let k = start().await;
    let t = format!("{},{}", k.token(1), k.token(2));
    let body = json!({"requests": [
        {"method": "POST", "api": "/k/v1/record.json", "payload": {"app": 1, "record": {"会社名": {"value": "一括登録株式会社"}}}},
        {"method": "PUT", "api": "/k/v1/record.json", "payload": {"app": 1, "id": 2, "record": {"担当者名": {"value": "変更"}}}},
        {"method": "PUT", "api": "/k/v1/record.json", "payload": {"app": 1, "id": 1, "revision": 99, "record": {"担当者名": {"value": "変更"}}}},
        {"method": "DELETE", "api": "/k/v1/records.json", "payload": {"app": 1, "ids": [3]}}
    ]});
    let (s, v) = k
        .call(Method::POST, "/k/v1/bulkRequest.json", &t, Some(body))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(
        (&results[0], &results[1], &results[3]),
        (&json!({}), &json!({}), &json!({}))
    );
    assert_eq!(results[2]["code"], "GAIA_CO02");
    assert_eq!(k.count(1).await, 30);
    let (_, r) = k.record(1, 2).await;
    assert_eq!(value(&r["record"], "担当者名"), "佐々木 美穂");
    // The id the rolled-back add took is free again.
    let body = json!({"requests": [
        {"method": "POST", "api": "/k/v1/records.json", "payload": {"app": 1, "records": [{"会社名": {"value": "一括登録株式会社"}}, {"会社名": {"value": "一括登録二号株式会社"}}]}},
        {"method": "PUT", "api": "/k/v1/records.json", "payload": {"app": 1, "records": [{"id": 2, "revision": value(&r["record"], "$revision"), "record": {"担当者名": {"value": "変更"}}}]}},
        {"method": "POST", "api": "/k/v1/record.json", "payload": {"app": 2, "record": {"顧客レコード番号": {"value": "31"}, "活動日": {"value": "2024-06-01"}}}},
        {"method": "DELETE", "api": "/k/v1/records.json", "payload": {"app": 1, "ids": [3]}}
    ]});
    let (s, v) = k
        .call(Method::POST, "/k/v1/bulkRequest.json", &t, Some(body))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["results"][0],
        json!({"ids": ["31", "32"], "revisions": ["1", "1"]})
    );
    assert_eq!(v["results"][1]["records"][0]["id"], "2");
    assert_eq!(v["results"][3], json!({}));
    let (_, a) = k
        .record(2, v["results"][2]["id"].as_str().unwrap().parse().unwrap())
        .await;
    assert_eq!(
        value(&a["record"], "会社名"),
        "一括登録株式会社",
        "lookup sees the earlier entry"
    );
    assert_eq!(k.record(1, 3).await.0, StatusCode::NOT_FOUND);

    let many: Vec<Value> = (0..21)
        .map(|i| json!({"method": "POST", "api": "/k/v1/record.json", "payload": {"app": 1, "record": {"会社名": {"value": format!("上限{i}")}}}}))
        .collect();
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/bulkRequest.json",
            &t,
            Some(json!({"requests": many})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    assert_eq!(k.count(1).await, 31);
}

#[tokio::test]
async fn update_key_and_upsert() {
    let k = start().await;
    let t = k.token(1);
    let put =
        |records: Value, upsert: bool| json!({"app": 1, "upsert": upsert, "records": records});
    let records = json!([
        {"updateKey": {"field": "会社名", "value": "株式会社ネクスト"}, "record": {"売上高": {"value": "220000000"}}},
        {"updateKey": {"field": "会社名", "value": "株式会社アップサート"}, "record": {"担当者名": {"value": "新井 亮"}}},
        {"id": "9007199254740991", "record": {"会社名": {"value": "ダミーID株式会社"}}}
    ]);
    let (s, v) = k
        .call(
            Method::PUT,
            "/k/v1/records.json",
            &t,
            Some(put(records, true)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v["records"],
        json!([
            {"id": "7", "revision": "3", "operation": "UPDATE"},
            {"id": "31", "revision": "1", "operation": "INSERT"},
            {"id": "32", "revision": "1", "operation": "INSERT"}
        ])
    );
    let (_, r) = k.record(1, 31).await;
    assert_eq!(value(&r["record"], "会社名"), "株式会社アップサート");
    assert_eq!(value(&r["record"], "担当者名"), "新井 亮");
    let (_, r) = k.record(1, 7).await;
    assert_eq!(value(&r["record"], "売上高"), "220000000");

    // Without upsert an unknown key is GAIA_RE20 and the whole call is undone.
    let records = json!([
        {"updateKey": {"field": "会社名", "value": "株式会社ネクスト"}, "record": {"売上高": {"value": "1"}}},
        {"updateKey": {"field": "会社名", "value": "存在しない株式会社"}, "record": {}}
    ]);
    let (s, v) = k
        .call(
            Method::PUT,
            "/k/v1/records.json",
            &t,
            Some(put(records, false)),
        )
        .await;
    assert!(s.is_client_error());
    assert_eq!(v["code"], "GAIA_RE20");
    let (_, r) = k.record(1, 7).await;
    assert_eq!(value(&r["record"], "売上高"), "220000000");

    // updateKey must be a unique text or number field, and not with an id.
    let body =
        json!({"app": 1, "updateKey": {"field": "担当者名", "value": "森 さくら"}, "record": {}});
    let (_, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(body))
        .await;
    assert_eq!(v["code"], "CB_VA01");
    let body = json!({"app": 1, "id": 7, "updateKey": {"field": "会社名", "value": "株式会社ネクスト"}, "record": {}});
    let (_, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(body))
        .await;
    assert_eq!(v["code"], "CB_VA01");
    let body = json!({"app": 1, "updateKey": {"field": "会社名", "value": "株式会社ネクスト"}, "revision": 3, "record": {"部署名": {"value": "営業本部"}}});
    let (s, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(body))
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"revision": "4"})));
}
