//! The Zoho CRM v8 emulator as a sync connector uses it (reference/zoho-crm.md §4–§9):
//! metadata, paging with `page` and `page_token`, If-Modified-Since, writes with per-record
//! results, upsert, search, the deleted feed, two isolated orgs, and the request counters.

mod zoho_support;

use reqwest::Method;
use serde_json::{json, Value};
use zoho_support::{start, Zoho};

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn metadata_describes_modules_and_fields_for_the_sdks() {
    let z = start(0).await;
    let t = z.token("A").await;
    let (s, m) = Zoho::send(z.get(&t, "settings/modules")).await;
    assert_eq!(s, 200);
    let modules = m["modules"].as_array().unwrap();
    for name in [
        "Accounts",
        "Contacts",
        "Leads",
        "Deals",
        "Tasks",
        "Events",
        "Contracts",
    ] {
        let md = modules
            .iter()
            .find(|x| x["api_name"] == name)
            .unwrap_or_else(|| panic!("{name}"));
        assert_eq!(md["api_supported"], true);
    }
    let custom = modules
        .iter()
        .find(|x| x["api_name"] == "Contracts")
        .unwrap();
    assert_eq!(custom["generated_type"], "custom");

    let (s, _) = Zoho::send(
        z.get(&t, "settings/modules")
            .header("If-Modified-Since", "2030-01-01T00:00:00+09:00"),
    )
    .await;
    assert_eq!(s, 304);

    let (s, f) = Zoho::send(z.get(&t, "settings/fields?module=Contacts")).await;
    assert_eq!(s, 200);
    let field = |n: &str| {
        f["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["api_name"] == n)
            .cloned()
            .unwrap()
    };
    let last = field("Last_Name");
    assert_eq!(
        (last["system_mandatory"].as_bool(), last["length"].as_u64()),
        (Some(true), Some(80))
    );
    assert_eq!(last["data_type"], "text");
    let acc = field("Account_Name");
    assert_eq!(acc["data_type"], "lookup");
    assert_eq!(acc["lookup"]["module"]["api_name"], "Accounts");
    assert_eq!(field("Full_Name")["read_only"], true);
    assert_eq!(field("Email")["data_type"], "email");

    let (_, f) = Zoho::send(z.get(&t, "settings/fields?module=Accounts")).await;
    let code = f["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["api_name"] == "Customer_Code")
        .unwrap();
    assert_eq!(code["unique"]["casesensitive"], false);
    let (s, e) = Zoho::send(z.get(&t, "settings/fields?module=Nope")).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("INVALID_MODULE")));
}

#[tokio::test]
async fn listing_needs_fields_and_pages_past_2000_only_with_page_token() {
    let z = start(2100).await;
    let t = z.token("A").await;
    let (s, e) = Zoho::send(z.get(&t, "Accounts")).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("REQUIRED_PARAM_MISSING"))
    );
    let (s, _) = Zoho::send(z.get(&t, "Accounts?fields=Account_Name&per_page=201")).await;
    assert_eq!(s, 400);
    let (s, e) = Zoho::send(z.get(&t, "Accounts?fields=Account_Name&per_page=200&page=11")).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("LIMIT_EXCEEDED")));

    let (s, p10) = Zoho::send(z.get(
        &t,
        "Accounts?fields=Account_Name,Phone&per_page=200&page=10&sort_order=asc",
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(p10["info"]["more_records"], true);
    assert_eq!(
        p10["data"][0].as_object().unwrap().len(),
        3,
        "id plus the two fields asked for"
    );
    let token = p10["info"]["next_page_token"].as_str().unwrap().to_string();
    let (s, _) = Zoho::send(z.get(
        &t,
        &format!("Accounts?fields=Account_Name&page=2&page_token={token}"),
    ))
    .await;
    assert_eq!(s, 400, "page and page_token cannot be mixed");

    // Walk everything with page_token, ascending by id: no gaps, no repeats.
    let (_, count) = Zoho::send(z.get(&t, "Accounts/actions/count")).await;
    let total = count["count"].as_u64().unwrap() as usize;
    assert_eq!(total, 2100 + 12);
    let mut seen: Vec<u64> = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            None => "Accounts?fields=Account_Name&sort_by=id&sort_order=asc".to_string(),
            Some(tk) => format!("Accounts?fields=Account_Name&page_token={tk}"),
        };
        let (s, body) = Zoho::send(z.get(&t, &path)).await;
        assert_eq!(s, 200);
        seen.extend(ids(&body).iter().map(|i| i.parse::<u64>().unwrap()));
        match body["info"]["next_page_token"].as_str() {
            Some(tk) => next = Some(tk.to_string()),
            None => {
                assert_eq!(body["info"]["more_records"], false);
                break;
            }
        }
    }
    assert_eq!(seen.len(), total);
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "ascending, unique");
}

