//! Connector actions (`change_password`, `receive_file`, …): declared in the manifest, run in a
//! worker like every plugin call. A result may hand secrets back to the hub under
//! `store_credentials`; those are stored encrypted on the connection and never answered.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{ConnectorError, Secret};
use hub_domain::ConnectionPatch;
use serde_json::Value;
use std::collections::BTreeMap;

use crate::connections::unexpected;
use crate::{Hub, HubError, HubResult};
use hub_messages::Message;

/// The key under which an action's result carries secrets for the hub to store.
pub const STORE_CREDENTIALS: &str = "store_credentials";

impl Hub {
    /// Runs `action` on a connection. The outer error is the hub's (unknown connection or
    /// action, a secret the manifest does not declare); the inner one the connector's.
    pub async fn connection_action(
        &self,
        id: &str,
        action: &str,
        input: Value,
    ) -> HubResult<Result<Value, ConnectorError>> {
        let conn = self.store.get_connection(id).await?;
        let manifest = self.manifest(&conn.connector_id)?;
        if !manifest.actions.iter().any(|a| a.id == action) {
            let known: Vec<&str> = manifest.actions.iter().map(|a| a.id.as_str()).collect();
            return Err(HubError::unprocessable(
                "action",
                Message::new("err.no_action")
                    .with("connector", &conn.connector_id)
                    .with("action", action)
                    .with(
                        "known",
                        if known.is_empty() {
                            "-".to_string()
                        } else {
                            known.join(", ")
                        },
                    ),
            ));
        }
        let declared: Vec<String> = manifest.credentials.iter().map(|f| f.key.clone()).collect();
        let reply = self
            .call_connection(
                id,
                Call::Action {
                    name: action.to_string(),
                    input,
                },
            )
            .await?;
        let mut result = match reply {
            Ok(Reply::Action(v)) => v,
            Ok(other) => return Ok(Err(unexpected("action", &other))),
            Err(e) => return Ok(Err(e)),
        };
        let to_store = result
            .as_object_mut()
            .and_then(|o| o.remove(STORE_CREDENTIALS));
        if let Some(to_store) = to_store {
            let secrets = secrets_to_store(&to_store, &declared)?;
            if !secrets.is_empty() {
                self.store
                    .update_connection(
                        id,
                        &ConnectionPatch {
                            credentials: Some(secrets),
                            ..ConnectionPatch::default()
                        },
                    )
                    .await?;
            }
        }
        Ok(Ok(result))
    }
}

fn secrets_to_store(v: &Value, declared: &[String]) -> HubResult<BTreeMap<String, Secret>> {
    let bad = |message: String| {
        HubError::Connector(ConnectorError::new(
            connector_sdk::ErrorKind::Internal,
            message,
        ))
    };
    let Some(map) = v.as_object() else {
        return Err(bad(format!(
            "the connector's '{STORE_CREDENTIALS}' is not an object"
        )));
    };
    let mut out = BTreeMap::new();
    for (key, value) in map {
        if !declared.iter().any(|d| d == key) {
            return Err(bad(format!(
                "the connector asked to store credential '{key}', which its manifest does not declare"
            )));
        }
        let Some(text) = value.as_str() else {
            return Err(bad(format!("credential '{key}' to store is not text")));
        };
        out.insert(key.clone(), Secret::new(text));
    }
    Ok(out)
}
