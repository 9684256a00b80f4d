//! A fresh sandbox per test (its data and counters are then the test's own), a `Connection` to
//! the seeded mail file built from the announcement, and raw DAS calls that play the user
//! editing Notes meanwhile.
#![allow(dead_code)]

use connector_sdk::{
    Connection, Connector, Fields, ReadRequest, Record, Secret, WriteAction, WriteOp, WriteRequest,
    WriteResult,
};
use renkei_connector_notes::Notes;
use serde_json::{json, Map, Value};

pub struct Env {
    // Field order: the sandbox stops before its runtime is dropped.
    sandbox: Option<sandbox::RunningSandbox>,
    rt: tokio::runtime::Runtime,
    pub announcement: Value,
    pub server: String,
    pub database: String,
    pub user: String,
    pub password: String,
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
        let c = &announcement["credentials"]["domino"];
        let text = |k: &str| {
            c[k].as_str()
                .unwrap_or_else(|| panic!("{k} announced"))
                .to_string()
        };
        Env {
            server: text("server"),
            database: text("database"),
            user: text("username"),
            password: text("password"),
            sandbox: Some(sb),
            rt,
            announcement,
            http: reqwest::blocking::Client::new(),
        }
    }

    /// A connection to the seeded mail file, with the given events window.
    pub fn conn_with(&self, window: &str) -> Connection {
        let mut settings = Map::new();
        settings.insert("server_url".into(), json!(self.server));
        settings.insert("database".into(), json!(self.database));
        settings.insert("username".into(), json!(self.user));
        settings.insert("events_window".into(), json!(window));
        let mut conn = Connection {
            settings,
            credentials: Default::default(),
        };
        conn.credentials
            .insert("password".into(), Secret::new(self.password.clone()));
        conn
    }

    pub fn conn(&self) -> Connection {
        self.conn_with("all")
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/{}{rest}", self.server, self.database)
    }

    /// A DAS call as the mail file's owner (not through the connector).
    pub fn das(&self, method: reqwest::Method, rest: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method, self.url(rest))
            .basic_auth(&self.user, Some(&self.password));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().expect("DAS call");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// The document as DAS gives it (with `$` items).
    pub fn document(&self, unid: &str) -> Value {
        let (s, v) = self.das(
            reqwest::Method::GET,
            &format!("/api/data/documents/unid/{unid}?hidden=true"),
            None,
        );
        assert_eq!(s, 200, "GET {unid}: {v}");
        v
    }

    /// Changes items of a document as a Notes user would (PATCH).
    pub fn edit(&self, unid: &str, items: Value) {
        let (s, v) = self.das(
            reqwest::Method::PATCH,
            &format!("/api/data/documents/unid/{unid}"),
            Some(items),
        );
        assert_eq!(s, 200, "PATCH {unid}: {v}");
    }

    /// Sandbox control calls of the Domino emulator.
    pub fn control(&self, method: reqwest::Method, path: &str, body: Value) -> u16 {
        self.http
            .request(method, format!("{}{path}", self.server))
            .json(&body)
            .send()
            .expect("control call")
            .status()
            .as_u16()
    }

    /// Another user edits the document now: its `@modified` moves.
    pub fn touch(&self, unid: &str) {
        let s = self.control(
            reqwest::Method::POST,
            "/_sandbox/domino/touch",
            json!({"database": self.database, "unid": unid}),
        );
        assert_eq!(s, 200);
    }

    pub fn reset_stats(&self) {
        self.http
            .post(format!("{}/_sandbox/stats/reset", self.server))
            .send()
            .expect("reset stats");
    }

    /// Requests per `METHOD /route` since the last reset.
    pub fn stats(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/stats", self.server))
            .send()
            .and_then(|r| r.json())
            .expect("stats")
    }
}

/// Reads `object` to the end from `cursor`: (records, final cursor, pages).
pub fn read_all(
    n: &Notes,
    conn: &Connection,
    object: &str,
    cursor: Option<String>,
    page: u32,
) -> (Vec<Record>, Option<String>, usize) {
    let mut cursor = cursor;
    let mut out = Vec::new();
    for pages in 1..=1000 {
        let p = n
            .read(
                conn,
                &ReadRequest {
                    options: Default::default(),
                    object: object.into(),
                    cursor: cursor.clone(),
                    since: None,
                    page_size: Some(page),
                    fields: None,
                    ..Default::default()
                },
            )
            .unwrap_or_else(|e| panic!("read {object}: {e}"));
        assert!(p.records.len() <= page as usize, "page over its size");
        out.extend(p.records);
        cursor = p.next_cursor.or(cursor);
        if !p.has_more {
            return (out, cursor, pages);
        }
    }
    panic!("endless read of {object}");
}

pub fn fields(pairs: &[(&str, Value)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn op(id: &str, action: WriteAction, target: Option<&str>, f: Fields) -> WriteOp {
    WriteOp {
        op_id: id.into(),
        action,
        id: target.map(str::to_string),
        match_key: None,
        expected_version: None,
        fields: f,
    }
}

pub fn write(n: &Notes, conn: &Connection, object: &str, ops: Vec<WriteOp>) -> Vec<WriteResult> {
    n.write(
        conn,
        &WriteRequest {
            object: object.into(),
            ops,
        },
    )
    .unwrap_or_else(|e| panic!("write {object}: {e}"))
}

pub fn text(r: &Record, field: &str) -> String {
    r.fields
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
