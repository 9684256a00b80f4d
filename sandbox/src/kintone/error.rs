//! kintone's error body (reference §9): `{"code","id","message","errors"}`, messages in Japanese
//! as for a Japanese-language user.

use super::assumed;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{json, Map, Value};

#[derive(Debug, Clone)]
pub struct KError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `{"record.会社名.value": {"messages": ["必須です。"]}}`
    pub errors: Option<Map<String, Value>>,
}

pub type KResult<T> = Result<T, KError>;

impl KError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        KError {
            status,
            code: code.to_string(),
            message: message.into(),
            errors: None,
        }
    }

    pub fn of(pair: (StatusCode, &str), message: impl Into<String>) -> Self {
        Self::new(pair.0, pair.1, message)
    }

    /// CB_VA01 with one entry in `errors`.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Map::new();
        errors.insert(key.into(), json!({"messages": [message.into()]}));
        Self::invalid_all(errors)
    }

    /// CB_VA01 with several `errors` entries.
    pub fn invalid_all(errors: Map<String, Value>) -> Self {
        KError {
            status: StatusCode::BAD_REQUEST,
            code: "CB_VA01".into(),
            message: "入力内容が正しくありません。".into(),
            errors: Some(errors),
        }
    }

    pub fn query(message: impl Into<String>) -> Self {
        Self::invalid("query", message)
    }

    pub fn login_required() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "CB_AU01",
            "ログインしてください。",
        )
    }

    pub fn record_not_found(id: u64) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "GAIA_RE01",
            format!("指定したレコード（id: {id}）が見つかりません。"),
        )
    }

    pub fn revision_conflict(id: u64, expected: u64) -> Self {
        Self::of(
            assumed::REVISION_CONFLICT,
            format!(
                "指定したリビジョン（{expected}）は最新ではありません。ほかのユーザーがレコード（id: {id}）を更新した可能性があります。"
            ),
        )
    }

    pub fn bad_json() -> Self {
        Self::of(
            assumed::INVALID_JSON,
            "リクエストのJSONの形式が正しくありません。",
        )
    }

    /// The JSON of this error (also used inside bulkRequest results).
    pub fn body(&self) -> Value {
        let mut b = json!({
            "code": self.code,
            "id": error_id(),
            "message": self.message,
        });
        if let Some(e) = &self.errors {
            b["errors"] = Value::Object(e.clone());
        }
        b
    }
}

impl IntoResponse for KError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    r
}

/// Renders an injected fault (crate::control) as a kintone error.
pub fn render_fault(status: StatusCode, what: &str) -> Response {
    KError::new(
        status,
        assumed::fault_code(status),
        format!("サンドボックスが注入したエラーです（{what}）。"),
    )
    .into_response()
}

/// Like the real ids, e.g. `1505999166-1940353231`: for support requests, never reused.
fn error_id() -> String {
    let mut r = rand::thread_rng();
    format!(
        "{}-{}",
        r.gen_range(1_000_000_000u64..4_000_000_000),
        r.gen_range(1_000_000_000u64..4_000_000_000)
    )
}
