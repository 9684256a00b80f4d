//! A JSON body extractor whose errors name the offending field (`settings.app: invalid type…`),
//! answered as 400 in the API's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ValidJson<T>(pub T);

impl<S, T> FromRequest<S> for ValidJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            return Err(ApiError::bad_request(
                "body",
                "send JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::bad_request("body", e.body_text())
            }
        })?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ValidJson)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "body".to_string()
                } else {
                    path
                };
                let inner = e.inner().to_string();
                // serde says "missing field `x`" at the parent's path: name the field itself.
                if let Some(missing) = inner
                    .strip_prefix("missing field `")
                    .and_then(|r| r.split('`').next())
                {
                    let full = if field == "body" {
                        missing.to_string()
                    } else {
                        format!("{field}.{missing}")
                    };
                    return ApiError::bad_request(full, "is required");
                }
                ApiError::bad_request(field, inner)
            })
    }
}
