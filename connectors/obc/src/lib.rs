//! OBC 奉行 connector, two routes behind one connection:
//! - 奉行クラウド API: OAuth2 with the OBCiD consent (run by the hub, which passes
//!   `access_token`) or a fixed access token, the subscription key on every call, the 法人 from
//!   SearchTenant, and export/import of 取引先 (`customers`) and 社員 (`employees`);
//! - on-premise 奉行 CSV through a watched folder: every object whose id starts with `csv_`,
//!   handled by the `obc-csv` crate.
//!
//! Every shape of the API that is not public is kept in [`assumed`].

pub mod assumed;
pub mod cursor;
mod errors;
pub mod http;
pub mod manifest;
mod read;
pub mod tenant;
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
use crate::tenant::TenantCache;

#[derive(Default)]
pub struct Obc {
    /// One connection pool for every connection (it holds no credentials).
    client: OnceLock<Client>,
    tenants: TenantCache,
}

impl Obc {
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

    /// The cloud API and the 法人 it works in.
    fn cloud<'a>(
        &'a self,
        conn: &'a Connection,
    ) -> Result<(Api<'a>, tenant::Tenant), ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let t = self.tenants.resolve(&api, conn)?;
        Ok((api, t))
    }

    fn check_cloud(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let api = Api::new(self.client()?, conn)?;
        let all = tenant::search(&api)?;
        let wanted = conn.setting(manifest::TENANT_ID).unwrap_or_default();
        let t = tenant::choose(&all, &wanted)?;
        let via = match api.token_source {
            http::TokenSource::OAuth => "OBCiD",
            http::TokenSource::Fixed => "固定アクセストークン",
        };
        Ok(CheckResult {
            account: format!(
                "奉行クラウド 法人「{}」（{via}、利用できる法人 {} 件）",
                t.label(),
                all.len()
            ),
        })
    }
}

fn nothing_configured() -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidSettings,
        "set the 奉行クラウド API URL and sign in with OBCiD, or set the CSV watch folder (csv_root)",
    )
    .with_code("not_configured")
    .with_ja("奉行クラウド API の URL を入力して OBCiD でサインインするか、CSV 監視フォルダを設定してください")
    .with_field(manifest::BASE_URL)
}

impl Connector for Obc {
    fn manifest(&self) -> Manifest {
        manifest::manifest()
    }

    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError> {
        let csv = obc_csv::check(conn);
        let has_base = conn.setting(manifest::BASE_URL).is_some();
        match csv {
            // CSV only: a connection that never set up the cloud API.
            Some(csv) if !http::cloud_configured(conn) && !has_base => csv,
            Some(csv) => {
                let cloud = self.check_cloud(conn)?;
                let folder = csv?;
                Ok(CheckResult {
                    account: format!("{} / {}", cloud.account, folder.account),
                })
            }
            None if !has_base && !http::cloud_configured(conn) => Err(nothing_configured()),
            None => self.check_cloud(conn),
        }
    }

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        let mut out: Vec<ObjectSchema> = Vec::new();
        if http::cloud_configured(conn) {
            out.extend(assumed::ENTITIES.iter().map(|e| values::object_schema(e)));
        }
        out.extend(obc_csv::objects(conn)?);
        if out.is_empty() && conn.setting(obc_csv::ROOT_SETTING).is_none() {
            // Say what is missing rather than list nothing.
            return match conn.setting(manifest::BASE_URL) {
                Some(_) => Api::new(self.client()?, conn).map(|_| Vec::new()),
                None => Err(nothing_configured()),
            };
        }
        Ok(out)
    }

    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        if obc_csv::is_csv_object(&req.object) {
            return obc_csv::read(conn, req);
        }
        let (api, t) = self.cloud(conn)?;
        read::read(&api, &t, req)
    }

    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        if obc_csv::is_csv_object(&req.object) {
            return obc_csv::write(conn, req);
        }
        let (api, t) = self.cloud(conn)?;
        write::write(&api, &t, req)
    }

    fn action(
        &self,
        conn: &Connection,
        action: &str,
        input: &Value,
    ) -> Result<Value, ConnectorError> {
        obc_csv::action(conn, action, input).unwrap_or_else(|| {
            Err(ConnectorError::new(
                ErrorKind::Unsupported,
                format!("the 奉行 connector has no action '{action}'"),
            )
            .with_code("unknown_action")
            .with_ja(format!("奉行コネクタに操作「{action}」はありません")))
        })
    }
}

connector_sdk::export_connector!(Obc::new());
