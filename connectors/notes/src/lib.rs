//! Renkei Hub connector for IBM Notes / HCL Domino through Domino Access Services
//! (reference/domino.md): contacts and to-dos of the mail file (views `($Contacts)` and
//! `($ToDo)` through the Data service) and calendar events (the Calendar service). Private
//! entries come back flagged. Every call takes everything from its `Connection`; the hub owns
//! retries and limits. See README.md.

pub mod actions;
pub mod assumed;
pub mod cursor;
mod docs;
pub mod errors;
mod event_json;
mod events_read;
mod events_write;
mod find;
pub mod http;
pub mod manifest;
pub mod objects;
mod privacy;
mod read;
pub mod values;
pub mod window;
mod write;

use chrono::Utc;
use connector_sdk::{
    CheckResult, Connection, Connector, ConnectorError, Manifest, ObjectSchema, ReadPage,
    ReadRequest, WriteRequest, WriteResult,
};
use reqwest::blocking::Client;
use serde_json::Value;
use std::sync::OnceLock;

use crate::http::{Api, Sessions};
use crate::objects::Object;

#[derive(Default)]
pub struct Notes {
    /// One connection pool for every connection (it holds no credentials).
    client: OnceLock<Client>,
    sessions: Sessions,
}

impl Notes {
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> Result<&Client, ConnectorError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = http::build_client()?;
        Ok(self.client.get_or_init(|| c))
    }

    fn api<'a>(&'a self, conn: &Connection) -> Result<Api<'a>, ConnectorError> {
        Api::new(self.client()?, &self.sessions, conn)
    }
}

/// The views the mail file lists (`@title`s), to tell which objects it has.
fn view_titles(api: &Api) -> Result<Vec<String>, ConnectorError> {
    let answer = api
        .get(&["api", "data", "collections"], &[])?
        .ok("listing the views of the mail database")?;
    Ok(answer
        .body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.get("@title").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

impl Connector for Notes {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        window::setting(conn)?;
        let api = self.api(conn)?;
        view_titles(&api)?;
        // The database's title, when the server lists its databases (not every server does).
        let title = api
            .get_server(&["api", "data"], &[])
            .ok()
            .filter(|a| a.is_ok())
            .and_then(|a| {
                a.body.as_array().and_then(|dbs| {
                    dbs.iter()
                        .find(|d| {
                            d.get("@filepath")
                                .and_then(Value::as_str)
                                .map(http::normalize_database)
                                .is_some_and(|p| p.eq_ignore_ascii_case(api.database()))
                        })
                        .and_then(|d| d.get("@title").and_then(Value::as_str))
                        .map(str::to_string)
                })
            });
        let db = match title {
            Some(t) => format!("「{t}」 ({})", api.database()),
            None => api.database().to_string(),
        };
        Ok(CheckResult {
            account: format!("{} on {} as {}", db, api.server(), api.user()),
        })
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        let api = self.api(conn)?;
        let titles = view_titles(&api)?;
        let mut out = Vec::new();
        for o in [&objects::CONTACTS_OBJECT, &objects::TODOS_OBJECT] {
            // A mail file without the view (another template) does not offer the object.
            if titles.iter().any(|t| t.eq_ignore_ascii_case(o.view)) {
                out.push(objects::doc_schema(o));
            }
        }
        out.push(objects::events_schema());
        Ok(out)
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        let object = objects::object(&req.object)?;
        let api = self.api(conn)?;
        match object {
            Object::Docs(o) => read::read(&api, o, req),
            Object::Events => events_read::read(&api, conn, req, Utc::now()),
        }
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let object = objects::object(&req.object)?;
        let api = self.api(conn)?;
        match object {
            Object::Docs(o) => write::write(&api, o, req),
            Object::Events => events_write::write(&api, conn, req, Utc::now()),
        }
    }

    fn action(
        &self,
        conn: &Connection,
        action: &str,
        input: &Value,
    ) -> Result<Value, ConnectorError> {
        match action {
            manifest::CHANGE_PASSWORD => {
                actions::change_password(self.client()?, &self.sessions, conn, input)
            }
            other => Err(ConnectorError::new(
                connector_sdk::ErrorKind::Unsupported,
                format!("the Notes connector has no action '{other}' (it offers change_password)"),
            )
            .with_ja(format!(
                "IBM Notes コネクタに操作「{other}」はありません(パスワード変更のみ)"
            ))),
        }
    }
}

connector_sdk::export_connector!(Notes::new());
