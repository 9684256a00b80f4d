//! Form bodies as ordered pairs: repeated names (mapping rows) keep their order, and a missing
//! checkbox reads as unchecked. The CSRF middleware has already checked and buffered the body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `key`, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn checked(&self, key: &str) -> bool {
        self.all(key)
            .iter()
            .any(|v| matches!(*v, "on" | "1" | "true" | "yes"))
    }

    /// Which submit button was pressed (`name="_action"`).
    pub fn action(&self) -> &str {
        self.get("_action")
    }
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| e.into_response())?;
        Ok(Form::parse(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_keep_order_and_checkboxes_read_as_flags() {
        let f = Form::parse(b"map_from=a&map_to=x&map_from=b&map_to=&ok=on&name=%E6%A0%AA");
        assert_eq!(f.all("map_from"), vec!["a", "b"]);
        assert_eq!(f.all("map_to"), vec!["x", ""]);
        assert!(f.checked("ok"));
        assert!(!f.checked("missing"));
        assert_eq!(f.get("name"), "株");
        assert_eq!(f.get("nothing"), "");
    }
}
