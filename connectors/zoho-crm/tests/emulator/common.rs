//! The Zoho emulator of `sandbox`, started in-process, and connections to its two orgs built
//! the way a script would: the announced OAuth client and refresh token exchanged for an
//! access token at the accounts server's token endpoint.

use connector_sdk::{
    Connection, Connector, ReadRequest, Record, Secret, WriteAction, WriteOp, WriteRequest,
    WriteResult,
};
use serde_json::{json, Value};

pub struct Emulator {
    rt: tokio::runtime::Runtime,
    running: Option<sandbox::RunningSandbox>,
    pub announcement: Value,
    http: reqwest::blocking::Client,
}

impl Emulator {
    pub fn start() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let running = rt
            .block_on(sandbox::start(Default::default()))
            .expect("sandbox starts");
        let announcement = running.announcement();
        Emulator {
            rt,
            running: Some(running),
            announcement,
            http: reqwest::blocking::Client::new(),
        }
    }

    pub fn crm(&self) -> String {
        self.announcement["zoho_crm"].as_str().unwrap().to_string()
    }

    pub fn accounts(&self) -> String {
        self.announcement["zoho_accounts"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The announced credentials of org "A" or "B".
    pub fn org(&self, key: &str) -> Value {
        self.announcement["credentials"]["zoho"]["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["org"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("org {key} not announced"))
    }

    /// A fresh access token for org A or B from its announced refresh token.
    pub fn access_token(&self, key: &str) -> String {
        let org = self.org(key);
        let resp: Value = self
            .http
            .post(format!("{}/oauth/v2/token", self.accounts()))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", org["client_id"].as_str().unwrap()),
                ("client_secret", org["client_secret"].as_str().unwrap()),
                ("refresh_token", org["refresh_token"].as_str().unwrap()),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        resp["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token: {resp}"))
            .to_string()
    }

    /// A connection to org A or B as the hub would hand it to the connector.
    pub fn connection(&self, key: &str) -> Connection {
        let org = self.org(key);
        let settings = json!({
            "data_centre": "https://accounts.zoho.jp",
            "accounts_url": self.accounts(),
            "api_domain": self.crm(),
        });
        let mut conn = Connection {
            settings: settings.as_object().cloned().unwrap(),
            credentials: Default::default(),
        };
        for k in ["client_id", "client_secret"] {
            conn.credentials
                .insert(k.into(), Secret::new(org[k].as_str().unwrap()));
        }
        conn.credentials
            .insert("access_token".into(), Secret::new(self.access_token(key)));
        conn
    }

    pub fn expire_tokens(&self) {
        let r = self
            .http
            .post(format!("{}/_sandbox/zoho/expire-tokens", self.crm()))
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }

    pub fn reset_stats(&self) {
        let r = self
            .http
            .post(format!("{}/_sandbox/stats/reset", self.crm()))
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Requests the CRM server counted for `METHOD /route/template` since the last reset.
    pub fn requests(&self, route: &str) -> u64 {
        let stats: Value = self
            .http
            .get(format!("{}/_sandbox/stats", self.crm()))
            .send()
            .unwrap()
            .json()
            .unwrap();
        stats["requests"][route].as_u64().unwrap_or(0)
    }

    /// The next `n` CRM API requests fail with 429 and `Retry-After: secs`.
    pub fn fail_next_with_429(&self, n: u64, secs: u64) {
        let r = self
            .http
            .put(format!("{}/_sandbox/faults", self.crm()))
            .json(&json!({"fail_next": n, "kinds": ["too_many"], "retry_after_s": secs}))
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Inserts records straight into org A or B (not counted as API calls).
    pub fn insert_raw(&self, org: &str, module: &str, records: &[Value]) {
        let r: Value = self
            .http
            .post(format!(
                "{}/_sandbox/zoho/orgs/{org}/modules/{module}/records",
                self.crm()
            ))
            .json(&json!({ "data": records }))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(r["failed"], 0, "raw insert failed: {r}");
    }

    /// Every record of a module of org A or B, with all fields.
    pub fn raw(&self, org: &str, module: &str) -> Vec<Value> {
        let r: Value = self
            .http
            .get(format!(
                "{}/_sandbox/zoho/orgs/{org}/modules/{module}/records",
                self.crm()
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        r["data"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _guard = self.rt.enter();
            r.shutdown();
        }
    }
}

/// Reads pages from `cursor` until `has_more` is false: (records, last cursor, pages).
pub fn read_all(
    c: &dyn Connector,
    conn: &Connection,
    object: &str,
    cursor: Option<String>,
) -> (Vec<Record>, Option<String>, usize) {
    let mut cursor = cursor;
    let mut records = Vec::new();
    for pages in 1..=1000 {
        let page = c
            .read(
                conn,
                &ReadRequest {
                    options: Default::default(),
                    object: object.into(),
                    cursor: cursor.clone(),
                    since: None,
                    page_size: Some(200),
                    fields: None,
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("read page {pages}: {e}"));
        assert!(page.records.len() <= 200);
        records.extend(page.records);
        cursor = page.next_cursor;
        if !page.has_more {
            return (records, cursor, pages);
        }
    }
    panic!("the read never ended");
}

pub fn op(op_id: &str, action: WriteAction, fields: Value) -> WriteOp {
    WriteOp {
        op_id: op_id.into(),
        action,
        id: None,
        match_key: None,
        expected_version: None,
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

pub fn write(
    c: &dyn Connector,
    conn: &Connection,
    object: &str,
    ops: Vec<WriteOp>,
) -> Vec<WriteResult> {
    c.write(
        conn,
        &WriteRequest {
            object: object.into(),
            ops,
        },
    )
    .unwrap_or_else(|e| panic!("write: {e}"))
}
