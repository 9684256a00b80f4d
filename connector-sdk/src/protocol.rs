//! The serialized messages that cross the plugin boundary (and the hub ⇄ worker pipe).
//! JSON, so a mismatch is a readable error rather than undefined behaviour.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::connector::{Connection, Connector};
use crate::error::{ConnectorError, ErrorKind};
use crate::manifest::Manifest;
use crate::record::{CheckResult, ReadPage, ReadRequest, WriteRequest, WriteResult};
use crate::schema::ObjectSchema;
use crate::secret::Secret;

/// A connection as it travels to the plugin: secrets in the clear, so this type must only ever
/// be written into the boundary buffer or the worker pipe, never logged or stored.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct WireConnection {
    #[serde(default)]
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
}

impl std::fmt::Debug for WireConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireConnection")
            .field("settings", &self.settings)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl From<&Connection> for WireConnection {
    fn from(c: &Connection) -> Self {
        WireConnection {
            settings: c.settings.clone(),
            credentials: c
                .credentials
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_string()))
                .collect(),
        }
    }
}

impl From<WireConnection> for Connection {
    fn from(w: WireConnection) -> Self {
        Connection {
            settings: w.settings,
            credentials: w
                .credentials
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Call {
    Manifest,
    Check,
    Objects,
    Read(ReadRequest),
    Write(WriteRequest),
    Action { name: String, input: Value },
}

impl Call {
    pub fn name(&self) -> &'static str {
        match self {
            Call::Manifest => "manifest",
            Call::Check => "check",
            Call::Objects => "objects",
            Call::Read(_) => "read",
            Call::Write(_) => "write",
            Call::Action { .. } => "action",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallRequest {
    #[serde(default)]
    pub connection: WireConnection,
    pub call: Call,
}

// One reply per call, moved not copied: the manifest's size does not matter here.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", content = "value", rename_all = "snake_case")]
pub enum Reply {
    Manifest(Manifest),
    Check(CheckResult),
    Objects(Vec<ObjectSchema>),
    Read(ReadPage),
    Write(Vec<WriteResult>),
    Action(Value),
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    Ok(Reply),
    Err(ConnectorError),
}

impl From<Result<Reply, ConnectorError>> for CallOutcome {
    fn from(r: Result<Reply, ConnectorError>) -> Self {
        match r {
            Ok(v) => CallOutcome::Ok(v),
            Err(e) => CallOutcome::Err(e),
        }
    }
}

impl From<CallOutcome> for Result<Reply, ConnectorError> {
    fn from(o: CallOutcome) -> Self {
        match o {
            CallOutcome::Ok(v) => Ok(v),
            CallOutcome::Err(e) => Err(e),
        }
    }
}

/// Runs one call against a connector: the same path the C entry point takes, without the FFI.
pub fn invoke(connector: &dyn Connector, req: CallRequest) -> Result<Reply, ConnectorError> {
    let conn: Connection = req.connection.into();
    match req.call {
        Call::Manifest => Ok(Reply::Manifest(connector.manifest())),
        Call::Check => connector.check(&conn).map(Reply::Check),
        Call::Objects => connector.objects(&conn).map(Reply::Objects),
        Call::Read(r) => connector.read(&conn, &r).map(Reply::Read),
        Call::Write(w) => {
            let results = connector.write(&conn, &w)?;
            if results.len() != w.ops.len() {
                return Err(ConnectorError::new(
                    ErrorKind::Internal,
                    format!(
                        "connector returned {} results for {} operations",
                        results.len(),
                        w.ops.len()
                    ),
                ));
            }
            Ok(Reply::Write(results))
        }
        Call::Action { name, input } => connector.action(&conn, &name, &input).map(Reply::Action),
    }
}

/// Decodes a request, runs it and encodes the outcome. Never fails: a bad message becomes an error reply.
pub fn dispatch_bytes(connector: &dyn Connector, input: &[u8]) -> Vec<u8> {
    let outcome: CallOutcome = match serde_json::from_slice::<CallRequest>(input) {
        Ok(req) => invoke(connector, req).into(),
        Err(e) => CallOutcome::Err(ConnectorError::new(
            ErrorKind::Internal,
            format!("the plugin could not read the hub's request: {e}"),
        )),
    };
    encode_outcome(&outcome)
}

pub fn encode_outcome(outcome: &CallOutcome) -> Vec<u8> {
    serde_json::to_vec(outcome).unwrap_or_else(|e| {
        // Only reachable if a connector put a non-serializable value in a reply; report it.
        let fallback = CallOutcome::Err(ConnectorError::new(
            ErrorKind::Internal,
            format!("the plugin could not encode its reply: {e}"),
        ));
        serde_json::to_vec(&fallback).unwrap_or_default()
    })
}

pub fn decode_outcome(bytes: &[u8]) -> Result<Reply, ConnectorError> {
    match serde_json::from_slice::<CallOutcome>(bytes) {
        Ok(o) => o.into(),
        Err(e) => Err(ConnectorError::new(
            ErrorKind::Internal,
            format!("the plugin's reply could not be read: {e}"),
        )),
    }
}
