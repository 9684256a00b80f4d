//! Domino's answers that are not successes (reference §3: `{"code","text","message"}`, only
//! `code` and `text`, or no body at all) and the per-record failures of a write, as the SDK
//! errors the hub acts on, in Japanese and English.

use connector_sdk::{ConnectorError, ErrorKind};
use serde_json::Value;

use crate::manifest::DATABASE;

fn message_of(body: &Value) -> String {
    body.get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The item DAS names in a validation failure ("Document failed validation: LastName is
/// required."), when it names one.
fn field_in(message: &str) -> Option<String> {
    let rest = message.split_once(':')?.1.trim();
    let word = rest.split_whitespace().next()?;
    let word = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '$' && c != '_');
    (!word.is_empty() && rest.contains("required")).then(|| word.to_string())
}

/// A whole answer's failure; `doing` says what was asked.
pub fn status_error(
    status: u16,
    body: &Value,
    retry_after: Option<&str>,
    doing: &str,
) -> ConnectorError {
    let said = message_of(body);
    let lower = said.to_ascii_lowercase();
    let (kind, en, ja): (ErrorKind, String, String) = match status {
        400 => (
            ErrorKind::InvalidData,
            format!("Domino refused the request while {doing}"),
            "Domino が要求を受け付けませんでした".into(),
        ),
        401 => (
            ErrorKind::AuthFailed,
            "Domino refused the user name or password".into(),
            "Domino がユーザー名またはパスワードを受け付けませんでした".into(),
        ),
        403 if lower.contains("for this database") => (
            ErrorKind::PermissionDenied,
            "Domino Access Services is not enabled for the mail database: set Properties → Advanced → Allow Domino Data Service to \"Views and documents\"".into(),
            "メールデータベースで Domino アクセスサービスが有効になっていません。データベースのプロパティ → 詳細設定で「表示と編集」を選択してください".into(),
        ),
        403 if lower.contains("for this view") => (
            ErrorKind::PermissionDenied,
            format!("Domino Access Services is not enabled for the view while {doing}: enable \"Allow Domino Data Service operations\" in the view's properties"),
            "ビューで Domino アクセスサービスが有効になっていません。ビューのプロパティ → 詳細設定で「Domino データサービスの操作を許可する」を有効にしてください".into(),
        ),
        403 if said.is_empty() => (
            ErrorKind::PermissionDenied,
            format!("the Domino server refused while {doing}: enable the Data and Calendar services in the server document (Internet Protocols → Domino Web Engine → Domino Access Services)"),
            "サーバーで Domino アクセスサービス(データ、カレンダー)が有効になっていません。サーバー文書のインターネットプロトコル → Domino Web Engine で有効にしてください".into(),
        ),
        403 => (
            ErrorKind::PermissionDenied,
            format!("Domino denied access while {doing}"),
            "Domino へのアクセス権がありません".into(),
        ),
        404 if lower.contains("database") => (
            ErrorKind::InvalidSettings,
            "the mail database does not exist on the server: check its path".into(),
            "メールデータベースがサーバーにありません。パスを確認してください".into(),
        ),
        404 if lower.contains("view") => (
            ErrorKind::NotFound,
            format!("the view does not exist in the mail database while {doing}"),
            "メールデータベースにビューがありません".into(),
        ),
        404 => (
            ErrorKind::NotFound,
            format!("not found in Domino while {doing}"),
            "Domino に見つかりません(削除された可能性があります)".into(),
        ),
        409 | 412 => (
            ErrorKind::Conflict,
            format!("the document was changed by someone else while {doing}"),
            "ほかのユーザーが文書を変更したため、書き込めませんでした".into(),
        ),
        429 => (
            ErrorKind::RateLimited,
            "too many requests to Domino".into(),
            "Domino へのリクエストが多すぎます。少し待ってから再実行します".into(),
        ),
        s if s >= 500 => (
            ErrorKind::Transient,
            format!("Domino failed while {doing}"),
            "Domino でエラーが発生しました。しばらくしてから再実行します".into(),
        ),
        _ => (
            ErrorKind::Internal,
            format!("Domino answered unexpectedly while {doing}"),
            "Domino から予期しない応答がありました".into(),
        ),
    };
    let message = if said.is_empty() {
        format!("{en} (HTTP {status})")
    } else {
        format!("{en} (HTTP {status}: {said})")
    };
    let mut err = ConnectorError::new(kind, message)
        .with_code(format!("HTTP_{status}"))
        .with_ja(format!("{ja}(HTTP {status})"));
    if kind == ErrorKind::InvalidSettings {
        err = err.with_field(DATABASE);
    }
    if let Some(f) = field_in(&said).filter(|_| status == 400) {
        err = err.with_field(f);
    }
    if kind == ErrorKind::RateLimited {
        if let Some(secs) = retry_after.and_then(|s| s.trim().parse::<u64>().ok()) {
            err = err.with_retry_after_ms(secs.saturating_mul(1000));
        }
    }
    err
}

pub fn unknown_object(object: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::NotFound,
        format!("the Notes connector has no object '{object}' (contacts, todos, events)"),
    )
    .with_ja(format!(
        "IBM Notes コネクタにオブジェクト「{object}」はありません(contacts、todos、events)"
    ))
}