#[tokio::test]
async fn if_modified_since_returns_only_newer_records_or_304_and_empty_is_204() {
    let z = start(0).await;
    let t = z.token("A").await;
    let (_, list) = Zoho::send(z.get(
        &t,
        "Contacts?fields=Last_Name,First_Name,Full_Name&sort_by=id&sort_order=asc",
    ))
    .await;
    let first = &list["data"][0];
    assert_eq!(first["Full_Name"], "佐藤 一郎");
    let id = first["id"].as_str().unwrap().to_string();

    let (s, upd) = Zoho::send(
        z.call(Method::PUT, &t, &format!("Contacts/{id}"))
            .json(&json!({"data": [{"Title": "取締役部長"}]})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(upd["data"][0]["code"], "SUCCESS");
    let modified = upd["data"][0]["details"]["Modified_Time"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(modified.ends_with("+09:00"), "{modified}");
    let stamp = chrono::DateTime::parse_from_rfc3339(&modified).unwrap();
    let before = (stamp - chrono::Duration::seconds(1)).to_rfc3339();

    let path = "Contacts?fields=Title,Modified_Time&sort_by=Modified_Time&sort_order=asc";
    let (s, newer) = Zoho::send(z.get(&t, path).header("If-Modified-Since", &before)).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&newer), vec![id.clone()]);
    assert_eq!(newer["data"][0]["Title"], "取締役部長");
    let (s, _) = Zoho::send(z.get(&t, path).header("If-Modified-Since", &modified)).await;
    assert_eq!(s, 304);
    let (s, _) = Zoho::send(
        z.get(&t, &format!("Contacts/{id}"))
            .header("If-Modified-Since", &modified),
    )
    .await;
    assert_eq!(s, 304);

    // Org B has one contract; once deleted, the list is empty: 204.
    let tb = z.token("B").await;
    let (_, c) = Zoho::send(z.get(&tb, "Contracts?fields=Name")).await;
    let cid = ids(&c).remove(0);
    let (s, _) = Zoho::send(z.call(Method::DELETE, &tb, &format!("Contracts?ids={cid}"))).await;
    assert_eq!(s, 200);
    let (s, body) = Zoho::send(z.get(&tb, "Contracts?fields=Name")).await;
    assert_eq!((s, body), (204, Value::Null));
}

#[tokio::test]
async fn writes_answer_per_record_in_order_with_201_207_and_400() {
    let z = start(0).await;
    let t = z.token("A").await;
    let post = |body: Value| z.call(Method::POST, &t, "Contacts").json(&body);

    let (s, ok) = Zoho::send(post(json!({"data": [
        {"Last_Name": "長谷川", "First_Name": "聡", "Email": "satoshi.hasegawa@example.jp"},
        {"Last_Name": "近藤", "Account_Name": {"id": "4876876000001000001"}},
    ]})))
    .await;
    assert_eq!(s, 201, "{ok}");
    assert_eq!(ok["data"][0]["message"], "record added");
    let new_id = ok["data"][0]["details"]["id"].as_str().unwrap().to_string();
    let (_, got) = Zoho::send(z.get(&t, &format!("Contacts/{new_id}"))).await;
    assert_eq!(got["data"][0]["Full_Name"], "長谷川 聡");
    assert_eq!(got["data"][0]["Owner"]["email"], z.org(0)["user"]["email"]);

    let long = "あ".repeat(81);
    let (s, mixed) = Zoho::send(post(json!({"data": [
        {"Last_Name": "大野"},
        {"First_Name": "名だけ"},
        {"Last_Name": "不正", "Email": "not-an-email"},
        {"Last_Name": long},
        {"Last_Name": "未知", "Favourite_Colour": "青"},
        {"Last_Name": "型違い", "Email_Opt_Out": "yes"},
    ]})))
    .await;
    assert_eq!(s, 207);
    let d = &mixed["data"];
    assert_eq!(d.as_array().unwrap().len(), 6);
    assert_eq!(d[0]["code"], "SUCCESS");
    assert_eq!(d[1]["code"], "MANDATORY_NOT_FOUND");
    assert_eq!(d[1]["details"]["json_path"], "$.data[1].Last_Name");
    assert_eq!(
        (
            d[2]["code"].as_str(),
            d[2]["details"]["expected_data_type"].as_str()
        ),
        (Some("INVALID_DATA"), Some("email"))
    );
    assert_eq!(d[3]["details"]["maximum_length"], 80);
    assert_eq!(d[4]["details"]["api_name"], "Favourite_Colour");
    assert_eq!(d[5]["details"]["expected_data_type"], "boolean");

    let (s, all_bad) = Zoho::send(post(json!({"data": [{"First_Name": "姓なし"}]}))).await;
    assert_eq!(
        (s, all_bad["data"][0]["status"].as_str()),
        (400, Some("error"))
    );

    let many: Vec<Value> = (0..101)
        .map(|i| json!({"Last_Name": format!("多数{i}")}))
        .collect();
    let (s, e) = Zoho::send(post(json!({ "data": many }))).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("LIMIT_EXCEEDED")));

    // A unique field refuses a second record with the same value.
    let (s, dup) = Zoho::send(
        z.call(Method::POST, &t, "Accounts")
            .json(&json!({"data": [{"Account_Name": "株式会社重複", "Customer_Code": "C0001"}]})),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(dup["data"][0]["code"], "DUPLICATE_DATA");
    assert!(dup["data"][0]["details"]["duplicate_record"]["id"].is_string());

    // Update by body id; an unknown id fails that record only.
    let (s, upd) = Zoho::send(z.call(Method::PUT, &t, "Contacts").json(&json!({"data": [
        {"id": new_id, "Mobile": "０９０－１２３４－５６７８"},
        {"id": "4876876000009999999", "Mobile": "090"},
    ]})))
    .await;
    assert_eq!(s, 207);
    assert_eq!(upd["data"][0]["message"], "record updated");
    assert_eq!(upd["data"][1]["code"], "INVALID_DATA");
}

