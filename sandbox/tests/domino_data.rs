//! The Data service of the Domino emulator as a DAS client sees it (reference/domino.md §2, §7).

mod domino_support;

use domino_support::{content_range, Das};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn view_entries_page_with_exact_content_range() {
    let d = Das::new().await;
    // 12 public contacts + 1 private + 1 readable Readers-restricted one; one is hidden by Readers.
    let (cr, page) = d.entries("($Contacts)", "").await;
    assert_eq!(cr.as_deref(), Some("items 0-9/14"));
    assert_eq!(page.len(), 10);
    let first = &page[0];
    assert_eq!(first["@unid"].as_str().map(str::len), Some(32));
    assert_eq!(first["@form"], "Person");
    assert_eq!(first["@position"], "1");

    let (cr, page) = d.entries("($Contacts)", "start=10&count=10").await;
    assert_eq!(cr.as_deref(), Some("items 10-13/14"));
    assert_eq!(page.len(), 4);
    let (cr, page) = d.entries("($Contacts)", "ps=5&page=2").await;
    assert_eq!(cr.as_deref(), Some("items 10-13/14"));
    assert_eq!(page.len(), 4);
    let (cr, page) = d.entries("($Contacts)", "start=14").await;
    assert_eq!(cr, None);
    assert!(page.is_empty());

    let r = d
        .get("/api/data/collections/name/($Contacts)?start=3&count=2")
        .header("Range", "items=0-24")
        .send()
        .await
        .unwrap();
    assert_eq!(content_range(&r).as_deref(), Some("items 0-13/14"));

    let (cr, _) = d.entries("($Contacts)", "count=2&entrycount=false").await;
    assert_eq!(cr, None);
    let (_, page) = d.entries("($Contacts)", "count=1&systemcolumns=0x2").await;
    let keys: Vec<&String> = page[0]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.starts_with('@'))
        .collect();
    assert_eq!(keys, ["@unid"]);

    let (_, asc) = d
        .entries("($Contacts)", "count=100&sortcolumn=MailAddress")
        .await;
    let (_, desc) = d
        .entries(
            "($Contacts)",
            "count=100&sortcolumn=MailAddress&sortorder=descending",
        )
        .await;
    assert_eq!(
        asc.first().map(|e| &e["MailAddress"]),
        desc.last().map(|e| &e["MailAddress"])
    );
}

#[tokio::test]
async fn more_than_100_entries_is_refused_with_das_text() {
    let d = Das::new().await;
    let r = d
        .get("/api/data/collections/name/($ToDo)?count=101")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"code": 400, "text": "Bad Request",
               "message": "Limit exceeded.  Cannot read more than 100 entries."})
    );
    let r = d
        .get("/api/data/collections/name/NoSuchView")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "The URI must refer to an existing view.");
}

#[tokio::test]
async fn stale_if_unmodified_since_gets_412_and_put_removes_unsent_items() {
    let d = Das::new().await;
    let unid = d.contact("山田").await.expect("seeded contact");
    let path = format!("/api/data/documents/unid/{unid}");
    let r = d.get(&path).send().await.unwrap();
    let last_modified = r.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["CompanyName"], "株式会社サンプル");
    assert!(doc["@modified"].as_str().unwrap().ends_with('Z'));
    assert!(
        doc.get("$PublicAccess").is_none(),
        "$ items need hidden=true"
    );

    let r = d
        .get(&path)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);

    // PATCH with the current date succeeds and writes only what was sent.
    let r = d
        .send(reqwest::Method::PATCH, &path)
        .header("If-Unmodified-Since", &last_modified)
        .json(&json!({"JobTitle": "営業本部長", "@unid": "ignored", "Form": "Memo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = d.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["JobTitle"], "営業本部長");
    assert_eq!(doc["FirstName"], "太郎");
    assert_eq!(doc["Form"], "Person");

    // The same, now stale, date: 412 with no body.
    let r = d
        .send(reqwest::Method::PUT, &path)
        .header("If-Unmodified-Since", &last_modified)
        .json(&json!({"LastName": "山田"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert!(r.bytes().await.unwrap().is_empty());

    // PUT keeps only the items sent, plus Form and $ items.
    let r = d
        .send(reqwest::Method::PUT, &path)
        .json(&json!({"LastName": "山田", "FirstName": "太郎"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = d
        .get(&format!("{path}?hidden=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["LastName"], "山田");
    assert!(doc.get("CompanyName").is_none() && doc.get("JobTitle").is_none());
    assert_eq!(doc["Form"], "Person");
    assert_eq!(doc["$PublicAccess"], "1");
}

#[tokio::test]
async fn documents_are_created_with_location_and_listed_since() {
    let d = Das::new().await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(2);
    let r = d
        .send(reqwest::Method::POST, "/api/data/documents?form=Task&computewithform=true")
        .json(&json!({"Subject": "㈱サンプル 訪問準備", "DueDateTime": {"type": "datetime", "data": "2030-01-02T03:00:00Z"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(r.bytes().await.unwrap().is_empty());
    let unid = loc.rsplit('/').next().unwrap().to_string();
    assert!(
        unid.len() == 32
            && unid
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    let doc: Value = d
        .http
        .get(&loc)
        .basic_auth(&d.user, Some(&d.password))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["@form"], "Task");
    assert_eq!(doc["DueDateTime"], "2030-01-02T03:00:00Z");

    let since = before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let list: Vec<Value> = d
        .get(&format!("/api/data/documents?since={since}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["@unid"], unid.as_str());

    // computewithform refuses a to-do without its required item.
    let r = d
        .send(
            reqwest::Method::POST,
            "/api/data/documents?form=Task&computewithform=true",
        )
        .json(&json!({"Body": "件名なし"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // X-HTTP-Method-Override turns a POST into a DELETE.
    let r = d
        .send(
            reqwest::Method::POST,
            &format!("/api/data/documents/unid/{unid}"),
        )
        .header("X-HTTP-Method-Override", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = d
        .get(&format!("/api/data/documents/unid/{unid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn private_seeds_carry_their_markers() {
    let d = Das::new().await;
    let kato = d
        .contact("加藤")
        .await
        .expect("private contact listed for its owner");
    let doc: Value = d
        .get(&format!("/api/data/documents/unid/{kato}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["OrgConfidential"], "1");
    let yamamoto = d.contact("山本").await.expect("readers-restricted contact");
    let doc: Value = d
        .get(&format!("/api/data/documents/unid/{yamamoto}?hidden=true"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["$Readers"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(d.contact("松本").await, None, "readers exclude the owner");

    let (_, todos) = d.entries("($ToDo)", "count=100").await;
    let mut private_todo = false;
    for t in &todos {
        let unid = t["@unid"].as_str().unwrap();
        let doc: Value = d
            .get(&format!("/api/data/documents/unid/{unid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        private_todo |= doc["OrgConfidential"] == "1";
    }
    assert!(private_todo);

    let since = (chrono::Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%dT%H:%M:%SZ");
    let body: Value = d
        .get(&format!("/api/calendar/events?since={since}&count=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let classes: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["class"].as_str())
        .collect();
    assert!(
        classes.contains(&"private")
            && classes.contains(&"confidential")
            && classes.contains(&"public")
    );
}