pub fn unknown_field(object: &str, field: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("{object} has no field '{field}'"),
    )
    .with_code("unknown_field")
    .with_ja(format!("{object} に項目「{field}」はありません"))
    .with_field(field)
}

pub fn read_only(field: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("field '{field}' is computed by Notes and cannot be written"),
    )
    .with_code("read_only_field")
    .with_ja(format!(
        "項目「{field}」は Notes が計算するため書き込めません"
    ))
    .with_field(field)
}

pub fn bad_value(field: &str, expected: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("the value of '{field}' is not {expected}"),
    )
    .with_code("bad_value")
    .with_ja(format!("項目「{field}」の値が正しくありません({expected})"))
    .with_field(field)
}

pub fn missing(field: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("required field '{field}' is missing"),
    )
    .with_code("required")
    .with_ja(format!("必須項目「{field}」が入力されていません"))
    .with_field(field)
}

pub fn not_found(id: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::NotFound,
        format!("record {id} does not exist in Notes (deleted, or not readable by this user)"),
    )
    .with_ja(format!(
        "Notes にレコード {id} がありません(削除されたか、このユーザーには読めません)"
    ))
}

pub fn no_target() -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        "neither an id nor a match key: nothing says which record to change",
    )
    .with_ja("更新・削除するレコードを特定できません(ID も照合キーもありません)")
}

pub fn no_match(field: &str, value: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::NotFound,
        format!("no Notes record has {field} = {value}"),
    )
    .with_ja(format!(
        "{field} が「{value}」のレコードは Notes にありません"
    ))
    .with_field(field)
}

pub fn many_matches(field: &str, value: &str, n: usize) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Conflict,
        format!("{n} Notes records have {field} = {value}; cannot choose one"),
    )
    .with_code("ambiguous_match")
    .with_ja(format!(
        "{field} が「{value}」のレコードが {n} 件あり、更新先を決められません"
    ))
    .with_field(field)
}

/// The record changed after the version the hub expected.
pub fn changed_since(id: &str, expected: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Conflict,
        format!("record {id} was changed in Notes after {expected}"),
    )
    .with_code("HTTP_412")
    .with_ja(format!(
        "Notes のレコード {id} は {expected} 以降に変更されています"
    ))
}

/// An answer without what it must carry (a 201 without `Location`…).
pub fn malformed(what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Internal,
        format!("Domino answered without {what}"),
    )
    .with_code("malformed_answer")
    .with_ja(format!("Domino の応答に {what} がありません"))
}

pub fn bad_cursor() -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidSettings,
        "the saved read position is not a Notes cursor of this version for this object; reset the flow's cursor",
    )
    .with_code("bad_cursor")
    .with_ja("保存された読み取り位置を解釈できません。連携サービスの読み取り位置をリセットしてください")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn das_answers_become_kinds_with_the_field() {
        let e = status_error(
            400,
            &json!({"code": 400, "text": "Bad Request", "message": "Document failed validation: LastName is required."}),
            None,
            "writing",
        );
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidData, Some("LastName"))
        );
        let e = status_error(412, &Value::Null, None, "writing");
        assert_eq!(e.kind, ErrorKind::Conflict);
        let e = status_error(
            403,
            &json!({"code": 403, "text": "Forbidden"}),
            None,
            "reading",
        );
        assert_eq!(e.kind, ErrorKind::PermissionDenied);
        assert!(e.message_ja.unwrap().contains("サーバー"));
        let e = status_error(
            404,
            &json!({"message": "Cannot open database mail/x.nsf."}),
            None,
            "reading",
        );
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidSettings, Some("database"))
        );
        let e = status_error(429, &Value::Null, Some("3"), "reading");
        assert_eq!(e.retry_after_ms, Some(3000));
        assert_eq!(
            status_error(503, &Value::Null, None, "x").kind,
            ErrorKind::Transient
        );
    }
}
