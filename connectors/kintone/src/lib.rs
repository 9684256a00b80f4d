//! Renkei Hub connector for kintone. A translator between kintone's REST API and the SDK's
//! types: each configured app is an object, its field codes (Japanese included) are the field
//! ids, reads seek by (`更新日時`, `$id`) through records.json, writes go as few records.json /
//! bulkRequest calls as possible. The hub owns retries and limits. See README.md.

pub mod assumed;
pub mod cursor;
mod errors;
pub mod form;
pub mod http;
pub mod manifest;
mod read;
pub mod values;
pub mod walk;
mod write;

use connector_sdk::{
    CheckResult, Connection, Connector, ConnectorError, Manifest, ObjectSchema, ReadPage,
    ReadRequest, WriteRequest, WriteResult,
};
use reqwest::blocking::Client;
use std::sync::OnceLock;

use crate::form::FormCache;
use crate::http::{app_ids, require_app, Api};

#[derive(Default)]
pub struct Kintone {
    /// One connection pool for every connection (it holds no credentials).
    client: OnceLock<Client>,
    forms: FormCache,
}

impl Kintone {
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

    /// An app's display name: its name from app.json, else "app N".
    fn name_of(api: &Api, app: &str) -> Result<String, ConnectorError> {
        Ok(form::app_name(api, app)?.unwrap_or_else(|| format!("app {app}")))
    }
}

impl Connector for Kintone {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    /// Reaches every configured app (its form and name): "kintone app 1 「顧客管理」 (API token)".
    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let mut parts = Vec::new();
        for app in app_ids(conn)? {
            form::fetch(&api, &app)?;
            parts.push(format!("app {app} 「{}」", Self::name_of(&api, &app)?));
        }
        Ok(CheckResult {
            account: format!("kintone {} ({})", parts.join(", "), api.signed_in_as()),
        })
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        app_ids(conn)?
            .into_iter()
            .map(|app| {
                let form = self.forms.get(&api, &app)?;
                let url = api.record_url(&app);
                Ok(form.schema(&Self::name_of(&api, &app)?, Some(url)))
            })
            .collect()
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        read::read(&api, &self.forms, conn, req)
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let app = require_app(conn, &req.object)?;
        if req.ops.is_empty() {
            return Ok(Vec::new());
        }
        let form = self.forms.get(&api, &app)?;
        write::write(&api, &form, req)
    }
}

connector_sdk::export_connector!(Kintone::new());
