//! Connections (接続): created against a loaded connector's manifest, tested with 接続テスト,
//! and the single place that turns a stored connection into a call into its plugin.

use connector_sdk::protocol::{Call, Reply};
use connector_sdk::{
    AuthSpec, CheckResult, Connection as PluginConnection, ConnectorError, ErrorKind, Manifest,
    ObjectSchema, Secret, SettingField, SettingKind,
};
use hub_domain::{ConnectionPatch, ConnectionStatus, NewConnection};
use hub_store::StoreError;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::egress::{self, EgressPolicy};
use crate::error::{HubError, HubResult};
use crate::validate;
use crate::Hub;
use hub_messages::Message;

/// `POST /api/connections` body.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInput {
    pub connector: String,
    pub name: String,
    pub registration_number: String,
    pub phone: String,
    #[serde(default)]
    pub settings: Map<String, Value>,
    #[serde(default)]
    pub credentials: BTreeMap<String, Secret>,
}

/// Credential key an OAuth connection may be given directly instead of the consent step.
pub const REFRESH_TOKEN_KEY: &str = "refresh_token";

impl Hub {
    pub fn manifest(&self, connector_id: &str) -> HubResult<&Manifest> {
        self.plugins
            .plugin(connector_id)
            .map(|p| &p.manifest)
            .ok_or_else(|| {
                HubError::invalid(
                    "connector",
                    Message::new("err.unknown_connector").with("connector", connector_id),
                )
            })
    }

    pub async fn create_connection(&self, input: ConnectionInput) -> HubResult<String> {
        let manifest = self.manifest(&input.connector)?.clone();
        let name = validate::text("name", &input.name, 100)?;
        let registration_number = validate::registration_number(
            "registration_number",
            &input.registration_number,
            manifest.registration_number_pattern.as_deref(),
        )?;
        let phone = validate::phone("phone", &input.phone)?;
        let settings = check_settings(
            &manifest.settings,
            &input.settings,
            true,
            self.egress,
            &self.files_root,
        )?;
        let mut credentials = input.credentials;
        let refresh_token = match manifest.auth {
            AuthSpec::OAuth2 { .. } => credentials
                .remove(REFRESH_TOKEN_KEY)
                .filter(|t| !t.is_empty()),
            _ => None,
        };
        check_credentials(&manifest.credentials, &credentials, true)?;
        let id = self
            .store
            .insert_connection(&NewConnection {
                connector_id: manifest.id.clone(),
                name,
                settings,
                registration_number,
                phone,
                credentials,
                refresh_token,
            })
            .await?;
        Ok(id)
    }

    /// Changes what is given; settings are validated as a whole, credentials key by key.
    ///
    /// A connection's secrets are bound to the endpoint they were entered for: a change of an
    /// endpoint setting (the manifest's `endpoint: true`) must carry every stored credential
    /// again (else 400 naming them), and drops an OAuth connection's tokens (it needs signing in
    /// again) unless a new `refresh_token` comes with it.
    pub async fn update_connection(
        &self,
        id: &str,
        patch: ConnectionUpdate,
    ) -> HubResult<hub_domain::Connection> {
        let current = self.store.get_connection(id).await?;
        let manifest = self.manifest(&current.connector_id)?.clone();
        let mut p = ConnectionPatch::default();
        if let Some(n) = &patch.name {
            p.name = Some(validate::text("name", n, 100)?);
        }
        if let Some(r) = &patch.registration_number {
            p.registration_number = Some(validate::registration_number(
                "registration_number",
                r,
                manifest.registration_number_pattern.as_deref(),
            )?);
        }
        if let Some(ph) = &patch.phone {
            p.phone = Some(validate::phone("phone", ph)?);
        }
        let oauth = matches!(manifest.auth, AuthSpec::OAuth2 { .. });
        let mut credentials = patch.credentials;
        if oauth {
            p.refresh_token = credentials
                .as_mut()
                .and_then(|c| c.remove(REFRESH_TOKEN_KEY))
                .filter(|t| !t.is_empty());
        }
        if let Some(c) = &credentials {
            check_credentials(&manifest.credentials, c, false)?;
        }
        if let Some(s) = &patch.settings {
            let settings =
                check_settings(&manifest.settings, s, true, self.egress, &self.files_root)?;
            let moved = moved_endpoints(&manifest.settings, &current.settings, &settings);
            if !moved.is_empty() {
                require_secrets_again(&manifest, &current, credentials.as_ref(), &moved)?;
                p.endpoint_changed = true;
                if oauth {
                    p.drop_tokens = true;
                    p.tokens_dropped_message = Some(
                        Message::new("conn.tokens_dropped")
                            .with("endpoints", moved.join(", "))
                            .to_stored(),
                    );
                }
                tracing::info!(connection = %id, endpoints = %moved.join(", "), "connection endpoint changed");
            }
            p.settings = Some(settings);
        }
        p.credentials = credentials.filter(|c| !c.is_empty());
        Ok(self.store.update_connection(id, &p).await?)
    }

