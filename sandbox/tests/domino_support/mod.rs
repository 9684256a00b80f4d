//! Shared by the Domino emulator tests: a DAS client for the seeded mail file.
#![allow(dead_code)]

use reqwest::{Client, Response, StatusCode};
use sandbox::{start, RunningSandbox, SandboxOptions};
use serde_json::Value;

pub struct Das {
    pub sb: RunningSandbox,
    pub http: Client,
    pub base: String,
    pub user: String,
    pub password: String,
}

impl Das {
    pub async fn new() -> Das {
        let sb = start(SandboxOptions::default())
            .await
            .expect("sandbox starts");
        let c = &sb.credentials["domino"];
        let base = format!(
            "{}/{}",
            c["server"].as_str().unwrap(),
            c["database"].as_str().unwrap()
        );
        let user = c["username"].as_str().unwrap().to_string();
        let password = c["password"].as_str().unwrap().to_string();
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Das {
            sb,
            http,
            base,
            user,
            password,
        }
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
    }

    pub fn send(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.password))
    }

    pub fn control(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.sb.urls.domino))
    }

    pub async fn entries(&self, view: &str, query: &str) -> (Option<String>, Vec<Value>) {
        let r = self
            .get(&format!("/api/data/collections/name/{view}?{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let cr = content_range(&r);
        (cr, r.json().await.unwrap())
    }

    /// UNID of the contact whose LastName is `last`.
    pub async fn contact(&self, last: &str) -> Option<String> {
        let (_, list) = self.entries("($Contacts)", "count=100").await;
        list.iter()
            .find(|e| e["LastName"] == last)
            .map(|e| e["@unid"].as_str().unwrap().to_string())
    }
}

pub fn content_range(r: &Response) -> Option<String> {
    r.headers()
        .get("content-range")
        .map(|v| v.to_str().unwrap().to_string())
}
