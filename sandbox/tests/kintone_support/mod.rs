//! Shared by the kintone tests: the kintone emulator alone on a loopback port, and a small
//! client that speaks its wire format.
#![allow(dead_code)]

use reqwest::{Client, Method, StatusCode};
use sandbox::{EmulatorContext, SandboxUrls};
use serde_json::{json, Value};
use std::path::PathBuf;
use tokio::net::TcpListener;

pub enum Auth<'a> {
    Token(&'a str),
    Login(&'a str, &'a str),
    None,
}

pub struct K {
    pub http: Client,
    pub base: String,
    pub credentials: Value,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for K {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start() -> K {
    start_with(None, 0).await
}

pub async fn start_with(data_dir: Option<PathBuf>, extra_records: usize) -> K {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let base = format!("http://localhost:{port}");
    let urls = SandboxUrls {
        kintone: base.clone(),
        zoho_accounts: String::new(),
        zoho_crm: String::new(),
        domino: String::new(),
        obc: String::new(),
    };
    let built = sandbox::kintone::build(&EmulatorContext {
        urls,
        data_dir,
        extra_records,
    });
    let router = built.service.router;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    K {
        http: Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        credentials: built.credentials,
        task,
    }
}

impl K {
    pub fn token(&self, app: usize) -> String {
        self.credentials["apps"][app - 1]["api_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn readonly_token(&self) -> String {
        self.credentials["apps"][0]["readonly_api_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn login(&self) -> (String, String) {
        let l = &self.credentials["login"];
        (
            l["username"].as_str().unwrap().to_string(),
            l["password"].as_str().unwrap().to_string(),
        )
    }

    pub fn req(&self, method: Method, path: &str, auth: Auth) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        match auth {
            Auth::Token(t) => rb.header("X-Cybozu-API-Token", t),
            Auth::Login(u, p) => {
                use base64::Engine;
                let v = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                rb.header("X-Cybozu-Authorization", v)
            }
            Auth::None => rb,
        }
    }

    /// One call with a token; JSON body for POST/PUT, a JSON body on GET/DELETE too when given.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.req(method, path, Auth::Token(token));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        send(rb).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    /// `GET records.json` of app 1 with a query, via a JSON body.
    pub async fn query(&self, app: u64, query: &str) -> (StatusCode, Value) {
        let t = self.token(app as usize);
        let body = json!({"app": app, "query": query, "totalCount": true});
        self.call(Method::GET, "/k/v1/records.json", &t, Some(body))
            .await
    }

    /// Record ids returned by a query that must succeed.
    pub async fn ids(&self, app: u64, query: &str) -> Vec<u64> {
        let (s, v) = self.query(app, query).await;
        assert_eq!(s, StatusCode::OK, "{query}: {v}");
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["$id"]["value"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    pub async fn record(&self, app: u64, id: u64) -> (StatusCode, Value) {
        self.get(
            &format!("/k/v1/record.json?app={app}&id={id}"),
            &self.token(app as usize),
        )
        .await
    }

    /// Records in an app, via the sandbox endpoint (not an API call).
    pub async fn count(&self, app: u64) -> u64 {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/kintone/apps/{app}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["records"].as_u64().unwrap()
    }
}

pub async fn send(rb: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = rb.send().await.unwrap();
    let s = r.status();
    let text = r.text().await.unwrap();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (s, v)
}

pub fn value<'a>(record: &'a Value, code: &str) -> &'a str {
    record[code]["value"].as_str().unwrap_or("")
}
