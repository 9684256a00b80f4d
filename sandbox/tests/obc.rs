//! The 奉行クラウド API emulator as a partner application sees it (reference/obc.md §2–4).

use reqwest::{Client, StatusCode};
use sandbox::{start, RunningSandbox, SandboxOptions};
use serde_json::{json, Value};

struct Obc {
    /// Keeps the emulators running for the test.
    _sb: RunningSandbox,
    http: Client,
    base: String,
    creds: Value,
}

const REDIRECT: &str = "http://localhost:9/callback";

impl Obc {
    async fn new() -> Obc {
        let sb = start(SandboxOptions::default())
            .await
            .expect("sandbox starts");
        let creds = sb.credentials["obc"].clone();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let base = sb.urls.obc.clone();
        Obc {
            _sb: sb,
            http,
            base,
            creds,
        }
    }

    fn s(&self, path: &[&str]) -> String {
        let mut v = &self.creds;
        for p in path {
            v = &v[*p];
        }
        v.as_str()
            .unwrap_or_else(|| panic!("credential {path:?}"))
            .to_string()
    }

    fn tenant(&self, i: usize) -> String {
        self.creds["tenants"][i]["id"].as_str().unwrap().to_string()
    }

    /// An API call with every header but the ones a test leaves out.
    fn call(
        &self,
        path: &str,
        token: &str,
        tenant: Option<&str>,
        body: Value,
    ) -> reqwest::RequestBuilder {
        let mut r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("X-OBC-SubscriptionKey", self.s(&["subscription_key"]))
            .bearer_auth(token)
            .json(&body);
        if let Some(t) = tenant {
            r = r.header("X-OBC-TenantID", t);
        }
        r
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> reqwest::Response {
        let id = self.s(&["client_id"]);
        let secret = self.s(&["client_secret"]);
        let mut f: Vec<(&str, &str)> = form.to_vec();
        f.extend([
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ]);
        self.http
            .post(format!("{}/oauth2/token", self.base))
            .header("X-OBC-SubscriptionKey", self.s(&["subscription_key"]))
            .form(&f)
            .send()
            .await
            .unwrap()
    }

    async fn export(&self, token: &str, body: Value) -> Value {
        let r = self
            .call("/sdmm/exportCustomer", token, Some(&self.tenant(0)), body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }
}

fn hidden_request_id(html: &str) -> String {
    let marker = "name=\"request_id\" value=\"";
    let start = html.find(marker).expect("request_id field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn login_consent_code_token_refresh_and_reuse_refused() {
    let o = Obc::new().await;
    let client_id = o.s(&["client_id"]);
    let r = o
        .http
        .get(o.s(&["authorize_url"]))
        .query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("state", "xyz-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("OBCiD") && html.contains("パスワード"));
    let rid = hidden_request_id(&html);

    let login = |password: String| {
        let rid = rid.clone();
        let id = o.s(&["obcid", "id"]);
        let url = format!("{}/oauth2/login", o.base);
        let http = o.http.clone();
        async move {
            http.post(url)
                .form(&[
                    ("request_id", rid.as_str()),
                    ("obcid", id.as_str()),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let refused = login("wrong".into()).await;
    assert!(refused.contains("正しくありません") && !refused.contains("許可する"));
    let consent = login(o.s(&["obcid", "password"])).await;
    assert!(consent.contains("許可する"));

    let r = o
        .http
        .post(format!("{}/oauth2/consent", o.base))
        .form(&[
            ("request_id", hidden_request_id(&consent).as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    assert!(loc.as_str().starts_with(REDIRECT));
    let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz-1");
    let code = q["code"].clone();

    let r = o
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh1 = t["refresh_token"].as_str().unwrap().to_string();

    // The code is single-use.
    let r = o
        .token_request(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let tenants: Value = o
        .call("/mg/SearchTenant", &access, None, json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["OBC商事株式会社", "サンプル工業株式会社"]);

    let r = o
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let t2: Value = r.json().await.unwrap();
    let refresh2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(refresh2, refresh1);

    let r = o
        .token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh1),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "invalid_grant");

    // Expired access tokens are refused until refreshed with the current refresh token.
    o.http
        .post(format!("{}/_sandbox/obc/expire-tokens", o.base))
        .send()
        .await
        .unwrap();
    let new_access = t2["access_token"].as_str().unwrap();
    let r = o
        .call("/mg/SearchTenant", new_access, None, json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = o
        .token_request(&[("grant_type", "refresh_token"), ("refresh_token", refresh2)])
        .await;
    let t3: Value = r.json().await.unwrap();
    let r = o
        .call(
            "/mg/SearchTenant",
            t3["access_token"].as_str().unwrap(),
            None,
            json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // The token API takes RFC 6749 form fields alone (an OAuth client sends no subscription
    // key), but a wrong key is still refused.
    let form = |refresh: &str| {
        vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".to_string(), refresh.to_string()),
            ("client_id".to_string(), o.s(&["client_id"])),
            ("client_secret".to_string(), o.s(&["client_secret"])),
        ]
    };
    let refresh3 = t3["refresh_token"].as_str().unwrap();
    let r = o
        .http
        .post(format!("{}/oauth2/token", o.base))
        .header("X-OBC-SubscriptionKey", "00000000000000000000000000000000")
        .form(&form(refresh3))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = o
        .http
        .post(format!("{}/oauth2/token", o.base))
        .form(&form(refresh3))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn subscription_key_token_and_tenant_are_checked() {
    let o = Obc::new().await;
    let fixed = o.s(&["fixed_access_token"]);
    let t0 = o.tenant(0);
    let url = format!("{}/sdmm/exportCustomer", o.base);

    let r = o
        .http
        .post(&url)
        .bearer_auth(&fixed)
        .header("X-OBC-TenantID", &t0)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 401);
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("missing subscription key"));

    let r = o
        .http
        .post(&url)
        .header("X-OBC-SubscriptionKey", "00000000000000000000000000000000")
        .bearer_auth(&fixed)
        .header("X-OBC-TenantID", &t0)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = o
        .call("/sdmm/exportCustomer", "not-a-token", Some(&t0), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let r = o
        .call("/sdmm/exportCustomer", &fixed, None, json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for other in ["no-such-tenant", sandbox::obc::seed::TENANT_OTHER] {
        let r = o
            .call("/sdmm/exportCustomer", &fixed, Some(other), json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{other}");
    }
    // The fixed token outlives expire-tokens.
    o.http
        .post(format!("{}/_sandbox/obc/expire-tokens", o.base))
        .send()
        .await
        .unwrap();
    let r = o
        .call("/sdmm/exportCustomer", &fixed, Some(&t0), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn export_pages_through_customers_by_code() {
    let o = Obc::new().await;
    let token = o.s(&["fixed_access_token"]);
    let p1 = o
        .export(&token, json!({"conditions": {}, "page": 1, "pageSize": 20}))
        .await;
    assert_eq!(p1["totalCount"], 48, "two of the 50 are deleted");
    assert_eq!(p1["hasNext"], true);
    assert_eq!(p1["items"].as_array().unwrap().len(), 20);
    assert_eq!(p1["items"][0]["code"], "000001");
    assert_eq!(p1["items"][0]["name"], "株式会社サンプル");
    let p3 = o.export(&token, json!({"page": 3, "pageSize": 20})).await;
    assert_eq!(p3["items"].as_array().unwrap().len(), 8);
    assert_eq!(p3["hasNext"], false);
    let all = o
        .export(
            &token,
            json!({"conditions": {"includeDeleted": true}, "pageSize": 100}),
        )
        .await;
    assert_eq!(all["totalCount"], 50);
    let names: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    for form in [
        "(株)",
        "㈱",
        "（株）",
        "有限会社",
        "合同会社",
        "株式会社 ",
        "ＡＢＣ",
        "ﾐﾄﾞﾘ",
    ] {
        assert!(names.iter().any(|n| n.contains(form)), "{form}");
    }
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["nameKana"] == "ｵｵﾀﾃｯｺｳ"));
    let range = o
        .export(
            &token,
            json!({"conditions": {"codeFrom": "000010", "codeTo": "000012"}}),
        )
        .await;
    assert_eq!(range["totalCount"], 3);

    for bad in [
        json!({"pageSize": 0}),
        json!({"page": 0}),
        json!({"conditions": {"colour": "red"}}),
    ] {
        let r = o
            .call(
                "/sdmm/exportCustomer",
                &token,
                Some(&o.tenant(0)),
                bad.clone(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let r = o
        .call("/hr/exportEmployee", &token, Some(&o.tenant(0)), json!({}))
        .send()
        .await
        .unwrap();
    let emp: Value = r.json().await.unwrap();
    assert_eq!(emp["totalCount"], 20);
    assert_eq!(emp["items"][0]["code"], "00001");
}

#[tokio::test]
async fn import_reports_each_row() {
    let o = Obc::new().await;
    let token = o.s(&["fixed_access_token"]);
    let t0 = o.tenant(0);
    let body = json!({"mode": "insert", "items": [
        {"code": "000901", "name": "㈱新規取引", "nameKana": "シンキトリヒキ", "closingDay": 31},
        {"code": "000001", "name": "株式会社サンプル"},
        {"code": 902, "name": "数値コード"},
        {"code": "000903", "name": "かな違反", "nameKana": "かなです"},
    ]});
    let r = o
        .call("/sdmm/importCustomer", &token, Some(&t0), body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let res: Value = r.json().await.unwrap();
    let statuses: Vec<&str> = res["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["success", "error", "error", "error"]);
    assert_eq!(res["successCount"], 1);
    assert_eq!(res["results"][1]["index"], 1);
    assert!(res["results"][1]["messages"][0]
        .as_str()
        .unwrap()
        .contains("既に登録"));
    assert!(res["results"][3]["messages"][0]
        .as_str()
        .unwrap()
        .contains("nameKana"));

    let got = o
        .export(&token, json!({"conditions": {"code": "000901"}}))
        .await;
    assert_eq!(got["items"][0]["name"], "㈱新規取引");

    let body = json!({"mode": "update", "items": [{"code": "000901", "tel": "03-0000-1111"}, {"code": "000999", "name": "無い"}]});
    let res: Value = o
        .call("/sdmm/importCustomer", &token, Some(&t0), body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["results"][0]["status"], "success");
    assert_eq!(res["results"][1]["status"], "error");
    let got = o
        .export(&token, json!({"conditions": {"code": "000901"}}))
        .await;
    assert_eq!(got["items"][0]["tel"], "03-0000-1111");
    assert_eq!(
        got["items"][0]["name"], "㈱新規取引",
        "update keeps fields not sent"
    );

    let body = json!({"mode": "upsert", "items": [{"code": "00777", "name": "新入 社員", "departmentCode": "999"}]});
    let res: Value = o
        .call("/hr/importEmployee", &token, Some(&t0), body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["results"][0]["status"], "error");
    let r = o
        .call(
            "/sdmm/importCustomer",
            &token,
            Some(&t0),
            json!({"mode": "merge", "items": []}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_tenant() {
    let o = Obc::new().await;
    let token = o.s(&["fixed_access_token"]);
    let limit = format!("{}/_sandbox/obc/rate-limit", o.base);
    o.http
        .put(&limit)
        .json(&json!({"per_minute": 60, "burst": 3}))
        .send()
        .await
        .unwrap();
    let (t0, t1) = (o.tenant(0), o.tenant(1));
    for _ in 0..3 {
        let r = o
            .call("/sdmm/exportCustomer", &token, Some(&t0), json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let r = o
        .call("/sdmm/exportCustomer", &token, Some(&t0), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["statusCode"], 429);
    let r = o
        .call("/sdmm/exportCustomer", &token, Some(&t1), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "another tenant has its own bucket"
    );

    o.http
        .put(&limit)
        .json(&json!({"per_minute": null}))
        .send()
        .await
        .unwrap();
    let r = o
        .call("/sdmm/exportCustomer", &token, Some(&t0), json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let stats: Value = o
        .http
        .get(format!("{}/_sandbox/stats", o.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["POST /sdmm/exportCustomer"], 6);
}

#[tokio::test]
async fn extra_records_add_generated_customers() {
    let sb = start(SandboxOptions {
        extra_records: 250,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = &sb.credentials["obc"];
    let r = Client::new()
        .post(format!("{}/sdmm/exportCustomer", sb.urls.obc))
        .header(
            "X-OBC-SubscriptionKey",
            c["subscription_key"].as_str().unwrap(),
        )
        .header("X-OBC-TenantID", c["tenants"][0]["id"].as_str().unwrap())
        .bearer_auth(c["fixed_access_token"].as_str().unwrap())
        .json(&json!({"page": 3, "pageSize": 100}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["totalCount"], 48 + 250);
    assert_eq!(body["items"].as_array().unwrap().len(), 98);
    assert_eq!(body["hasNext"], false);
}
