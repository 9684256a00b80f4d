//! The query language of the kintone emulator: operators per field type, and/or with
//! parentheses, ordering, limit/offset, the updated-time field with offsets, date functions.

mod kintone_support;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};
use kintone_support::{start, value};
use reqwest::StatusCode;
use serde_json::Value;

fn names(v: &Value) -> Vec<String> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| value(r, "会社名").to_string())
        .collect()
}

#[tokio::test]
async fn conditions_combine_with_and_or_and_parentheses() {
    let k = start().await;
    let (_, v) = k.query(1, r#"会社名 like "商事""#).await;
    let mut n = names(&v);
    n.sort();
    assert_eq!(n, ["(株)佐藤商事", "テスト商事株式会社"]);

    let (_, v) = k
        .query(1, r#"都道府県 in ("東京都") and 売上高 >= 100000000"#)
        .await;
    assert_eq!(v["totalCount"], "3");

    let q = r#"(都道府県 in ("大阪府") or 顧客ランク in ("A")) and 売上高 < 100000000 order by $id asc"#;
    assert_eq!(k.ids(1, q).await, [2, 3, 5, 15, 26]);
    let q =
        r#"都道府県 in ("大阪府") or 顧客ランク in ("A") and 売上高 < 100000000 order by $id asc"#;
    assert_eq!(k.ids(1, q).await, [2, 3, 5, 15, 22, 26]);

    assert_eq!(k.ids(1, "部署名 is empty order by $id asc").await, [6, 27]);
    let (_, v) = k.query(1, "部署名 is not empty").await;
    assert_eq!(v["totalCount"], "28");
    let (_, v) = k.query(1, r#"顧客ランク not in ("A", "B")"#).await;
    assert_eq!(v["totalCount"], "10");
    assert_eq!(k.ids(1, r#"会社名 = "㈱東京物産""#).await, [4]);
    let (_, v) = k.query(1, r#"会社名 != "㈱東京物産""#).await;
    assert_eq!(v["totalCount"], "29");
    assert_eq!(
        k.ids(1, r#"備考 like "契約" order by $id asc"#).await,
        [1, 15]
    );
    assert_eq!(
        k.ids(1, "$id > 25 and $id != 27 order by $id asc").await,
        [26, 28, 29, 30]
    );
    assert_eq!(
        k.ids(1, "レコード番号 in (3, 5) order by レコード番号 desc")
            .await,
        [5, 3]
    );
}

#[tokio::test]
async fn ordering_limit_and_offset() {
    let k = start().await;
    let (_, v) = k.query(1, "order by 売上高 desc limit 3").await;
    assert_eq!(
        names(&v),
        [
            "林ホールディングス株式会社",
            "株式会社ネクスト",
            "中村薬品株式会社"
        ]
    );
    assert_eq!(v["totalCount"], "30");
    let (_, v) = k.query(1, "order by 売上高 desc limit 2 offset 1").await;
    assert_eq!(names(&v), ["株式会社ネクスト", "中村薬品株式会社"]);
    let (_, v) = k
        .query(1, "order by 顧客ランク asc, 売上高 desc limit 2")
        .await;
    assert_eq!(
        names(&v),
        ["林ホールディングス株式会社", "株式会社ネクスト"]
    );
    let (_, v) = k
        .query(1, "order by 顧客ランク desc, $id asc limit 2")
        .await;
    assert_eq!(names(&v), ["(株)大阪精機", "有限会社田中工務店"]);
    assert_eq!(
        k.ids(1, "$id > 10 order by $id asc limit 3").await,
        [11, 12, 13]
    );
    assert_eq!(k.ids(1, "limit 2").await, [30, 29]);
    // The paging loop of the official clients: `$id > last order by $id asc limit N`.
    let mut last = 0;
    let mut seen = 0;
    loop {
        let ids = k
            .ids(1, &format!("$id > {last} order by $id asc limit 7"))
            .await;
        seen += ids.len();
        match ids.last() {
            Some(l) if ids.len() == 7 => last = *l,
            _ => break,
        }
    }
    assert_eq!(seen, 30);
}

#[tokio::test]
async fn updated_time_compares_with_offsets() {
    let k = start().await;
    let (_, v) = k.query(1, "order by 更新日時 desc limit 500").await;
    let all: Vec<(u64, DateTime<Utc>)> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                value(r, "$id").parse().unwrap(),
                value(r, "更新日時").parse().unwrap(),
            )
        })
        .collect();
    assert!(
        all.windows(2).all(|w| w[0].1 >= w[1].1),
        "descending by 更新日時"
    );
    let (_, t) = all[all.len() / 2];
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    let literal = t
        .with_timezone(&jst)
        .format("%Y-%m-%dT%H:%M:%S%z")
        .to_string();
    assert!(literal.ends_with("+0900"));
    for (op, keep) in [(">", t.timestamp() + 1), (">=", t.timestamp())] {
        let q = format!(r#"更新日時 {op} "{literal}" order by $id asc limit 500"#);
        let mut want: Vec<u64> = all
            .iter()
            .filter(|(_, u)| u.timestamp() >= keep)
            .map(|(i, _)| *i)
            .collect();
        want.sort();
        assert_eq!(k.ids(1, &q).await, want, "{q}");
    }
    let z = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let with_colon = t
        .with_timezone(&jst)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let a = k.ids(1, &format!(r#"更新日時 < "{z}""#)).await;
    let b = k.ids(1, &format!(r#"更新日時 < "{with_colon}""#)).await;
    assert_eq!(a, b);
    assert_eq!(a.len(), all.iter().filter(|(_, u)| *u < t).count());
}

#[tokio::test]
async fn dates_and_date_functions() {
    let k = start().await;
    let (_, v) = k.query(2, "limit 500").await;
    let days: Vec<NaiveDate> = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| value(r, "活動日").parse().unwrap())
        .collect();
    assert_eq!(days.len(), 40);
    let today = (Utc::now() + Duration::hours(9)).date_naive();
    let count = |f: &dyn Fn(&NaiveDate) -> bool| days.iter().filter(|d| f(d)).count().to_string();
    let (_, v) = k.query(2, "活動日 >= FROM_TODAY(-30, DAYS)").await;
    assert_eq!(
        v["totalCount"],
        count(&|d| *d >= today - Duration::days(30))
    );
    let (_, v) = k.query(2, "活動日 < TODAY()").await;
    assert_eq!(v["totalCount"], count(&|d| *d < today));
    let d = days[3];
    let (_, v) = k.query(2, &format!(r#"活動日 = "{d}""#)).await;
    assert_eq!(v["totalCount"], count(&|x| *x == d));
    let (_, v) = k.query(2, "次回予定日 is empty").await;
    assert_eq!(v["totalCount"], "26");
}

#[tokio::test]
async fn bad_queries_are_validation_errors() {
    let k = start().await;
    for q in [
        r#"存在しない = "x""#,
        r#"会社名 > "a""#,
        r#"売上高 like "1""#,
        r#"都道府県 = "東京都""#,
        "order by 備考 asc",
        "limit 5 offset 1 order by $id asc",
        "offset 5 limit 1",
        r#"会社名 = "閉じていない"#,
        "(売上高 > 1",
        r#"売上高 > "たくさん""#,
        r#"更新日時 > "昨日""#,
    ] {
        let (s, v) = k.query(1, q).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {v}");
        assert_eq!(v["code"], "CB_VA01", "{q}");
        assert!(v["errors"]["query"]["messages"][0].is_string(), "{q}: {v}");
    }
}

#[tokio::test]
async fn seek_pages_by_updated_time_and_id_walk_every_record_once_in_order() {
    let k = start().await;
    let (_, all) = k.query(1, "order by $id asc limit 500").await;
    let mut expected: Vec<(String, u64)> = all["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                value(r, "更新日時").to_string(),
                value(r, "$id").parse().unwrap(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(expected.len(), 30);

    let mut walked: Vec<(String, u64)> = Vec::new();
    loop {
        let seek = match walked.last() {
            Some((t, id)) => format!(r#"(更新日時 > "{t}" or (更新日時 = "{t}" and $id > {id})) "#),
            None => String::new(),
        };
        let (s, v) = k
            .query(1, &format!("{seek}order by 更新日時 asc, $id asc limit 7"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let page = v["records"].as_array().unwrap().clone();
        walked.extend(page.iter().map(|r| {
            (
                value(r, "更新日時").to_string(),
                value(r, "$id").parse().unwrap(),
            )
        }));
        if page.len() < 7 {
            break;
        }
    }
    assert_eq!(walked, expected);
}
