//! The one error type a connector returns. The kind tells the hub what to do next
//! (refresh a token, back off, give up, ask a person); the messages tell the user.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The settings are wrong (bad URL, unknown app): a person must fix them.
    InvalidSettings,
    /// Credentials refused: a person must re-enter or re-authorize.
    AuthFailed,
    /// The access token expired: the hub refreshes it and calls again.
    AuthExpired,
    PermissionDenied,
    NotFound,
    /// Too many requests: retry after `retry_after_ms` or with backoff.
    RateLimited,
    /// The daily quota is used up: retrying today will not help.
    QuotaExceeded,
    /// A network error or 5xx: retrying may help.
    Transient,
    /// The record changed since it was read.
    Conflict,
    /// The data was refused (unknown field, bad value, missing required field).
    InvalidData,
    Unsupported,
    /// A bug in the connector, a panic, a crash or a time-out.
    Internal,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidSettings => "invalid_settings",
            ErrorKind::AuthFailed => "auth_failed",
            ErrorKind::AuthExpired => "auth_expired",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::QuotaExceeded => "quota_exceeded",
            ErrorKind::Transient => "transient",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidData => "invalid_data",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorError {
    pub kind: ErrorKind,
    /// The API's own code where there is one (`GAIA_CO02`, `INVALID_TOKEN`), else the kind.
    pub code: String,
    /// English message for logs and the English UI. Must never contain a secret.
    pub message: String,
    /// Japanese message for the default UI.
    #[serde(default)]
    pub message_ja: Option<String>,
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
    /// The field the error is about, when the API says.
    #[serde(default)]
    pub field: Option<String>,
}

impl ConnectorError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            code: kind.as_str().to_string(),
            message: message.into(),
            message_ja: None,
            retry_after_ms: None,
            field: None,
        }
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = code.into();
        self
    }

    pub fn with_ja(mut self, message_ja: impl Into<String>) -> Self {
        self.message_ja = Some(message_ja.into());
        self
    }

    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Calling again later, unchanged, may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited | ErrorKind::Transient)
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ConnectorError {}
