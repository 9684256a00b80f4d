//! The hub's domain: connections, flows, runs, tokens and inquiries in the shapes of API.md
//! (snake_case JSON, ids as strings). The store persists them, core applies the rules, the web shows them.

use connector_sdk::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

mod accounts;
mod history;

pub use accounts::{Session, User};
pub use history::{DayCount, PendingRecord, RunFilter, RunKind, RunRequest, RunStats};

pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[derive(Debug, Clone)]
pub struct NewConnection {
    pub connector_id: String,
    pub name: String,
    pub settings: Map<String, Value>,
    pub registration_number: String,
    pub phone: String,
    pub credentials: BTreeMap<String, Secret>,
    pub refresh_token: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// The last check (接続テスト) or run that used it reached the system.
    Ok,
    /// Never checked nor used since it was saved, or its endpoint / credentials changed since:
    /// 未確認 (never 正常 without a check).
    Unchecked,
    /// A person must sign in again (invalid_grant, revoked consent): 再認証が必要.
    Reauthorize,
    Error,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Ok => "ok",
            ConnectionStatus::Unchecked => "unchecked",
            ConnectionStatus::Reauthorize => "reauthorize",
            ConnectionStatus::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "reauthorize" => ConnectionStatus::Reauthorize,
            "error" => ConnectionStatus::Error,
            "ok" => ConnectionStatus::Ok,
            _ => ConnectionStatus::Unchecked,
        }
    }
}

/// What API answers say about a connection's token: never the token itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenStatus {
    /// `none` (not an OAuth connection or no token yet), `valid`, `expired`, `reauthorize`.
    pub status: &'static str,
    pub expires_at: Option<Millis>,
    pub refreshed_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub connector_id: String,
    pub name: String,
    pub settings: Map<String, Value>,
    pub registration_number: String,
    pub phone: String,
    /// One status everywhere (dashboard, connection page, tokens page, API): from the last
    /// check or run that used the connection, at `checked_at`.
    pub status: ConnectionStatus,
    pub status_message: Option<String>,
    /// When `status` was found (none while `unchecked`).
    pub checked_at: Option<Millis>,
    pub token: TokenStatus,
    /// Keys of the stored credentials (never the values), so a form can say "set".
    pub credential_keys: Vec<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Decrypted secrets of one connection, for the plugin host only.
#[derive(Debug, Clone, Default)]
pub struct ConnectionSecrets {
    pub credentials: BTreeMap<String, Secret>,
    pub access_token: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub token_expires_at: Option<Millis>,
}

#[derive(Debug, Clone, Default)]
pub struct ConnectionPatch {
    pub name: Option<String>,
    pub settings: Option<Map<String, Value>>,
    pub registration_number: Option<String>,
    pub phone: Option<String>,
    /// Replaces the given keys; other stored credentials stay.
    pub credentials: Option<BTreeMap<String, Secret>>,
    /// The stored OAuth tokens no longer apply (an endpoint setting changed): the access token
    /// is dropped, and the refresh token too unless `refresh_token` replaces it; without one
    /// the connection needs signing in again (`reauthorize`, with `tokens_dropped_message`).
    pub drop_tokens: bool,
    pub tokens_dropped_message: Option<String>,
    /// A refresh token given directly (OAuth): replaces the stored one, drops the access token.
    pub refresh_token: Option<Secret>,
    /// Where the connection points changed (an endpoint setting): its status goes back to
    /// `unchecked` (as it does with any new credential).
    pub endpoint_changed: bool,
}

