//! The one error type of the hub's services. The web layer maps it to HTTP in one place
//! (`web::error`); the CLI prints it.

use connector_sdk::ConnectorError;
use hub_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Bad input: names the field (400).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Well-formed but not acceptable (422): an invalid cron expression, an unknown field.
    #[error("{field}: {message}")]
    Unprocessable { field: String, message: String },
    /// Well-formed but refused (422) with a code of its own (`invalid_mapping`,
    /// `connection_unreachable`…): names the field, says it in Japanese and English.
    #[error("{field}: {message}")]
    Refused {
        code: &'static str,
        field: String,
        message: String,
        message_ja: String,
    },
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    /// The state forbids it now (409): `already_running`, `in_use`.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The connector or the external system refused or failed.
    #[error("connector error: {0}")]
    Connector(ConnectorError),
    #[error(transparent)]
    Store(StoreError),
}

impl HubError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        HubError::Unprocessable {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn refused(
        code: &'static str,
        field: impl Into<String>,
        message_ja: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        HubError::Refused {
            code,
            field: field.into(),
            message: message.into(),
            message_ja: message_ja.into(),
        }
    }
}

impl From<StoreError> for HubError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => HubError::NotFound { what, id },
            StoreError::AlreadyRunning { flow } => HubError::Conflict {
                code: "already_running",
                message: format!(
                    "flow '{flow}' already has a queued or running run; wait for it to finish"
                ),
            },
            StoreError::Conflict(message) => HubError::Conflict {
                code: "conflict",
                message,
            },
            other => HubError::Store(other),
        }
    }
}

impl From<ConnectorError> for HubError {
    fn from(e: ConnectorError) -> Self {
        HubError::Connector(e)
    }
}

pub type HubResult<T> = Result<T, HubError>;
