//! A fresh sandbox per test (its counters are then the test's own), a `Connection` to one of
//! its seeded apps built from the announcement, and the emulator's control endpoints.
#![allow(dead_code)]

use connector_sdk::Connector;
use connector_sdk::{Connection, Fields, ReadPage, ReadRequest, Record, Secret, WriteOp};
use renkei_connector_kintone::Kintone;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub struct Env {
    // Field order: the sandbox stops before its runtime is dropped.
    sandbox: Option<sandbox::RunningSandbox>,
    rt: tokio::runtime::Runtime,
    pub announcement: Value,
    pub base: String,
    http: reqwest::blocking::Client,
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            let _g = self.rt.enter();
            sb.shutdown();
        }
    }
}

impl Env {
    pub fn start() -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sb = rt
            .block_on(sandbox::start(Default::default()))
            .expect("sandbox starts");
        let announcement = sb.announcement();
        let base = announcement["kintone"]
            .as_str()
            .expect("kintone url")
            .to_string();
        Env {
            sandbox: Some(sb),
            rt,
            announcement,
            base,
            http: reqwest::blocking::Client::new(),
        }
    }

    /// The announced app at `index` (0 顧客管理, 1 活動履歴, 2 問い合わせ管理 in a guest space).
    pub fn app(&self, index: usize) -> &Value {
        &self.announcement["credentials"]["kintone"]["apps"][index]
    }

    /// A connection to the app at `index` with its API token.
    pub fn conn(&self, index: usize) -> Connection {
        let app = self.app(index);
        let mut settings = Map::new();
        settings.insert("base_url".into(), json!(self.base));
        settings.insert("apps".into(), app["id"].clone());
        if let Some(g) = app["guest_space_id"].as_str() {
            settings.insert("guest_space_id".into(), json!(g));
        }
        let mut credentials = BTreeMap::new();
        credentials.insert(
            "api_token".to_string(),
            Secret::new(app["api_token"].as_str().expect("token")),
        );
        Connection {
            settings,
            credentials,
        }
    }

    /// Requests per `METHOD /route` since the last reset.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/stats", self.base))
            .send()
            .and_then(|r| r.json())
            .expect("stats");
        serde_json::from_value(v["requests"].clone()).expect("requests map")
    }

    pub fn calls(&self, key: &str) -> u64 {
        self.stats().get(key).copied().unwrap_or(0)
    }

    pub fn total_calls(&self) -> u64 {
        self.stats().values().sum()
    }

    pub fn reset_stats(&self) {
        self.http
            .post(format!("{}/_sandbox/stats/reset", self.base))
            .send()
            .expect("reset stats");
    }

    pub fn faults(&self, f: Value) {
        let r = self
            .http
            .put(format!("{}/_sandbox/faults", self.base))
            .json(&f)
            .send()
            .expect("faults");
        assert!(r.status().is_success(), "set faults: {}", r.status());
    }

    /// Adds `n` generated customers to 顧客管理.
    pub fn generate_customers(&self, n: usize) {
        let r = self
            .http
            .post(format!("{}/_sandbox/kintone/apps/1/records", self.base))
            .json(&json!({ "generate": n }))
            .send()
            .expect("seed");
        assert!(r.status().is_success(), "generate: {}", r.status());
    }

    pub fn advance_clock(&self, secs: i64) {
        self.http
            .post(format!("{}/_sandbox/kintone/clock", self.base))
            .json(&json!({ "advance_seconds": secs }))
            .send()
            .expect("clock");
    }

    pub fn live_cursors(&self) -> u64 {
        let v: Value = self
            .http
            .get(format!("{}/_sandbox/kintone/cursors", self.base))
            .send()
            .and_then(|r| r.json())
            .expect("cursors");
        v["live"].as_u64().expect("live count")
    }
}

/// Reads `object` to the end from `cursor`; answers the records and the final cursor.
pub fn read_all(
    k: &Kintone,
    conn: &Connection,
    object: &str,
    cursor: Option<String>,
    since: Option<String>,
    page: u32,
) -> (Vec<Record>, Option<String>, usize) {
    let mut cursor = cursor;
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let p: ReadPage = k
            .read(
                conn,
                &ReadRequest {
                    options: Default::default(),
                    object: object.into(),
                    cursor: cursor.clone(),
                    since: if cursor.is_none() {
                        since.clone()
                    } else {
                        None
                    },
                    page_size: Some(page),
                    fields: None,
                    ..Default::default()
                },
            )
            .expect("read page");
        pages += 1;
        assert!(p.records.len() <= page as usize, "page over its size");
        out.extend(p.records);
        cursor = p.next_cursor.or(cursor);
        if !p.has_more {
            return (out, cursor, pages);
        }
        assert!(pages < 1000, "endless read");
    }
}

pub fn fields(pairs: &[(&str, Value)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn op(id: &str, action: connector_sdk::WriteAction, f: Fields) -> WriteOp {
    WriteOp {
        op_id: id.into(),
        action,
        id: None,
        match_key: None,
        expected_version: None,
        fields: f,
    }
}
