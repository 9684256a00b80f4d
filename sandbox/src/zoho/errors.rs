//! Zoho CRM's error shape (reference §9): `{"code","details","message","status":"error"}`,
//! used whole for request errors and per record inside `data[]` for bulk writes.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct ZohoError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ZohoError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ZohoError {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn body(&self) -> Value {
        json!({
            "code": self.code,
            "details": self.details,
            "message": self.message,
            "status": "error",
        })
    }

    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "invalid oauth token",
        )
    }

    pub fn auth_failure() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILURE",
            "Authentication failed",
        )
    }

    pub fn scope_mismatch(scope: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "OAUTH_SCOPE_MISMATCH",
            "invalid oauth scope to access this URL",
        )
        .details(json!({"required_scope": scope}))
    }

    pub fn invalid_module(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_MODULE",
            "the module name given seems to be invalid",
        )
        .details(json!({"resource_path_index": 0, "module": name}))
    }

    pub fn missing_param(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "REQUIRED_PARAM_MISSING",
            format!("required param `{param}` is missing"),
        )
        .details(json!({"param": param}))
    }

    pub fn invalid_param(param: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_DATA", message).details(json!({"param": param}))
    }

    pub fn limit(param: &str, limit: usize, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED", message)
            .details(json!({"param": param, "limit": limit}))
    }

    pub fn not_found_url() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "INVALID_URL_PATTERN",
            "Please check if the URL trying to access is a correct one",
        )
    }

    pub fn bad_method() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST_METHOD",
            "The http request method type is not a valid one",
        )
    }
}

impl IntoResponse for ZohoError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// `application/json` exactly: the SDKs pick their parser from the Content-Type (§11).
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

pub fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// Injected faults (crate::control) in the CRM's error shape.
pub fn render_crm_fault(status: StatusCode, kind: &str) -> Response {
    let code = match status {
        StatusCode::TOO_MANY_REQUESTS => "TOO_MANY_REQUESTS",
        _ => "INTERNAL_ERROR",
    };
    ZohoError::new(status, code, format!("sandbox injected fault: {kind}")).into_response()
}

/// Injected faults on the accounts server, in its `{"error": …}` shape.
pub fn render_accounts_fault(status: StatusCode, kind: &str) -> Response {
    json_response(
        status,
        &json!({"error": "server_error", "error_description": format!("sandbox injected fault: {kind}")}),
    )
}

pub async fn crm_not_found() -> Response {
    ZohoError::not_found_url().into_response()
}

pub async fn crm_bad_method() -> Response {
    ZohoError::bad_method().into_response()
}
