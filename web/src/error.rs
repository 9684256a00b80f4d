//! The one place errors become HTTP: `{"error": {"code", "message", "field"?}}` with a fitting
//! status for the API, and the status of a UI page that went wrong ([`PageFault`]: the pages
//! name what went wrong, this file alone says which status that is). Internal details are
//! logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use connector_sdk::{ConnectorError, ErrorKind};
use hub_core::HubError;
use hub_messages::Lang;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_input".into(),
            message: format!("{field}: {}", message.into()),
            field: Some(field),
        }
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send 'Authorization: Bearer TOKEN' with a token that is neither expired nor revoked; create one with `hub token create NAME`",
        )
    }

    /// A UI endpoint answering JSON (a run's progress) asked without a signed-in session: in
    /// the page's language, since the page shows it.
    pub fn sign_in_first(lang: Lang) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            hub_messages::t(lang, "err.sign_in_first"),
        )
    }

    /// A body over the route's limit: 413, so a client knows that shortening it will help.
    pub fn too_large() -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "the request body is larger than this endpoint accepts; send less",
        )
    }

    /// A valid token whose role may not use this route: 403 `forbidden`, naming both roles.
    pub fn forbidden(have: &str, needs: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this token's role ({have}) may not do this: it needs {needs} or above"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::Invalid { field, message } => {
                ApiError::bad_request(field, message.to_string())
            }
            HubError::Unprocessable { field, message } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "unprocessable".into(),
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            // Both languages in one message, as in the run history: "ja / en".
            HubError::Refused {
                code,
                field,
                message,
            } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: code.into(),
                message: format!("{field}: {} / {message}", message.render_full(Lang::Ja)),
                field: Some(field),
            },
            HubError::NotFound { what, id } => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} '{id}' not found"),
            ),
            HubError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message.to_string())
            }
            HubError::Connector(c) => connector_error(&c),
            HubError::Store(s) => {
                tracing::error!(error = %s, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the hub could not complete the request; see the hub's log",
                )
            }
        }
    }
}

/// A connector's error as HTTP. What a person can fix (settings, data, credentials refused or
/// missing, a sign-in to repeat, something the connector cannot do) is 4xx; only the connected
/// system failing (network, its 5xx, a connector crash) is 502.
fn connector_error(c: &ConnectorError) -> ApiError {
    let status = match c.kind {
        ErrorKind::InvalidSettings
        | ErrorKind::InvalidData
        | ErrorKind::AuthFailed
        | ErrorKind::AuthExpired
        | ErrorKind::PermissionDenied
        | ErrorKind::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::RateLimited | ErrorKind::QuotaExceeded => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new(status, c.code.clone(), c.message.clone())
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(f) = self.field {
            error["field"] = json!(f);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What went wrong on a UI page, as the page names it; its words are a catalogue key carried
/// beside it (`ui::render::PageError`, or the errors shown next to a form's fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFault {
    /// A form came back with errors next to its fields.
    InvalidForm,
    /// Signing in was refused (wrong name or password), or the request needs a signed-in user.
    SignInRefused,
    /// The user's role may not do this, or the form's CSRF token is missing or stale.
    Forbidden,
    /// The thing asked for does not exist (or is not offered, like a hidden action).
    NotFound,
    /// The state forbids it now (a connection its manifest no longer describes).
    Conflict,
    /// The request body is larger than the page accepts.
    TooLarge,
    /// Too many failed sign-ins: wait and try again.
    TooManyAttempts,
    /// The hub failed (a page that cannot be rendered, a request without its context).
    Internal,
    /// The database does not answer.
    Unavailable,
}

impl PageFault {
    pub fn status(self) -> StatusCode {
        match self {
            PageFault::InvalidForm => StatusCode::BAD_REQUEST,
            PageFault::SignInRefused => StatusCode::UNAUTHORIZED,
            PageFault::Forbidden => StatusCode::FORBIDDEN,
            PageFault::NotFound => StatusCode::NOT_FOUND,
            PageFault::Conflict => StatusCode::CONFLICT,
            PageFault::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PageFault::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            PageFault::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            PageFault::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A page's status: 200 unless something went wrong.
    pub fn status_of(fault: Option<PageFault>) -> StatusCode {
        fault.map_or(StatusCode::OK, PageFault::status)
    }

    /// A form page's fault: `InvalidForm` when it shows errors, else none.
    pub fn form(has_errors: bool) -> Option<PageFault> {
        has_errors.then_some(PageFault::InvalidForm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(kind: ErrorKind) -> StatusCode {
        ApiError::from(HubError::Connector(ConnectorError::new(kind, "x"))).status
    }

    /// A connection without a refresh token (`token/refresh`) or with refused credentials is the
    /// caller's to fix: 422, not a server error; the connected system failing stays 502.
    #[test]
    fn connector_errors_a_person_can_fix_are_4xx() {
        for kind in [
            ErrorKind::AuthFailed,
            ErrorKind::AuthExpired,
            ErrorKind::PermissionDenied,
            ErrorKind::InvalidSettings,
            ErrorKind::InvalidData,
            ErrorKind::Unsupported,
        ] {
            assert_eq!(
                status_of(kind),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{kind:?}"
            );
        }
        assert_eq!(status_of(ErrorKind::Conflict), StatusCode::CONFLICT);
        assert_eq!(status_of(ErrorKind::Transient), StatusCode::BAD_GATEWAY);
        assert_eq!(status_of(ErrorKind::Internal), StatusCode::BAD_GATEWAY);
    }
}
