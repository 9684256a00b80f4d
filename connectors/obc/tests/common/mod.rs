//! The sandbox's 奉行クラウド emulator started in-process, and connections to it built as the hub
//! would hand them to the connector: the base URL, the subscription key and an access token
//! (an OAuth one minted as if the OBCiD had consented, or the fixed one of 管理ポータル).

#![allow(dead_code)]

use connector_sdk::{
    Connection, Connector, ReadPage, ReadRequest, Record, Secret, WriteAction, WriteOp,
    WriteRequest, WriteResult,
};
use serde_json::{json, Value};

pub struct Emulator {
    rt: tokio::runtime::Runtime,
    running: Option<sandbox::RunningSandbox>,
    pub announcement: Value,
    pub http: reqwest::blocking::Client,
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

    pub fn base(&self) -> String {
        self.announcement["obc"].as_str().unwrap().to_string()
    }

    pub fn cred(&self, key: &str) -> String {
        self.announcement["credentials"]["obc"][key]
            .as_str()
            .unwrap_or_else(|| panic!("credentials.obc.{key} not announced"))
            .to_string()
    }

    pub fn tenant(&self, i: usize) -> Value {
        self.announcement["credentials"]["obc"]["tenants"][i].clone()
    }

    /// The token answer of `/oauth2/token`, as after the OBCiD consent.
    pub fn mint(&self) -> Value {
        self.http
            .post(format!("{}/_sandbox/obc/tokens", self.base()))
            .json(&json!({}))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }

    /// A connection as the hub passes it after the consent: `access_token` from the OAuth flow.
    pub fn connection(&self) -> Connection {
        let token = self.mint()["access_token"].as_str().unwrap().to_string();
        self.connection_with(&[("access_token", &token)])
    }

    /// The base URL and the subscription key plus the given credentials.
    pub fn connection_with(&self, creds: &[(&str, &str)]) -> Connection {
        let mut conn = Connection {
            settings: json!({"base_url": self.base()})
                .as_object()
                .cloned()
                .unwrap(),
            credentials: Default::default(),
        };
        for k in ["client_id", "client_secret", "subscription_key"] {
            conn.credentials.insert(k.into(), Secret::new(self.cred(k)));
        }
        for (k, v) in creds {
            conn.credentials.insert((*k).into(), Secret::new(*v));
        }
        conn
    }

    pub fn expire_tokens(&self) {
        let r = self
            .http
            .post(format!("{}/_sandbox/obc/expire-tokens", self.base()))
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }

    /// `None` lifts the limit; `Some((per_minute, burst))` sets it (buckets start full).
    pub fn rate_limit(&self, limit: Option<(u32, u32)>) {
        let body = match limit {
            Some((m, b)) => json!({"per_minute": m, "burst": b}),
            None => json!({"per_minute": null, "burst": null}),
        };
        let r = self
            .http
            .put(format!("{}/_sandbox/obc/rate-limit", self.base()))
            .json(&body)
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }

    /// The next `n` API calls fail with `kind` (`too_many`, `server_error`…).
    pub fn fail_next(&self, n: u64, kind: &str) {
        let r = self
            .http
            .put(format!("{}/_sandbox/faults", self.base()))
            .json(&json!({"fail_next": n, "kinds": [kind], "retry_after_s": 4}))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap_or_default());
    }

    /// A raw API call with the fixed token, as another user of 奉行 editing data would.
    pub fn api(&self, path: &str, tenant: usize, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("X-OBC-SubscriptionKey", self.cred("subscription_key"))
            .bearer_auth(self.cred("fixed_access_token"))
            .header(
                "X-OBC-TenantID",
                self.tenant(tenant)["id"].as_str().unwrap(),
            )
            .json(&body)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().unwrap()
    }

    /// The stored customer of this code (deleted ones included), from the main tenant.
    pub fn customer(&self, code: &str) -> Option<Value> {
        let v = self.api(
            "/sdmm/exportCustomer",
            0,
            json!({"conditions": {"code": code, "includeDeleted": true}}),
        );
        v["items"].as_array().and_then(|a| a.first()).cloned()
    }

    pub fn requests(&self, route: &str) -> u64 {
        let stats: Value = self
            .http
            .get(format!("{}/_sandbox/stats", self.base()))
            .send()
            .unwrap()
            .json()
            .unwrap();
        stats["requests"][route].as_u64().unwrap_or(0)
    }

    pub fn reset_stats(&self) {
        self.http
            .post(format!("{}/_sandbox/stats/reset", self.base()))
            .send()
            .unwrap();
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

pub fn read_page(
    c: &dyn Connector,
    conn: &Connection,
    object: &str,
    cursor: Option<String>,
    size: u32,
) -> ReadPage {
    c.read(
        conn,
        &ReadRequest {
            options: Default::default(),
            object: object.into(),
            cursor,
            since: None,
            page_size: Some(size),
            fields: None,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("read {object}: {e}"))
}

/// Reads pages from `cursor` until `has_more` is false: (records, last cursor, pages).
pub fn read_all(
    c: &dyn Connector,
    conn: &Connection,
    object: &str,
    cursor: Option<String>,
    size: u32,
) -> (Vec<Record>, Option<String>, usize) {
    let mut cursor = cursor;
    let mut records = Vec::new();
    for pages in 1..=1000 {
        let page = read_page(c, conn, object, cursor.clone(), size);
        assert!(page.records.len() <= size as usize);
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
