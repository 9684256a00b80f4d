//! The HTTP contract of API.md against a real `hub serve`, on SQLite and PostgreSQL.

use crate::support;

use serde_json::json;
use support::{databases, TestHub};

fn each_engine(f: impl Fn(&TestHub)) {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()) {
        let hub = TestHub::start(&db, tempfile::tempdir().unwrap(), &[], &[]);
        f(&hub);
        hub.stop();
    }
}

#[test]
fn health_auth_and_openapi() {
    each_engine(|hub| {
        let c = reqwest::blocking::Client::new();
        let r = c.get(format!("{}/healthz", hub.url)).send().unwrap();
        assert_eq!(r.status(), 200);
        let r = c
            .get(format!("{}/api/connections", hub.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        let r = c
            .get(format!("{}/api/connections", hub.url))
            .bearer_auth("rkh_wrong")
            .send()
            .unwrap();
        assert_eq!(r.status(), 401);
        let metrics = c
            .get(format!("{}/metrics", hub.url))
            .send()
            .unwrap()
            .text()
            .unwrap();
        for family in [
            "renkei_queue_depth 0",
            "renkei_records_total{action=\"created\"} 0",
            "renkei_fire_lag_seconds_count 0",
            "renkei_token_refreshes_total",
        ] {
            assert!(
                metrics.contains(family),
                "{family} missing from /metrics:\n{metrics}"
            );
        }
        let (s, doc) = hub.get("/api/openapi.json");
        assert_eq!(s, 200);
        assert_eq!(doc["info"]["title"], "Renkei Hub API");
        assert!(doc["paths"]["/api/flows/{id}/run"]["post"].is_object());
        // Every documented route exists (not 404/405 from the router).
        for route in doc["paths"].as_object().unwrap().keys() {
            for (method, _) in doc["paths"][route].as_object().unwrap() {
                let path = route.replace("{id}", "does-not-exist");
                let (status, body) = hub.send(&method.to_uppercase(), &path, Some(&json!({})));
                assert!(status != 405, "{method} {route} not routed");
                if status == 404 {
                    assert_eq!(
                        body["error"]["code"], "not_found",
                        "{method} {route} answered a bare 404"
                    );
                }
            }
        }
    });
}

#[test]
fn inquiries_validate_and_persist() {
    each_engine(|hub| {
        let good = json!({"company": "株式会社サンプル", "name": "山田 太郎", "email": "taro@example.co.jp",
                          "registration_number": "1234-5678-9012", "connector_name": "kintone コネクタ"});
        let (s, body) = hub.post("/api/inquiries", &good);
        assert_eq!(s, 201, "{body}");
        assert!(body["id"].is_string());

        let mut long = good.clone();
        long["company"] = json!("株".repeat(101));
        let (s, body) = hub.post("/api/inquiries", &long);
        assert_eq!(s, 400);
        assert_eq!(body["error"]["field"], "company");
        assert!(body["error"]["message"].as_str().unwrap().contains("100"));

        let mut bad_email = good.clone();
        bad_email["email"] = json!("taro@");
        let (s, body) = hub.post("/api/inquiries", &bad_email);
        assert_eq!((s, body["error"]["field"].as_str()), (400, Some("email")));

        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("connector_name");
        let (s, body) = hub.post("/api/inquiries", &missing);
        assert_eq!(
            (s, body["error"]["field"].as_str()),
            (400, Some("connector_name")),
            "{body}"
        );

        let mut blank = good.clone();
        blank["name"] = json!("   ");
        let (s, body) = hub.post("/api/inquiries", &blank);
        assert_eq!((s, body["error"]["field"].as_str()), (400, Some("name")));

        let (s, script) = hub.post("/api/inquiries", &json!({"company": "<script>alert(1)</script>", "name": "a", "email": "a@b.jp", "registration_number": "1", "connector_name": "x"}));
        assert_eq!(s, 201, "{script}");

        // Bad input wrote nothing: exactly the two good ones are listed.
        let (s, list) = hub.get("/api/inquiries");
        assert_eq!(s, 200);
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1]["company"], "株式会社サンプル");
        assert_eq!(list[0]["company"], "<script>alert(1)</script>");
        assert!(list[0]["created_at"].as_str().unwrap().ends_with("+09:00"));
    });
}

#[test]
fn bad_json_and_unknown_things_are_named() {
    each_engine(|hub| {
        let c = reqwest::blocking::Client::new();
        let r = c
            .post(format!("{}/api/inquiries", hub.url))
            .bearer_auth(&hub.token)
            .body("{not json")
            .header("content-type", "application/json")
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = c
            .post(format!("{}/api/inquiries", hub.url))
            .bearer_auth(&hub.token)
            .body("company=x")
            .send()
            .unwrap();
        assert_eq!(r.status(), 400);

        let (s, body) = hub.post("/api/connections", &json!({"connector": "nope", "name": "x", "registration_number": "1234-5678", "phone": "03-1234-5678"}));
        assert_eq!(
            (s, body["error"]["field"].as_str()),
            (400, Some("connector")),
            "{body}"
        );

        let (s, body) = hub.post("/api/flows", &json!({"name": "f", "source": {"connection": "a", "object": "1"}, "target": {"connection": "b", "object": "2"}, "direction": "sideways"}));
        assert_eq!(
            (s, body["error"]["field"].as_str()),
            (400, Some("direction")),
            "{body}"
        );

        let (s, body) = hub.post("/api/flows", &json!({"name": "f", "source": {"connection": "a", "object": "1"}, "target": {"connection": "b", "object": "2"}}));
        assert_eq!(
            (s, body["error"]["field"].as_str()),
            (422, Some("source.connection")),
            "{body}"
        );

        let (s, body) = hub.get("/api/runs?limit=0");
        assert_eq!((s, body["error"]["field"].as_str()), (400, Some("limit")));
        let (s, body) = hub.get("/api/runs?status=weird");
        assert_eq!((s, body["error"]["field"].as_str()), (400, Some("status")));
        let (s, body) = hub.get("/api/runs");
        assert_eq!((s, body), (200, json!([])));
        let (s, body) = hub.get("/api/runs/nope");
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
        let (s, _) = hub.send("POST", "/api/flows/nope/run", None);
        assert_eq!(s, 404);
    });
}
