//! `change_password`: after the user changed the Internet password in Domino, the new one is
//! checked by signing in with it and handed to the hub to store (`store_credentials`). DAS has
//! no endpoint that changes a password (see `assumed::SERVER_CHANGES_PASSWORD`).

use connector_sdk::{Connection, ConnectorError, ErrorKind, Secret};
use reqwest::blocking::Client;
use serde_json::{json, Value};

use crate::assumed;
use crate::http::{Api, Sessions};
use crate::manifest::{NEW_PASSWORD, PASSWORD};

pub fn change_password(
    client: &Client,
    sessions: &Sessions,
    conn: &Connection,
    input: &Value,
) -> Result<Value, ConnectorError> {
    let new = input
        .get(NEW_PASSWORD)
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::InvalidData,
                format!("enter the new password in '{NEW_PASSWORD}'"),
            )
            .with_ja("新しいパスワードを入力してください")
            .with_field(NEW_PASSWORD)
        })?;
    let api = Api::with_password(client, sessions, conn, Secret::new(new))?;
    // Signing in with the new password is the proof the server took it.
    match api.get(&["api", "data", "collections"], &[]) {
        Ok(answer) => {
            answer.ok("signing in with the new password")?;
        }
        Err(e) if e.kind == ErrorKind::AuthFailed => {
            return Err(ConnectorError::new(
                ErrorKind::AuthFailed,
                format!(
                    "Domino does not accept the new password for user '{}': change the Internet password in Domino first (Person document, or the Notes client), then enter it here",
                    api.user()
                ),
            )
            .with_code("new_password_refused")
            .with_ja(format!(
                "Domino がユーザー「{}」の新しいパスワードを受け付けません。先に Domino(個人文書または Notes クライアント)でインターネットパスワードを変更してから入力してください",
                api.user()
            ))
            .with_field(NEW_PASSWORD));
        }
        Err(e) => return Err(e),
    }
    let mut store = serde_json::Map::new();
    store.insert(PASSWORD.to_string(), Value::String(new.to_string()));
    Ok(json!({
        "changed": true,
        "server_changed": assumed::SERVER_CHANGES_PASSWORD,
        "message": {
            "ja": "新しいパスワードでサインインできました。保存したパスワードを更新しました",
            "en": "Signed in with the new password; the stored password was updated",
        },
        "store_credentials": store,
    }))
}
