//! `hub serve --sandbox`: one connection per sandbox preset a connector's manifest declares,
//! filled from the sandbox's announcement JSON. The hub names no connector here: the presets
//! come from the plugins.

use connector_sdk::Secret;
use hub_core::connections::{ConnectionInput, ConnectionUpdate};
use hub_core::Hub;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Sample registration number and phone for sandbox connections (clearly not real ones).
const SANDBOX_REGISTRATION: &str = "SANDBOX-0001";
const SANDBOX_PHONE: &str = "03-0000-0000";

/// `{/json/pointer}` placeholders replaced by the announcement's values.
fn fill(template: &str, announcement: &Value) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{/") {
        let end = start + rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        let v = announcement.pointer(&rest[start + 1..end])?;
        match v {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Creates the preset connections that do not exist yet (by connector and name); answers how
/// many. One that exists but points elsewhere (an emulator's port of the last start was taken)
/// is pointed at the emulator again.
pub async fn register(hub: &Hub, announcement: &Value) -> usize {
    let existing = hub.list_connections().await.unwrap_or_default();
    let mut created = 0;
    for plugin in hub.plugins.loaded() {
        for preset in &plugin.manifest.sandbox {
            let name = preset.name.ja.clone();
            let mut settings = Map::new();
            let mut credentials = BTreeMap::new();
            let mut complete = true;
            for (k, t) in &preset.settings {
                match fill(t, announcement) {
                    Some(v) => {
                        settings.insert(k.clone(), Value::String(v));
                    }
                    None => complete = false,
                }
            }
            for (k, t) in &preset.credentials {
                match fill(t, announcement) {
                    Some(v) => {
                        credentials.insert(k.clone(), Secret::new(v));
                    }
                    None => complete = false,
                }
            }
            if !complete {
                tracing::warn!(connector = %plugin.id, preset = %name, "sandbox preset refers to values the sandbox did not announce; skipped");
                continue;
            }
            if let Some(current) = existing
                .iter()
                .find(|c| c.connector_id == plugin.id && c.name == name)
            {
                let moved = settings
                    .iter()
                    .any(|(k, v)| current.settings.get(k) != Some(v));
                if moved {
                    let mut all = current.settings.clone();
                    all.extend(settings);
                    let update = ConnectionUpdate {
                        settings: Some(all),
                        credentials: Some(credentials),
                        ..Default::default()
                    };
                    match hub.update_connection(&current.id, update).await {
                        Ok(_) => {
                            tracing::info!(connector = %plugin.id, preset = %name, "sandbox connection pointed at the emulator's new address")
                        }
                        Err(e) => {
                            tracing::warn!(connector = %plugin.id, preset = %name, error = %e, "cannot point the sandbox connection at the emulator")
                        }
                    }
                }
                continue;
            }
            let input = ConnectionInput {
                connector: plugin.id.clone(),
                name: name.clone(),
                registration_number: SANDBOX_REGISTRATION.into(),
                phone: SANDBOX_PHONE.into(),
                settings,
                credentials,
            };
            match hub.create_connection(input).await {
                Ok(_) => created += 1,
                Err(e) => {
                    tracing::warn!(connector = %plugin.id, preset = %name, error = %e, "cannot register sandbox connection")
                }
            }
        }
    }
    created
}

#[cfg(test)]
mod tests {
    use super::fill;
    use serde_json::json;

    #[test]
    fn pointers_fill() {
        let a = json!({"kintone": "http://localhost:1", "credentials": {"kintone": {"apps": [{"api_token": "t1"}]}}});
        assert_eq!(fill("{/kintone}", &a).unwrap(), "http://localhost:1");
        assert_eq!(
            fill("{/credentials/kintone/apps/0/api_token}", &a).unwrap(),
            "t1"
        );
        assert_eq!(
            fill("{/kintone}/k/v1", &a).unwrap(),
            "http://localhost:1/k/v1"
        );
        assert!(fill("{/nothing}", &a).is_none());
    }
}