/// One pair of a connection's user map: a user as that system names it, and the login name to
/// write in the other system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPair {
    /// The user as this connection's system names it (id or email).
    pub from: String,
    /// The login name to write in the other system.
    pub to: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    #[default]
    OneWay,
    TwoWay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    #[default]
    SourceWins,
    TargetWins,
    NewestWins,
    FieldMerge,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub connection: String,
    pub object: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldMapping {
    pub from: String,
    pub to: String,
    /// A transform name (`trim`, `nfkc`…) or an object with parameters; see the sync engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    #[default]
    None,
    Nfkc,
    CompanyName,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchKeySpec {
    pub source: String,
    pub target: String,
    #[serde(default)]
    pub normalize: Normalize,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filters {
    #[serde(default = "yes")]
    pub skip_private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_within_days: Option<u32>,
    /// Values of the source object's `read_options` (a calendar's date range); an option left
    /// out follows the connection's setting.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub source_options: BTreeMap<String, String>,
    /// The same for the target object, read by two-way flows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_options: BTreeMap<String, String>,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            skip_private: true,
            modified_within_days: None,
            source_options: BTreeMap::new(),
            target_options: BTreeMap::new(),
        }
    }
}

/// What a match key made of several fields does with a record whose part is blank (the seed's
/// people rule: 会社名 blank → the person's name for both; 担当者名 blank → the company's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BlankKeyParts {
    /// A blank part takes the first non-blank part's value as written, before each part is
    /// normalised by its own key's normalizer (the same on both sides).
    #[default]
    UseOther,
    /// A record with a blank part is neither matched nor created (counted as skipped).
    Skip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowOptions {
    #[serde(default = "yes")]
    pub create_missing: bool,
    /// Blank parts of a match key of several fields; a record with every part blank is never
    /// matched or created (skipped) either way.
    #[serde(default)]
    pub blank_key_parts: BlankKeyParts,
    #[serde(default)]
    pub propagate_deletes: bool,
    /// Write-back flows with a lookup (`lookup` / `lookup_reverse`): a value no link resolves
    /// registers the missing parent record in the flow the lookup names, links it there and
    /// writes the record to it (seed 004's 顧客自動登録). Off: the record fails `lookup_missing`.
    #[serde(default = "yes")]
    pub register_missing_parent: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_max_records: Option<u64>,
    /// A run that failed for a reason that may pass (rate limit, network) is retried this many times.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// First retry delay; doubled for each further attempt.
    #[serde(default = "default_retry_delay")]
    pub retry_delay_secs: u64,
}

fn default_retries() -> u32 {
    3
}

fn default_retry_delay() -> u64 {
    60
}

impl Default for FlowOptions {
    fn default() -> Self {
        FlowOptions {
            create_missing: true,
            blank_key_parts: BlankKeyParts::UseOther,
            propagate_deletes: false,
            register_missing_parent: true,
            initial_max_records: None,
            max_retries: default_retries(),
            retry_delay_secs: default_retry_delay(),
        }
    }
}

pub const DEFAULT_TIMEZONE: &str = "Asia/Tokyo";

fn default_tz() -> String {
    DEFAULT_TIMEZONE.to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum MissedPolicy {
    /// An occurrence missed while no hub was running is run once when one starts again.
    #[default]
    RunOnce,
    /// It is recorded as skipped.
    Skip,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub cron: String,
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// Do not fire on Saturdays and Sundays (in the schedule's time zone).
    #[serde(default)]
    pub skip_weekends: bool,
    /// Do not fire on Japanese public holidays.
    #[serde(default)]
    pub skip_holidays: bool,
    #[serde(default)]
    pub missed: MissedPolicy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    #[default]
    Failure,
    /// Failures, partial runs and successes.
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    #[default]
    Slack,
    Teams,
    Chatwork,
    /// The run as JSON.
    Generic,
}

/// Where to post run results. `url` and `token` are secrets: stored encrypted apart from the
/// flow, shown as "[REDACTED]" in answers; sending "[REDACTED]" back keeps the stored ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    #[serde(default)]
    pub format: WebhookFormat,
    #[serde(default)]
    pub url: Secret,
    /// Chatwork API token (sent as X-ChatWorkToken).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Notify {
    #[serde(default)]
    pub on: NotifyOn,
    /// Mail recipients (needs the hub's SMTP settings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Webhook>,
}