    /// The connection as its plugin sees it: settings, decrypted credentials and the access token.
    /// Refuses (as the connector's `invalid_settings`) an endpoint that is, or resolves to, a
    /// link-local / cloud-metadata address (`egress`): checked before every call.
    pub async fn plugin_connection(
        &self,
        id: &str,
    ) -> HubResult<(hub_domain::Connection, PluginConnection)> {
        let conn = self.store.get_connection(id).await?;
        if let Some(p) = self.plugins.plugin(&conn.connector_id) {
            for f in p.manifest.settings.iter().filter(|f| f.endpoint) {
                if let Some(v) = conn.settings.get(&f.key).and_then(Value::as_str) {
                    egress::check_resolved(self.egress, &format!("settings.{}", f.key), v)
                        .await
                        .map_err(HubError::Connector)?;
                }
            }
        }
        let secrets = self.store.connection_secrets(id).await?;
        let mut credentials = secrets.credentials;
        if let Some(t) = secrets.access_token {
            credentials.insert("access_token".into(), t);
        }
        let pc = PluginConnection {
            settings: conn.settings.clone(),
            credentials,
        };
        Ok((conn, pc))
    }

    /// One call into a connection's plugin, in a fresh worker process. An OAuth token about to
    /// expire is refreshed first, and one that the API calls expired is refreshed (single-flight)
    /// and the call made once more.
    pub async fn call_connection(
        &self,
        id: &str,
        call: Call,
    ) -> HubResult<Result<Reply, ConnectorError>> {
        if let Err(e) = self.ensure_fresh_token(id).await {
            return match e {
                HubError::Connector(c) => Ok(Err(c)),
                other => Err(other),
            };
        }
        let (conn, pc) = match self.plugin_connection(id).await {
            Ok(c) => c,
            Err(HubError::Connector(c)) => return Ok(Err(c)),
            Err(other) => return Err(other),
        };
        let first = self
            .plugins
            .call_once(&conn.connector_id, &pc, call.clone())
            .await;
        match first {
            Err(e) if e.kind == ErrorKind::AuthExpired => {
                if let Err(e) = self
                    .refresh_after_expiry(id, pc.credentials.get("access_token"))
                    .await
                {
                    return match e {
                        HubError::Connector(c) => Ok(Err(c)),
                        other => Err(other),
                    };
                }
                let (_, pc) = self.plugin_connection(id).await?;
                Ok(self.plugins.call_once(&conn.connector_id, &pc, call).await)
            }
            other => Ok(other),
        }
    }

