//! The kintone emulator as an API client sees it: records, limits, parameters, values,
//! lookups, metadata, files, persistence and benchmark seeding (reference/kintone.md).

mod kintone_support;

use kintone_support::{send, start, value, Auth};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn records_come_with_string_numbers_system_fields_and_id_descending() {
    let k = start().await;
    let (s, v) = k
        .get("/k/v1/records.json?app=1&totalCount=true", &k.token(1))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["totalCount"], "30");
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 30);
    assert_eq!(value(&recs[0], "$id"), "30");
    assert_eq!(value(&recs[29], "$id"), "1");
    let first = &recs[29];
    assert_eq!(first["$id"]["type"], "__ID__");
    assert_eq!(first["$revision"]["type"], "__REVISION__");
    assert_eq!(first["レコード番号"]["type"], "RECORD_NUMBER");
    assert_eq!(value(first, "レコード番号"), "1");
    assert_eq!(value(first, "会社名"), "株式会社サンプル");
    assert_eq!(
        first["売上高"],
        json!({"type": "NUMBER", "value": "125000000"})
    );
    assert_eq!(first["作成者"]["value"]["code"], "sato");
    let updated = value(first, "更新日時");
    assert_eq!(updated.len(), 20, "{updated}");
    assert!(updated.ends_with(":00Z"), "{updated}");
    // totalCount is null unless asked for.
    let (_, v) = k.get("/k/v1/records.json?app=1", &k.token(1)).await;
    assert_eq!(v["totalCount"], Value::Null);
}