#[tokio::test]
async fn upsert_matches_on_system_or_given_duplicate_check_fields() {
    let z = start(0).await;
    let t = z.token("A").await;
    let (_, found) =
        Zoho::send(z.get(&t, "Contacts/search?email=ichiro.sato@yamada-ss.example.jp")).await;
    let sato = ids(&found).remove(0);

    let (s, r) = Zoho::send(z.call(Method::POST, &t, "Contacts/upsert").json(&json!({"data": [
        {"Last_Name": "佐藤", "First_Name": "一郎", "Email": "ICHIRO.SATO@yamada-ss.example.jp", "Title": "本部長"},
        {"Last_Name": "新規", "Email": "new.person@example.jp"},
    ]}))).await;
    assert_eq!(s, 200);
    assert_eq!(r["data"][0]["action"], "update");
    assert_eq!(r["data"][0]["duplicate_field"], "Email");
    assert_eq!(r["data"][0]["details"]["id"], sato.as_str());
    assert_eq!(r["data"][1]["action"], "insert");
    assert_eq!(r["data"][1]["duplicate_field"], Value::Null);

    // Accounts match on Account_Name by default; Customer_Code when asked.
    let (_, acc) =
        Zoho::send(z.get(&t, "Accounts/search?criteria=(Customer_Code:equals:C0003)")).await;
    let minato = ids(&acc).remove(0);
    let (s, r) = Zoho::send(z.call(Method::POST, &t, "Accounts/upsert").json(&json!({
        "data": [{"Account_Name": "みなと物流株式会社", "Customer_Code": "C0003"}],
        "duplicate_check_fields": ["Customer_Code"],
    })))
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["data"][0]["details"]["id"], minato.as_str());
    assert_eq!(r["data"][0]["duplicate_field"], "Customer_Code");
    let (s, r) = Zoho::send(z.call(Method::POST, &t, "Accounts/upsert").json(&json!({
        "data": [{"Account_Name": "みなと物流株式会社", "Phone": "045-000-0000"}],
    })))
    .await;
    assert_eq!(
        (s, r["data"][0]["details"]["id"].as_str()),
        (200, Some(minato.as_str()))
    );
    let (s, r) = Zoho::send(z.call(Method::POST, &t, "Accounts/upsert").json(&json!({
        "data": [{"Account_Name": "株式会社まったく新しい会社"}],
    })))
    .await;
    assert_eq!((s, r["data"][0]["action"].as_str()), (201, Some("insert")));
    let (s, e) = Zoho::send(z.call(Method::POST, &t, "Accounts/upsert").json(&json!({
        "data": [{"Account_Name": "x"}], "duplicate_check_fields": ["Phone"],
    })))
    .await;
    assert_eq!((s, e["code"].as_str()), (400, Some("INVALID_DATA")));
}