    /// 接続テスト. The outer error is the hub's (unknown id); the inner one the connector's.
    /// Whatever the connector put in it from the remote answer (an error page, an account name)
    /// comes back only as a short plain excerpt (`egress::excerpt`), for every connector.
    /// The outcome is the connection's status from now on (`ok`, or `error` with the reason).
    pub async fn check_connection(
        &self,
        id: &str,
    ) -> HubResult<Result<CheckResult, ConnectorError>> {
        let result = match self.call_connection(id, Call::Check).await? {
            Ok(Reply::Check(mut c)) => {
                c.account = egress::excerpt(&c.account);
                Ok(c)
            }
            Ok(other) => Err(unexpected("check", &other)),
            Err(e) => Err(egress::sanitize_error(e)),
        };
        match &result {
            Ok(_) => self.connection_worked(id).await,
            Err(e) => self.connection_failed(id, e).await,
        }
        Ok(result)
    }

    /// A check or a run reached the connection's system: `ok`, checked now.
    pub async fn connection_worked(&self, id: &str) {
        if let Err(e) = self
            .store
            .set_connection_status(id, ConnectionStatus::Ok, None)
            .await
        {
            tracing::warn!(connection = %id, error = %e, "cannot record the connection's status");
        }
    }

    /// A check or a run failed for a reason of the connection's own: `error` with the reason
    /// (Japanese first), checked now. A refused refresh token stays `reauthorize`.
    pub async fn connection_failed(&self, id: &str, e: &ConnectorError) {
        if let Ok(c) = self.store.get_connection(id).await {
            if c.status == ConnectionStatus::Reauthorize {
                return;
            }
        }
        let message = status_message(e);
        if let Err(err) = self
            .store
            .set_connection_status(id, ConnectionStatus::Error, Some(&message))
            .await
        {
            tracing::warn!(connection = %id, error = %err, "cannot record the connection's status");
        }
    }

    /// The connection's objects, asked of its connector now.
    pub async fn connection_objects(&self, id: &str) -> HubResult<Vec<ObjectSchema>> {
        let updated_at = self.store.get_connection(id).await?.updated_at;
        Ok(self.list_objects(id, updated_at).await?.as_ref().clone())
    }

    /// The connection's objects as listed within `OBJECTS_REUSE` for the connection's current
    /// settings, else asked now: saving many flows in a row (an import, a script on the API)
    /// asks each connector once, not twice per flow.
    pub async fn recent_connection_objects(&self, id: &str) -> HubResult<Arc<Vec<ObjectSchema>>> {
        let updated_at = self.store.get_connection(id).await?.updated_at;
        let reuse = self.objects_seen.lock().ok().and_then(|seen| {
            seen.get(id)
                .filter(|l| l.connection_updated_at == updated_at && l.at.elapsed() < OBJECTS_REUSE)
                .map(|l| l.objects.clone())
        });
        match reuse {
            Some(objects) => Ok(objects),
            None => self.list_objects(id, updated_at).await,
        }
    }

    /// Asks the connector and keeps the answer for `recent_connection_objects`.
    async fn list_objects(
        &self,
        id: &str,
        updated_at: hub_domain::Millis,
    ) -> HubResult<Arc<Vec<ObjectSchema>>> {
        let objects = match self.call_connection(id, Call::Objects).await? {
            Ok(Reply::Objects(o)) => Arc::new(o),
            Ok(other) => return Err(HubError::Connector(unexpected("objects", &other))),
            Err(e) => return Err(HubError::Connector(e)),
        };
        // Kept for runs, which name their records by it without listing again.
        let names: Vec<_> = (objects.iter())
            .map(|o| (o.id.clone(), o.title_field.clone(), o.record_url.clone()))
            .collect();
        if let Err(e) = self.store.save_object_names(id, &names).await {
            tracing::warn!(connection = %id, error = %e, "cannot keep the objects' naming");
        }
        if let Ok(mut seen) = self.objects_seen.lock() {
            seen.insert(
                id.to_string(),
                ListedObjects {
                    at: Instant::now(),
                    connection_updated_at: updated_at,
                    objects: objects.clone(),
                },
            );
        }
        Ok(objects)
    }

