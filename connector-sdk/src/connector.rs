//! The trait a connector implements. Calls are synchronous: a connector that wants async I/O
//! owns its runtime (the hub runs each plugin in its own worker process).

use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::error::{ConnectorError, ErrorKind};
use crate::manifest::Manifest;
use crate::record::{CheckResult, ReadPage, ReadRequest, WriteRequest, WriteResult};
use crate::schema::ObjectSchema;
use crate::secret::Secret;

/// One connection's settings and secrets, handed to every call. Connectors keep no state
/// between calls that they could not rebuild from this.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub settings: Map<String, Value>,
    /// Secrets by key: the manifest's credential fields, plus `access_token` for OAuth2.
    pub credentials: BTreeMap<String, Secret>,
}

impl Connection {
    /// A setting as text (numbers and booleans rendered), or `None` when absent or empty.
    pub fn setting(&self, key: &str) -> Option<String> {
        match self.settings.get(key)? {
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.trim().to_string()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A required setting, or an `invalid_settings` error naming it.
    pub fn require_setting(&self, key: &str) -> Result<String, ConnectorError> {
        self.setting(key).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::InvalidSettings,
                format!("setting '{key}' is required"),
            )
            .with_ja(format!("設定「{key}」を入力してください"))
            .with_field(key)
        })
    }

    pub fn credential(&self, key: &str) -> Option<&Secret> {
        self.credentials.get(key).filter(|s| !s.is_empty())
    }

    /// A required secret, or an `auth_failed` error naming it (never its value).
    pub fn require_credential(&self, key: &str) -> Result<&Secret, ConnectorError> {
        self.credential(key).ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::AuthFailed,
                format!("credential '{key}' is missing"),
            )
            .with_ja(format!("認証情報「{key}」が設定されていません"))
            .with_field(key)
        })
    }
}

/// Implement this and add `connector_sdk::export_connector!(MyConnector::new());` to `lib.rs`.
pub trait Connector: Send + Sync + 'static {
    fn manifest(&self) -> Manifest;

    /// 接続テスト: reach the system and say who the connection is.
    fn check(&self, conn: &Connection) -> Result<CheckResult, ConnectorError>;

    fn objects(&self, conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError>;

    /// One bounded page after `req.cursor`. The hub loops until `has_more` is false.
    fn read(&self, conn: &Connection, req: &ReadRequest) -> Result<ReadPage, ConnectorError>;

    /// One batch (at most the manifest's `write_batch_size`); one result per op, in order.
    /// An error for the whole call means nothing is known to be written.
    fn write(
        &self,
        conn: &Connection,
        req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError>;

    /// A connector-specific action declared in the manifest (e.g. `change_password`).
    fn action(
        &self,
        conn: &Connection,
        action: &str,
        input: &Value,
    ) -> Result<Value, ConnectorError> {
        let _ = (conn, input);
        Err(ConnectorError::new(
            ErrorKind::Unsupported,
            format!("this connector has no action '{action}'"),
        ))
    }
}