#[tokio::test]
async fn search_by_criteria_email_phone_and_word() {
    let z = start(0).await;
    let t = z.token("A").await;
    let names = |b: &Value| -> Vec<String> {
        b["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Full_Name"].as_str().unwrap().to_string())
            .collect()
    };
    let (s, b) = Zoho::send(z.get(
        &t,
        "Contacts/search?criteria=((Last_Name:equals:佐藤)and(First_Name:starts_with:一))",
    ))
    .await;
    assert_eq!(s, 200);
    assert_eq!(names(&b), vec!["佐藤 一郎"]);
    let (_, b) = Zoho::send(z.get(
        &t,
        "Contacts/search?criteria=(Account_Name:equals:株式会社山田製作所)",
    ))
    .await;
    assert_eq!(names(&b), vec!["佐藤 一郎", "鈴木 花子"]);
    let (_, b) = Zoho::send(z.get(
        &t,
        "Contacts/search?email=HANAKO.SUZUKI@yamada-ss.example.jp",
    ))
    .await;
    assert_eq!(names(&b), vec!["鈴木 花子"]);
    // Stored with full-width digits, found with half-width ones.
    let (_, b) = Zoho::send(z.get(&t, "Contacts/search?phone=06-6343-7778")).await;
    assert_eq!(names(&b), vec!["中村 さくら"]);
    let (_, b) = Zoho::send(z.get(&t, "Contacts/search?word=青葉区")).await;
    assert_eq!(names(&b), vec!["高橋 健太"]);
    let (s, _) =
        Zoho::send(z.get(&t, "Contacts/search?criteria=(Last_Name:equals:存在しない)")).await;
    assert_eq!(s, 204);
    let (s, e) = Zoho::send(z.get(&t, "Contacts/search?criteria=(Last_Name:between:a)")).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("INVALID_QUERY")));
    let (s, e) = Zoho::send(z.get(&t, "Contacts/search")).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("REQUIRED_PARAM_MISSING"))
    );
    let (_, c) = Zoho::send(z.get(
        &t,
        "Contacts/actions/count?criteria=(Mailing_State:equals:東京都)",
    ))
    .await;
    assert_eq!(c["count"], 4, "佐藤, 鈴木, 山本, 山口");
}

#[tokio::test]
async fn deletes_feed_the_deleted_records_list() {
    let z = start(0).await;
    let t = z.token("A").await;
    let (_, tasks) = Zoho::send(z.get(&t, "Tasks?fields=Subject&sort_by=id&sort_order=asc")).await;
    let victim = ids(&tasks).remove(0);
    let (s, r) = Zoho::send(z.call(Method::DELETE, &t, &format!("Tasks?ids={victim},12345"))).await;
    assert_eq!(s, 207);
    assert_eq!(r["data"][0]["message"], "record deleted");
    assert_eq!(r["data"][1]["status"], "error");

    let (s, _) = Zoho::send(z.get(&t, &format!("Tasks/{victim}"))).await;
    assert_eq!(s, 204);
    let (s, feed) = Zoho::send(z.get(&t, "Tasks/deleted?type=all")).await;
    assert_eq!(s, 200);
    let entry = &feed["data"][0];
    assert_eq!(entry["id"], victim.as_str());
    assert_eq!(entry["display_name"], "見積書を送付する");
    assert_eq!(entry["type"], "recycle");
    assert!(entry["deleted_time"].as_str().unwrap().ends_with("+09:00"));
    let (s, _) = Zoho::send(
        z.get(&t, "Tasks/deleted")
            .header("If-Modified-Since", "2099-01-01T00:00:00+09:00"),
    )
    .await;
    assert_eq!(s, 304);
    let (s, _) = Zoho::send(z.get(&t, "Events/deleted")).await;
    assert_eq!(s, 204);
}