    /// Deletes a connection no flow uses; `Conflict in_use` (409) while a flow reads or writes it.
    pub async fn delete_connection(&self, id: &str) -> HubResult<()> {
        match self.store.delete_connection(id).await {
            Err(StoreError::Conflict(detail)) => Err(HubError::conflict(
                "in_use",
                Message::new("conn.in_use").with("detail", detail),
            )),
            other => Ok(other?),
        }
    }
}

/// How long an object list is reused for schema checks: a field added in the external app is
/// seen by the check within this time (the flow editor always lists afresh).
pub const OBJECTS_REUSE: Duration = Duration::from_secs(60);

/// One connection's objects as its connector listed them.
#[derive(Debug, Clone)]
pub struct ListedObjects {
    at: Instant,
    /// The connection's `updated_at` when listed: new settings or credentials list again.
    connection_updated_at: hub_domain::Millis,
    objects: Arc<Vec<ObjectSchema>>,
}

/// `PUT /api/connections/{id}` body: every part optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectionUpdate {
    pub name: Option<String>,
    pub registration_number: Option<String>,
    pub phone: Option<String>,
    pub settings: Option<Map<String, Value>>,
    pub credentials: Option<BTreeMap<String, Secret>>,
}

/// Whether a connector error is the connection's (credentials refused, settings wrong, the
/// system unreachable) rather than a record's or a passing one's: such a run failure makes the
/// connection's status `error`.
pub fn is_connection_level(e: &ConnectorError) -> bool {
    matches!(e.kind, ErrorKind::AuthFailed | ErrorKind::InvalidSettings)
        || (e.kind == ErrorKind::Transient && e.code == "network")
}

/// The reason kept with an `error` status, as a stored message: the connector's words in the
/// page's language (connectors give both), its code as the detail, each as a plain excerpt
/// (remote text is never repeated whole, as in a 接続テスト answer).
pub fn status_message(e: &ConnectorError) -> String {
    let e = egress::sanitize_error(e.clone());
    let excerpt = |s: &str| s.chars().take(300).collect::<String>();
    let en = excerpt(&e.message);
    let ja = e
        .message_ja
        .as_deref()
        .filter(|ja| !ja.is_empty())
        .map_or_else(|| en.clone(), excerpt);
    Message::new("conn.status_reason")
        .with_local("reason", ja, en)
        .with("detail", &e.code)
        .to_stored()
}

pub(crate) fn unexpected(call: &str, reply: &Reply) -> ConnectorError {
    let kind = match reply {
        Reply::Manifest(_) => "manifest",
        Reply::Check(_) => "check",
        Reply::Objects(_) => "objects",
        Reply::Read(_) => "read",
        Reply::Write(_) => "write",
        Reply::Action(_) => "action",
    };
    ConnectorError::new(
        ErrorKind::Internal,
        format!("connector answered a {call} call with a {kind} reply"),
    )
}

