//! Renkei Hub connector for Zoho CRM (API v8). A translator between the CRM's REST API and the
//! SDK's types: the hub owns OAuth (it passes the current access token as `access_token`),
//! retries and limits. Every call takes everything from its `Connection`, so connections to
//! several orgs work side by side. See README.md.

pub mod assumed;
pub mod cursor;
mod errors;
pub mod http;
pub mod manifest;
pub mod metadata;
mod read;
pub mod values;
mod write;

use connector_sdk::{
    CheckResult, Connection, Connector, ConnectorError, ErrorKind, Manifest, ObjectSchema,
    ReadPage, ReadRequest, WriteRequest, WriteResult,
};
use reqwest::blocking::Client;
use serde_json::Value;
use std::sync::OnceLock;

use crate::http::Api;
use crate::metadata::FieldCache;

#[derive(Default)]
pub struct ZohoCrm {
    /// One connection pool for every connection (it holds no credentials).
    client: OnceLock<Client>,
    fields: FieldCache,
}

impl ZohoCrm {
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
}

fn first<'v>(body: &'v Value, list: &str) -> Option<&'v Value> {
    body.get(list)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
}

fn text_of(v: Option<&Value>, keys: &[&str]) -> Option<String> {
    let v = v?;
    keys.iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Connector for ZohoCrm {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let users = api.get("users", &[("type", "CurrentUser".to_string())], None)?;
        let user = first(&users.body, "users");
        let who = text_of(user, &["email", "full_name"]).ok_or_else(|| {
            ConnectorError::new(ErrorKind::Internal, "Zoho CRM returned no current user")
                .with_ja("Zoho CRM から現在のユーザーを取得できませんでした")
        })?;
        let org = api.get("org", &[], None)?;
        let company = text_of(first(&org.body, "org"), &["company_name", "zgid", "id"])
            .unwrap_or_else(|| "?".into());
        Ok(CheckResult {
            account: format!("Zoho CRM org 「{company}」 as {who}"),
        })
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let mut out = Vec::new();
        for module in metadata::fetch_modules(&api)? {
            let Some(name) = module.get("api_name").and_then(Value::as_str) else {
                continue;
            };
            // A module the API lists but whose fields it will not give is left out, not fatal.
            let fields = match metadata::fetch_fields(&api, name) {
                Ok(f) => f,
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::NotFound
                            | ErrorKind::PermissionDenied
                            | ErrorKind::Unsupported
                            | ErrorKind::Internal
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(e),
            };
            let url = (http::api_domain(conn).ok()).and_then(|d| metadata::record_url(&d, name));
            out.extend(metadata::object_schema(&module, &fields, url));
        }
        Ok(out)
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        read::read(&api, &self.fields, req)
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        write::write(&api, &self.fields, req)
    }
}

connector_sdk::export_connector!(ZohoCrm::new());
