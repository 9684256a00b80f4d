//! Starts only the Zoho emulator (accounts + CRM) on loopback for a test, and small helpers.
//! Each test file uses a subset of them.
#![allow(dead_code)]

use reqwest::{Client, RequestBuilder};
use sandbox::{EmulatorContext, SandboxUrls};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub struct Zoho {
    pub accounts: String,
    pub crm: String,
    pub creds: Value,
    /// Does not follow redirects, so tests see each step of the OAuth flow.
    pub http: Client,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Zoho {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", l.local_addr().unwrap().port());
    (l, url)
}

pub async fn start(extra_records: usize) -> Zoho {
    start_in(extra_records, None).await
}

/// With `data_dir`, the emulator keeps its data in `zoho.json` there.
pub async fn start_in(extra_records: usize, data_dir: Option<std::path::PathBuf>) -> Zoho {
    let (la, accounts) = listener().await;
    let (lc, crm) = listener().await;
    let ctx = EmulatorContext {
        urls: SandboxUrls {
            kintone: String::new(),
            zoho_accounts: accounts.clone(),
            zoho_crm: crm.clone(),
            domino: String::new(),
            obc: String::new(),
        },
        data_dir,
        extra_records,
    };
    let built = sandbox::zoho::build(&ctx);
    let a = built.accounts.router;
    let c = built.crm.router;
    let tasks = vec![
        tokio::spawn(async move {
            let _ = axum::serve(la, a).await;
        }),
        tokio::spawn(async move {
            let _ = axum::serve(lc, c).await;
        }),
    ];
    Zoho {
        accounts,
        crm,
        creds: built.credentials,
        http: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        tasks,
    }
}

impl Zoho {
    /// Org "A" is index 0, "B" index 1.
    pub fn org(&self, i: usize) -> &Value {
        &self.creds["orgs"][i]
    }

    pub fn cred(&self, i: usize, key: &str) -> String {
        self.org(i)[key].as_str().unwrap().to_string()
    }

    /// A token pair without the browser.
    pub async fn token_with_scope(&self, org: &str, scope: Option<&str>) -> Value {
        let mut body = json!({"org": org});
        if let Some(s) = scope {
            body["scope"] = json!(s);
        }
        let r = self
            .http
            .post(format!("{}/_sandbox/zoho/tokens", self.accounts))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn token(&self, org: &str) -> String {
        self.token_with_scope(org, None).await["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn call(&self, method: reqwest::Method, token: &str, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/crm/v8/{path}", self.crm))
            .header("Authorization", format!("Zoho-oauthtoken {token}"))
    }

    pub fn get(&self, token: &str, path: &str) -> RequestBuilder {
        self.call(reqwest::Method::GET, token, path)
    }

    /// Sends and returns status and JSON body (Null when the body is empty).
    pub async fn send(rb: RequestBuilder) -> (u16, Value) {
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }
}