#[tokio::test]
async fn two_orgs_are_isolated_by_their_tokens() {
    let z = start(0).await;
    let (ta, tb) = (z.token("A").await, z.token("B").await);
    let (_, a) = Zoho::send(z.get(&ta, "Accounts?fields=Account_Name&sort_order=asc")).await;
    let (_, b) = Zoho::send(z.get(&tb, "Accounts?fields=Account_Name&sort_order=asc")).await;
    assert_eq!(a["data"][0]["Account_Name"], "株式会社山田製作所");
    assert_eq!(b["data"][0]["Account_Name"], "(株)山田製作所");
    let a_id = ids(&a).remove(0);
    let (s, _) = Zoho::send(z.get(&tb, &format!("Accounts/{a_id}"))).await;
    assert_eq!(s, 204, "org B cannot read org A's record");
    let (s, r) = Zoho::send(
        z.call(Method::PUT, &tb, "Accounts")
            .json(&json!({"data": [{"id": a_id, "Phone": "0"}]})),
    )
    .await;
    assert_eq!(
        (s, r["data"][0]["code"].as_str()),
        (400, Some("INVALID_DATA"))
    );

    let (_, created) = Zoho::send(
        z.call(Method::POST, &tb, "Leads")
            .json(&json!({"data": [{"Last_Name": "組織B専用"}]})),
    )
    .await;
    assert_eq!(created["data"][0]["code"], "SUCCESS");
    let (s, _) = Zoho::send(z.get(&ta, "Leads/search?word=組織B専用")).await;
    assert_eq!(s, 204);
    let (_, org) = Zoho::send(z.get(&tb, "org")).await;
    assert_eq!(org["org"][0]["company_name"], "サンプル販売株式会社");
}

#[tokio::test]
async fn stats_count_api_calls_and_faults_use_zoho_errors() {
    let z = start(0).await;
    let t = z.token("A").await;
    for _ in 0..3 {
        Zoho::send(z.get(&t, "Deals?fields=Deal_Name")).await;
    }
    Zoho::send(z.get(&t, "Deals/search?word=更新")).await;
    let stats: Value = z
        .http
        .get(format!("{}/_sandbox/stats", z.crm))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["GET /crm/v8/{module}"], 3);
    assert_eq!(stats["requests"]["GET /crm/v8/{module}/search"], 1);
    assert_eq!(stats["total"], 4, "sandbox routes are not counted: {stats}");

    let r = z
        .http
        .put(format!("{}/_sandbox/faults", z.crm))
        .json(&json!({"fail_next": 1, "kinds": ["too_many"], "retry_after_s": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = z.get(&t, "Deals?fields=Deal_Name").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "TOO_MANY_REQUESTS"
    );
    let (s, _) = Zoho::send(z.get(&t, "Deals?fields=Deal_Name")).await;
    assert_eq!(s, 200);

    // The accounts server counts token calls.
    let refresh = z.cred(0, "refresh_token");
    let url = format!(
        "{}/oauth/v2/token?grant_type=refresh_token&client_id={}&client_secret={}&refresh_token={refresh}",
        z.accounts,
        z.cred(0, "client_id"),
        z.cred(0, "client_secret")
    );
    z.http.post(url).send().await.unwrap();
    let stats: Value = z
        .http
        .get(format!("{}/_sandbox/stats", z.accounts))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["POST /oauth/v2/token"], 1);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_zoho_shape() {
    let z = start(0).await;
    let t = z.token("A").await;
    let (s, e) = Zoho::send(z.get(&t, "Widgets?fields=Name")).await;
    assert_eq!((s, e["code"].as_str()), (400, Some("INVALID_MODULE")));
    let r = z
        .http
        .get(format!("{}/crm/v9/Accounts", z.crm))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "INVALID_URL_PATTERN"
    );
    let (s, e) = Zoho::send(z.call(Method::PATCH, &t, "Accounts")).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("INVALID_REQUEST_METHOD"))
    );
}