#[tokio::test]
async fn limits_of_reads_and_writes_are_enforced() {
    let k = start().await;
    let (s, v) = k.query(1, "limit 501").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    assert_eq!(k.query(1, "limit 500").await.0, StatusCode::OK);
    let (s, v) = k.query(1, "order by $id asc limit 1 offset 10001").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    let (s, v) = k.query(1, "limit 1 offset 10000").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["records"], json!([]));

    let make = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"会社名": {"value": format!("上限テスト{i}株式会社")}}))
            .collect()
    };
    let t = k.token(1);
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/records.json",
            &t,
            Some(json!({"app": 1, "records": make(101)})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    assert_eq!(k.count(1).await, 30);
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/records.json",
            &t,
            Some(json!({"app": 1, "records": make(100)})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ids"].as_array().unwrap().len(), 100);
    assert_eq!(v["ids"][0], "31");
    assert_eq!(v["revisions"][0], "1");
    let ids: Vec<String> = (0..101).map(|i| format!("ids[{i}]={}", 31 + i)).collect();
    let (s, _) = k
        .call(
            Method::DELETE,
            &format!("/k/v1/records.json?app=1&{}", ids.join("&")),
            &t,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(k.count(1).await, 130);
}

#[tokio::test]
async fn qs_arrays_json_bodies_and_method_override() {
    let k = start().await;
    let t = k.token(1);
    // Brackets percent-encoded as qs sends them.
    let q = "app=1&fields%5B0%5D=%E4%BC%9A%E7%A4%BE%E5%90%8D&fields%5B1%5D=%24id&query=%24id%20%3C%3D%203";
    let (s, v) = k.get(&format!("/k/v1/records.json?{q}"), &t).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 3);
    let mut keys: Vec<&String> = recs[0].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["$id", "会社名"]);

    // The same as POST + X-HTTP-Method-Override: GET with a JSON body.
    let rb = k
        .req(Method::POST, "/k/v1/records.json", Auth::Token(&t))
        .header("X-HTTP-Method-Override", "GET")
        .json(&json!({"app": "1", "fields": ["会社名", "$id"], "query": "$id <= 3"}));
    let (s, v2) = send(rb).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, v2);

    // DELETE with qs-style ids, then the record is gone.
    let (s, v) = k
        .call(
            Method::DELETE,
            "/k/v1/records.json?app=1&ids%5B0%5D=2&ids%5B1%5D=3",
            &t,
            None,
        )
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({})));
    let (s, v) = k.record(1, 2).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("GAIA_RE01"))
    );
    let (s, v) = send(
        k.req(Method::POST, "/k/v1/records.json", Auth::Token(&t))
            .header("content-type", "application/json")
            .body("{oops"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

#[tokio::test]
async fn record_crud_keeps_revisions_and_system_fields() {
    let k = start().await;
    let t = k.token(1);
    let body = json!({"app": 1, "record": {
        "会社名": {"value": "株式会社テスト追加"},
        "売上高": {"value": 1200},
        "都道府県": {"value": "沖縄県"},
        "取引開始日": {"value": "2024-04-01"},
        "存在しないフィールド": {"value": "x"}
    }});
    let (s, v) = k
        .call(Method::POST, "/k/v1/record.json", &t, Some(body))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v, json!({"id": "31", "revision": "1"}));
    let (_, v) = k.record(1, 31).await;
    let r = &v["record"];
    assert_eq!(value(r, "売上高"), "1200");
    assert_eq!(value(r, "レコード番号"), "31");
    assert_eq!(r["作成者"]["value"]["code"], "Administrator");
    assert_eq!(r["顧客ランク"]["value"], Value::Null);
    assert_eq!(
        r["作成日時"],
        json!({"type": "CREATED_TIME", "value": value(r, "更新日時")})
    );

    let put = |rev: Value| json!({"app": 1, "id": 31, "revision": rev, "record": {"担当者名": {"value": "比嘉 太一"}}});
    let (s, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(put(json!("1"))))
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"revision": "2"})));
    let (s, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(put(json!("1"))))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("GAIA_CO02"))
    );
    let (s, v) = k
        .call(Method::PUT, "/k/v1/record.json", &t, Some(put(json!(-1))))
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"revision": "3"})));
    let (_, v) = k.record(1, 31).await;
    assert_eq!(value(&v["record"], "担当者名"), "比嘉 太一");
    assert_eq!(value(&v["record"], "$revision"), "3");
    assert_eq!(value(&v["record"], "会社名"), "株式会社テスト追加");

    let (s, v) = k
        .call(
            Method::DELETE,
            "/k/v1/records.json",
            &t,
            Some(json!({"app": 1, "ids": [31], "revisions": [2]})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("GAIA_CO02"))
    );
    let (s, _) = k
        .call(
            Method::DELETE,
            "/k/v1/records.json",
            &t,
            Some(json!({"app": 1, "ids": [31], "revisions": [3]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(k.record(1, 31).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_values_are_reported_per_field_and_nothing_is_written() {
    let k = start().await;
    let t = k.token(1);
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/record.json",
            &t,
            Some(json!({"app": 1, "record": {"会社名": {"value": "株式会社サンプル"}}})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    assert!(
        v["errors"]["record.会社名.value"]["messages"][0].is_string(),
        "{v}"
    );

    let records = json!([
        {"会社名": {"value": "新規一号株式会社"}},
        {"会社名": {"value": "テスト商事株式会社"}, "売上高": {"value": "12万"}, "都道府県": {"value": "東京"}},
        {"担当者名": {"value": "会社名なし"}}
    ]);
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/records.json",
            &t,
            Some(json!({"app": 1, "records": records})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("CB_VA01"))
    );
    let errors = v["errors"].as_object().unwrap();
    for key in [
        "records[1].会社名.value",
        "records[1].売上高.value",
        "records[1].都道府県.value",
    ] {
        assert!(errors.contains_key(key), "{key} in {v}");
    }
    assert_eq!(
        k.count(1).await,
        30,
        "the valid first record was rolled back"
    );
}

#[tokio::test]
async fn lookups_copy_mapped_fields_and_need_the_related_apps_token() {
    let k = start().await;
    let both = format!("{},{}", k.token(2), k.token(1));
    let rec = |n: &str| json!({"app": 2, "record": {"顧客レコード番号": {"value": n}, "活動日": {"value": "2024-05-10"}, "件名": {"value": "訪問"}}});
    let (s, v) = k
        .call(Method::POST, "/k/v1/record.json", &both, Some(rec("3")))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, v) = k
        .record(2, v["id"].as_str().unwrap().parse().unwrap())
        .await;
    assert_eq!(value(&v["record"], "会社名"), "株式会社みらい技研");
    assert_eq!(value(&v["record"], "担当者名"), "小川　健一");
    assert_eq!(v["record"]["顧客レコード番号"]["type"], "NUMBER");

    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/record.json",
            &k.token(2),
            Some(rec("3")),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("GAIA_LO04"))
    );
    let (_, v) = k
        .call(Method::POST, "/k/v1/record.json", &both, Some(rec("999")))
        .await;
    assert_eq!(v["code"], "GAIA_LO04");
    let (s, v) = k
        .call(
            Method::POST,
            "/k/v1/record.json",
            &both,
            Some(json!({"app": 2, "record": {"件名": {"value": "日付なし"}}})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["errors"]["record.活動日.value"].is_object(), "{v}");
}

#[tokio::test]
async fn form_fields_and_app_describe_the_seeded_apps() {
    let k = start().await;
    let (s, v) = k
        .get("/k/v1/app/form/fields.json?app=1&lang=ja", &k.token(1))
        .await;
    assert_eq!(s, StatusCode::OK);
    let p = &v["properties"];
    assert_eq!(p["会社名"]["type"], "SINGLE_LINE_TEXT");
    assert_eq!(
        (
            p["会社名"]["unique"].as_bool(),
            p["会社名"]["required"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(p["都道府県"]["options"].as_object().unwrap().len(), 47);
    assert_eq!(p["都道府県"]["options"]["東京都"]["index"], "12");
    assert_eq!(p["更新日時"]["type"], "UPDATED_TIME");
    assert_eq!(p["売上高"]["type"], "NUMBER");
    assert!(v["revision"].is_string());

    let (_, v) = k.get("/k/v1/app/form/fields.json?app=2", &k.token(2)).await;
    let lk = &v["properties"]["顧客レコード番号"]["lookup"];
    assert_eq!(lk["relatedApp"]["app"], "1");
    assert_eq!(lk["relatedKeyField"], "レコード番号");
    assert_eq!(
        lk["fieldMappings"][0],
        json!({"field": "会社名", "relatedField": "会社名"})
    );
    let (s, _) = k
        .get("/k/v1/preview/app/form/fields.json?app=2", &k.token(2))
        .await;
    assert_eq!(s, StatusCode::OK);

    let (_, v) = k.get("/k/v1/app.json?id=1", &k.token(1)).await;
    assert_eq!(
        (v["appId"].as_str(), v["name"].as_str()),
        (Some("1"), Some("顧客管理"))
    );
    assert_eq!(v["spaceId"], Value::Null);
}

#[tokio::test]
async fn files_upload_and_download() {
    let k = start().await;
    let body = "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"見積書.txt\"\r\nContent-Type: text/plain\r\n\r\n見積金額 120,000円\r\n--BOUNDARY--\r\n";
    let rb = k
        .req(Method::POST, "/k/v1/file.json", Auth::Token(&k.token(1)))
        .header("content-type", "multipart/form-data; boundary=BOUNDARY")
        .body(body);
    let (s, v) = send(rb).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let key = v["fileKey"].as_str().unwrap();
    let r = k
        .req(
            Method::GET,
            &format!("/k/v1/file.json?fileKey={key}"),
            Auth::Token(&k.token(1)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(r.text().await.unwrap(), "見積金額 120,000円");
}

#[tokio::test]
async fn data_survives_a_restart_with_a_data_dir() {
    let dir = std::env::temp_dir().join(format!("kintone-persist-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    {
        let k = kintone_support::start_with(Some(dir.clone()), 0).await;
        let body = json!({"app": 1, "record": {"会社名": {"value": "永続化テスト株式会社"}}});
        let (s, _) = k
            .call(Method::POST, "/k/v1/record.json", &k.token(1), Some(body))
            .await;
        assert_eq!(s, StatusCode::OK);
        let file = dir.join("kintone.json");
        let t0 = std::time::Instant::now();
        while !std::fs::read_to_string(&file).is_ok_and(|s| s.contains("永続化テスト株式会社"))
        {
            assert!(t0.elapsed().as_secs() < 5, "not saved");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let k = kintone_support::start_with(Some(dir.clone()), 0).await;
    let (_, v) = k.record(1, 31).await;
    assert_eq!(value(&v["record"], "会社名"), "永続化テスト株式会社");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn benchmark_records_are_generated_and_seeded_outside_the_counters() {
    let k = kintone_support::start_with(None, 5_000).await;
    assert_eq!(k.count(1).await, 5_030);
    let (_, v) = k.query(1, "$id > 5000 order by $id asc limit 500").await;
    assert_eq!(v["totalCount"], "30");
    assert_eq!(v["records"].as_array().unwrap().len(), 30);
    let (_, v) = k.query(1, r#"会社名 like "株式会社" limit 1"#).await;
    assert!(v["totalCount"].as_str().unwrap().parse::<u64>().unwrap() > 1_000);

    k.http
        .post(format!("{}/_sandbox/stats/reset", k.base))
        .send()
        .await
        .unwrap();
    let body = json!({
        "records": [{"会社名": {"value": "シード株式会社"}, "売上高": {"value": "10"}}],
        "generate": 1_000
    });
    let r = k
        .http
        .post(format!("{}/_sandbox/kintone/apps/1/records", k.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["first_id"], "5031");
    assert_eq!(v["generated_ids"], json!(["5032", "6031"]));
    assert_eq!(k.count(1).await, 6_031);
    let stats: Value = k
        .http
        .get(format!("{}/_sandbox/stats", k.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["total"], 0, "{stats}");
    // Seeded records are checked like API writes.
    let r = k
        .http
        .post(format!("{}/_sandbox/kintone/apps/1/records", k.base))
        .json(&json!({"records": [{"会社名": {"value": "シード株式会社"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Reset: back to the seed (with its generated records).
    let r = k
        .http
        .post(format!("{}/_sandbox/kintone/reset", k.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(k.count(1).await, 5_030);
}
