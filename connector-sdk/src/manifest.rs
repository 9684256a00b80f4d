//! What a connector says about itself: names, how it authenticates, the settings the
//! "新しい接続" wizard renders, and the API limits the hub must respect.

use serde::{Deserialize, Serialize};

/// Text in the two languages of the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    pub fn new(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            ja: ja.into(),
            en: en.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Stable identifier, e.g. `kintone`. Lower case, digits and `-`.
    pub id: String,
    pub version: String,
    pub name: Text,
    #[serde(default)]
    pub description: Text,
    pub auth: AuthSpec,
    /// Non-secret settings (domain, app ids, data centre…), rendered by the wizard.
    #[serde(default)]
    pub settings: Vec<SettingField>,
    /// Secret inputs (API tokens, passwords, OAuth client secrets). Stored encrypted, never echoed.
    #[serde(default)]
    pub credentials: Vec<SettingField>,
    /// Alternatives among the credentials when none is required on its own: sets of credential
    /// keys, one of which must be given whole (kintone: `[["api_token"], ["username",
    /// "password"]]`). The wizard refuses its sign-in step until one set is complete. Absent in
    /// older manifests: no such rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials_one_of: Vec<Vec<String>>,
    /// Regular expression the connector registration number (登録番号) must match.
    #[serde(default)]
    pub registration_number_pattern: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    /// Extra operations beyond read/write (e.g. `change_password`), for the UI and API.
    #[serde(default)]
    pub actions: Vec<ActionSpec>,
    /// Connections `hub serve --sandbox` creates so a new user can try the connector offline.
    #[serde(default)]
    pub sandbox: Vec<SandboxPreset>,
}

/// A connection preset filled from the sandbox's announcement JSON (API.md, `hub sandbox`).
/// Values are templates: `{/json/pointer}` is replaced by the announcement's value at that
/// pointer, e.g. `{/kintone}` or `{/credentials/kintone/apps/0/api_token}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxPreset {
    pub name: Text,
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub credentials: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuthSpec {
    None,
    ApiToken,
    Password,
    /// The hub runs the authorization-code flow. URLs may hold `{setting_key}` placeholders that
    /// the hub fills from the connection's settings (data centre, sandbox base URL).
    OAuth2 {
        authorize_url: String,
        token_url: String,
        scopes: Vec<String>,
        /// Extra query parameters for the authorize URL (e.g. `access_type=offline`).
        #[serde(default)]
        extra_authorize_params: Vec<(String, String)>,
    },
}

impl AuthSpec {
    pub fn kind_name(&self) -> &'static str {
        match self {
            AuthSpec::None => "none",
            AuthSpec::ApiToken => "api_token",
            AuthSpec::Password => "password",
            AuthSpec::OAuth2 { .. } => "oauth2",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingField {
    pub key: String,
    pub label: Text,
    pub kind: SettingKind,
    #[serde(default)]
    pub required: bool,
    /// Regular expression the value must match, checked by the hub before the connector sees it.
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub help: Option<Text>,
    #[serde(default)]
    pub default: Option<String>,
    /// Where the connector sends its requests (a URL, domain, host or data centre). The hub binds
    /// a connection's stored secrets to these settings: changing one needs the credentials entered
    /// again in the same change (OAuth tokens are dropped), and link-local / cloud-metadata
    /// addresses are refused. Absent in older manifests: `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub endpoint: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SettingKind {
    Text,
    Url,
    Number,
    Bool,
    Secret,
    Path,
    Select {
        options: Vec<SelectOption>,
    },
    /// A file layout kept as JSON text, `{"object id": {"column header": "field id", …}, …}` in
    /// column order (or an object's long form `{"name", "key", "columns": {…}, "types"}`): the
    /// hub's pages edit it as a table of columns (object, header, field, order) and store the
    /// same text. The value is a string like [`SettingKind::Text`].
    ColumnLayout,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectOption {
    pub value: String,
    pub label: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub id: String,
    pub label: Text,
    /// What the action does, shown beside its button on the connection page.
    #[serde(default)]
    pub help: Option<Text>,
    /// The form the connection page renders for the action's input (`{key: value}`); empty for
    /// an action without input. Secret fields are never echoed back into the page.
    #[serde(default)]
    pub inputs: Vec<SettingField>,
    /// Not offered on the connection page (called by the hub or an agent, e.g. `receive_file`).
    #[serde(default)]
    pub hidden: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest page `read` returns.
    pub read_page_size: u32,
    /// Largest batch `write` accepts.
    pub write_batch_size: u32,
    /// Calls the hub may have in flight at once for one connection.
    pub max_concurrency: u32,
    /// Steady request rate the hub keeps under, per connection.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    #[serde(default)]
    pub daily_quota: Option<DailyQuota>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            read_page_size: 100,
            write_batch_size: 100,
            max_concurrency: 1,
            requests_per_second: None,
            daily_quota: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyQuota {
    pub requests: u64,
    /// What the quota is counted per: `app`, `org`, `tenant`.
    pub per: String,
    /// Local time the count resets, e.g. `09:00+09:00`.
    #[serde(default)]
    pub resets_at: Option<String>,
}