/// A flow as API.md describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSpec {
    pub name: String,
    pub source: Endpoint,
    pub target: Endpoint,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub conflict: ConflictPolicy,
    #[serde(default)]
    pub mapping: Vec<FieldMapping>,
    #[serde(default)]
    pub match_keys: Vec<MatchKeySpec>,
    #[serde(default)]
    pub filters: Filters,
    #[serde(default)]
    pub options: FlowOptions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Notify>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub id: String,
    pub spec: FlowSpec,
    pub next_fire_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Manual,
    Schedule,
    Retry,
    Api,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Retry => "retry",
            Trigger::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "manual" => Trigger::Manual,
            "schedule" => Trigger::Schedule,
            "retry" => Trigger::Retry,
            "api" => Trigger::Api,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Partial,
    Failed,
    Interrupted,
    /// A scheduled occurrence not run because another run of the flow was active.
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "success" => RunStatus::Success,
            "partial" => RunStatus::Partial,
            "failed" => RunStatus::Failed,
            "interrupted" => RunStatus::Interrupted,
            "skipped" => RunStatus::Skipped,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running)
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub read: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Records read and written all the same that a person should look at ([`RunWarning`]);
    /// they never fail a run.
    #[serde(default)]
    pub warnings: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunError {
    pub record: String,
    /// `source` or `target`.
    pub side: String,
    pub code: String,
    pub message: String,
    /// How a person knows the record: its title field's value as read (会社名, `Account_Name`),
    /// when the object names one and the run read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The record's page in its own system (the object's `record_url` for `record`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The field the refusal names, and the value that was sent for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A record the run read and handled that a person should look at (a 外字 kept as a
/// private-use character): worded from the catalogue by `code` and `params`, `message` being
/// the connector's own text. Not a failure: never pending, never retried.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunWarning {
    pub record: String,
    /// `source` or `target`.
    pub side: String,
    pub code: String,
    #[serde(default)]
    pub params: std::collections::BTreeMap<String, String>,
    pub message: String,
    /// The record's title field's value as read ([`RunError::title`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub id: String,
    pub flow_id: String,
    pub trigger: Trigger,
    pub status: RunStatus,
    pub queued_at: Millis,
    pub started_at: Option<Millis>,
    pub finished_at: Option<Millis>,
    pub scheduled_for: Option<Millis>,
    pub attempt: i64,
    pub counts: RunCounts,
    pub message: Option<String>,
    /// Records the run expects to read, when its source told at the first page (live progress).
    pub expected_read: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewInquiry {
    pub company: String,
    pub name: String,
    pub email: String,
    pub registration_number: String,
    pub connector_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inquiry {
    pub id: String,
    #[serde(flatten)]
    pub fields: NewInquiry,
    pub created_at: Millis,
    /// `pending` (not tried yet, or no support address is configured), `sent`, `failed`.
    pub delivery_status: String,
    /// Delivery attempts made so far.
    pub delivery_attempts: i64,
    /// Why the last attempt failed.
    pub delivery_error: Option<String>,
    pub delivered_at: Option<Millis>,
    /// When a failed delivery is tried again (none: no more automatic retries).
    pub next_attempt_at: Option<Millis>,
    /// What went out already (`support_mail`, `support_webhook`, `ack`), comma-separated.
    #[serde(skip)]
    pub delivered_parts: String,
}

/// The outcome of one delivery attempt of an inquiry.
#[derive(Debug, Clone, PartialEq)]
pub struct InquiryAttempt {
    /// Everything that has gone out so far, this attempt included.
    pub delivered_parts: String,
    /// `None`: delivered; else why not.
    pub error: Option<String>,
    /// After a failure: when to try again (none: no more automatic retries).
    pub next_attempt_at: Option<Millis>,
}

/// An API token as listed (never its value). `role` is `admin`, `operator` or `read_only`
/// (hub-core's `Role` reads it; a value it does not know counts as the least privileged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: Millis,
    pub last_used_at: Option<Millis>,
    /// After this instant the token answers 401; `None`: never expires.
    pub expires_at: Option<Millis>,
    /// When it was revoked (it then answers 401); a revoked token stays listed.
    pub revoked_at: Option<Millis>,
}

/// A token just made: its id and its value, which is visible only now.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiToken {
    pub id: String,
    pub token: String,
}

impl ApiTokenInfo {
    /// Neither revoked nor expired at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}