/// The endpoint settings whose value differs between what is stored and what will be.
fn moved_endpoints(
    fields: &[SettingField],
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Vec<String> {
    fields
        .iter()
        .filter(|f| f.endpoint && old.get(&f.key) != new.get(&f.key))
        .map(|f| format!("settings.{}", f.key))
        .collect()
}

/// Every stored credential must come again with an endpoint change: the old ones were entered
/// for the old endpoint and are never sent to the new one.
fn require_secrets_again(
    manifest: &Manifest,
    current: &hub_domain::Connection,
    given: Option<&BTreeMap<String, Secret>>,
    moved: &[String],
) -> HubResult<()> {
    let missing: Vec<String> = manifest
        .credentials
        .iter()
        .filter(|f| current.credential_keys.iter().any(|k| k == &f.key))
        .filter(|f| {
            given
                .and_then(|g| g.get(&f.key))
                .is_none_or(|s| s.is_empty())
        })
        .map(|f| format!("credentials.{}", f.key))
        .collect();
    match missing.first() {
        None => Ok(()),
        Some(first) => Err(HubError::invalid(
            first.clone(),
            Message::new("err.reenter_secret")
                .with("settings", moved.join(", "))
                .with("missing", missing.join(", ")),
        )),
    }
}

fn check_settings(
    fields: &[SettingField],
    given: &Map<String, Value>,
    require: bool,
    egress_policy: EgressPolicy,
    files_root: &std::path::Path,
) -> HubResult<Map<String, Value>> {
    for key in given.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            let known: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
            return Err(HubError::invalid(
                format!("settings.{key}"),
                Message::new("err.unknown_setting").with("known", known.join(", ")),
            ));
        }
    }
    let mut out = Map::new();
    for f in fields {
        let field = format!("settings.{}", f.key);
        let raw = match given.get(&f.key) {
            None | Some(Value::Null) => f.default.clone().map(Value::String),
            Some(Value::String(s)) if crate::validate::is_blank(s) => {
                f.default.clone().map(Value::String)
            }
            Some(v) => Some(v.clone()),
        };
        let Some(v) = raw else {
            if f.required && require {
                return Err(HubError::invalid(field, Message::new("err.required")));
            }
            continue;
        };
        let mut text = match &v {
            Value::String(s) => crate::validate::visible(s),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return Err(HubError::invalid(field, Message::new("err.setting_value"))),
        };
        if text.chars().count() > 2000 {
            return Err(HubError::invalid(
                field,
                Message::new("err.too_long").with("max", 2000),
            ));
        }
        match &f.kind {
            SettingKind::Url => {
                let ok = url::Url::parse(&text)
                    .map(|u| matches!(u.scheme(), "http" | "https"))
                    .unwrap_or(false);
                if !ok {
                    return Err(HubError::invalid(field, Message::new("err.url")));
                }
            }
            SettingKind::Number => {
                if text.parse::<f64>().is_err() {
                    return Err(HubError::invalid(field, Message::new("err.number")));
                }
            }
            SettingKind::Bool => {
                if !matches!(text.as_str(), "true" | "false") {
                    return Err(HubError::invalid(field, Message::new("err.bool")));
                }
            }
            SettingKind::Select { options } => {
                if !options.iter().any(|o| o.value == text) {
                    let allowed: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                    return Err(HubError::invalid(
                        field,
                        Message::new("err.one_of").with("list", allowed.join(", ")),
                    ));
                }
            }
            SettingKind::Path => text = crate::files_root::confine(files_root, &field, &text)?,
            SettingKind::Text | SettingKind::Secret | SettingKind::ColumnLayout => {}
        }
        if f.endpoint {
            egress::check_literal(egress_policy, &field, &text)?;
        }
        if let Some(p) = &f.pattern {
            let re = Regex::new(p)
                .map_err(|_| HubError::invalid(&field, Message::new("err.bad_pattern")))?;
            if !re.is_match(&text) {
                return Err(HubError::invalid(
                    field,
                    Message::new("err.pattern").with("pattern", p),
                ));
            }
        }
        out.insert(f.key.clone(), Value::String(text));
    }
    Ok(out)
}

fn check_credentials(
    fields: &[SettingField],
    given: &BTreeMap<String, Secret>,
    require: bool,
) -> HubResult<()> {
    for key in given.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            return Err(HubError::invalid(
                format!("credentials.{key}"),
                Message::new("err.unknown_credential"),
            ));
        }
    }
    if require {
        for f in fields.iter().filter(|f| f.required) {
            if given.get(&f.key).is_none_or(|s| s.is_empty()) {
                return Err(HubError::invalid(
                    format!("credentials.{}", f.key),
                    Message::new("err.required"),
                ));
            }
        }
    }
    Ok(())
}
