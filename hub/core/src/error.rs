//! The one error type of the hub's services. The web layer maps it to HTTP in one place
//! (`web::error`); the CLI prints it.

use connector_sdk::ConnectorError;
use hub_messages::Message;
use hub_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Bad input: names the field (400).
    #[error("{field}: {message}")]
    Invalid { field: String, message: Message },
    /// Well-formed but not acceptable (422): an invalid cron expression, an unknown field.
    #[error("{field}: {message}")]
    Unprocessable { field: String, message: Message },
    /// Well-formed but refused (422) with a code of its own (`invalid_mapping`,
    /// `connection_unreachable`…): names the field.
    #[error("{field}: {message}")]
    Refused {
        code: &'static str,
        field: String,
        message: Message,
    },
    #[error("{what} '{id}' not found")]
    NotFound { what: &'static str, id: String },
    /// The state forbids it now (409): `already_running`, `in_use`.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: Message,
    },
    /// The connector or the external system refused or failed.
    #[error("connector error: {0}")]
    Connector(ConnectorError),
    #[error(transparent)]
    Store(StoreError),
}

impl HubError {
    pub fn invalid(field: impl Into<String>, message: Message) -> Self {
        HubError::Invalid {
            field: field.into(),
            message,
        }
    }

    pub fn unprocessable(field: impl Into<String>, message: Message) -> Self {
        HubError::Unprocessable {
            field: field.into(),
            message,
        }
    }

    pub fn refused(code: &'static str, field: impl Into<String>, message: Message) -> Self {
        HubError::Refused {
            code,
            field: field.into(),
            message,
        }
    }

    pub fn conflict(code: &'static str, message: Message) -> Self {
        HubError::Conflict { code, message }
    }

    /// What to tell the user, when the error has words of the hub's own.
    pub fn message(&self) -> Option<&Message> {
        match self {
            HubError::Invalid { message, .. }
            | HubError::Unprocessable { message, .. }
            | HubError::Refused { message, .. }
            | HubError::Conflict { message, .. } => Some(message),
            _ => None,
        }
    }
}

impl From<StoreError> for HubError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => HubError::NotFound { what, id },
            StoreError::AlreadyRunning { flow } => HubError::conflict(
                "already_running",
                Message::new("err.already_running").with("flow", flow),
            ),
            StoreError::Conflict(detail) => HubError::conflict(
                "conflict",
                Message::new("err.conflict").with("detail", detail),
            ),
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

/// A failure the hub itself words for the connector boundary (a worker that crashed, a token
/// endpoint that refused): a `ConnectorError` whose English and Japanese texts both come from
/// the catalogue, so every page shows it in its own language.
pub(crate) fn worded(kind: connector_sdk::ErrorKind, message: Message) -> ConnectorError {
    use hub_messages::Lang;
    ConnectorError::new(kind, message.render(Lang::En)).with_ja(message.render(Lang::Ja))
}
