//! The 奉行クラウド API's failures as the SDK errors the hub acts on: a whole call's HTTP status
//! (gateway body `{"statusCode","message"}`), and one import row's `messages`.

use connector_sdk::{ConnectorError, ErrorKind};
use serde_json::Value;

use crate::assumed::{self, Entity};
use crate::http::TokenSource;
use crate::manifest::{BASE_URL, FIXED_ACCESS_TOKEN, SUBSCRIPTION_KEY, TENANT_ID};

/// A whole-call failure. `token` says which token the call carried: an OAuth token that is
/// refused is refreshed by the hub (`auth_expired`), a fixed one needs a person (`auth_failed`).
pub fn status_error(
    status: u16,
    body: &Value,
    retry_after: Option<&str>,
    token: TokenSource,
) -> ConnectorError {
    let said = body
        .get(assumed::ERROR_MESSAGE)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let (kind, code, ja, field) = match status {
        401 if assumed::is_subscription_key_message(&said) => (
            ErrorKind::AuthFailed,
            "invalid_subscription_key",
            "サブスクリプションキーが正しくありません。奉行クラウド API の契約で発行されたキー（本番・検証環境で別）を確認してください",
            Some(SUBSCRIPTION_KEY),
        ),
        401 if token == TokenSource::Fixed => (
            ErrorKind::AuthFailed,
            "invalid_fixed_token",
            "固定アクセストークンが無効です。管理ポータルで発行し直すか、OBCiD でサインインしてください",
            Some(FIXED_ACCESS_TOKEN),
        ),
        401 => (
            ErrorKind::AuthExpired,
            "token_expired",
            "アクセストークンの有効期限が切れました",
            None,
        ),
        403 => (
            ErrorKind::PermissionDenied,
            "tenant_not_accessible",
            "この法人（テナント）にはアクセスできません。法人の設定と、サインインした OBCiD の権限を確認してください",
            Some(TENANT_ID),
        ),
        404 => (
            ErrorKind::NotFound,
            "not_found",
            "奉行クラウド API にこの機能がありません。API の URL と、契約している製品を確認してください",
            Some(BASE_URL),
        ),
        429 => (
            ErrorKind::RateLimited,
            "rate_limited",
            "奉行クラウド API の呼び出し回数の上限に達しました。少し待ってから再実行します",
            None,
        ),
        s if s >= 500 => (
            ErrorKind::Transient,
            "server_error",
            "奉行クラウドでエラーが発生しました。しばらくしてから再実行します",
            None,
        ),
        400 => (
            ErrorKind::InvalidData,
            "bad_request",
            "奉行クラウドが要求を受け付けませんでした",
            None,
        ),
        _ => (
            ErrorKind::Internal,
            "unexpected_status",
            "奉行クラウドから予期しない応答がありました",
            None,
        ),
    };
    let mut err = ConnectorError::new(
        kind,
        format!("奉行クラウド answered HTTP {status}: {said}")
            .trim_end_matches(": ")
            .to_string(),
    )
    .with_code(code)
    .with_ja(format!("{ja}（HTTP {status}）"));
    if let Some(f) = field {
        err = err.with_field(f);
    }
    if kind == ErrorKind::RateLimited {
        let secs = retry_after
            .and_then(|s| s.trim().parse::<u64>().ok())
            .or_else(|| assumed::seconds_in_message(&said));
        if let Some(secs) = secs {
            err = err.with_retry_after_ms(secs.saturating_mul(1000));
        }
    }
    err
}

/// One refused import row: its messages (Japanese, as 奉行 shows them) and the field the first
/// one names.
pub fn row_error(entity: &Entity, messages: &[String]) -> ConnectorError {
    let joined = if messages.is_empty() {
        "（理由なし）".to_string()
    } else {
        messages.join(" ")
    };
    let field = messages
        .iter()
        .find_map(|m| assumed::field_in_message(entity, m));
    let (kind, code) = if messages.iter().any(|m| assumed::is_already_exists(m)) {
        (ErrorKind::Conflict, "already_exists")
    } else if messages.iter().any(|m| assumed::is_not_registered(m)) {
        (ErrorKind::NotFound, "not_found")
    } else {
        (ErrorKind::InvalidData, "rejected")
    };
    let mut err = ConnectorError::new(
        kind,
        format!("奉行クラウド refused the {} row: {joined}", entity.en),
    )
    .with_code(code)
    .with_ja(format!(
        "奉行クラウドが{}を受け付けませんでした: {joined}",
        entity.ja
    ));
    if let Some(f) = field {
        err = err.with_field(f);
    }
    err
}

/// A field the object does not have, or one only the server writes.
pub fn bad_field(entity: &Entity, field: &str, read_only: bool) -> ConnectorError {
    let (en, ja) = if read_only {
        (
            format!(
                "field '{field}' of {} is set by 奉行クラウド and cannot be written",
                entity.en
            ),
            format!("項目「{field}」は奉行クラウドが設定する項目のため書き込めません"),
        )
    } else {
        (
            format!("{} has no field '{field}'", entity.en),
            format!("{}に項目「{field}」はありません", entity.ja),
        )
    };
    ConnectorError::new(ErrorKind::InvalidData, en)
        .with_code("unknown_field")
        .with_ja(ja)
        .with_field(field)
}

/// A value that cannot become the field's API type.
pub fn bad_value(field: &str, expected_en: &str, expected_ja: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("field '{field}' must be {expected_en}"),
    )
    .with_code("invalid_value")
    .with_ja(format!("項目「{field}」は{expected_ja}で指定してください"))
    .with_field(field)
}

/// An op that names no record and gives no code to create one with.
pub fn missing_code(entity: &Entity) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::InvalidData,
        format!("a new {} record needs a code (field 'code')", entity.en),
    )
    .with_code("missing_code")
    .with_ja(format!(
        "{}を登録するにはコード（code）が必要です",
        entity.ja
    ))
    .with_field(assumed::CODE)
}

/// Update or delete found no record.
pub fn no_record(entity: &Entity, what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::NotFound,
        format!("no {} record has {what}", entity.en),
    )
    .with_code("not_found")
    .with_ja(format!("{what} の{}は奉行クラウドにありません", entity.ja))
}

/// Create found the code already taken.
pub fn exists(entity: &Entity, code: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Conflict,
        format!("{} code {code} already exists", entity.en),
    )
    .with_code("already_exists")
    .with_ja(format!("{}コード {code} は既に登録されています", entity.ja))
    .with_field(assumed::CODE)
}

/// A match key found several records.
pub fn many_matches(entity: &Entity, field: &str, value: &str, n: usize) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Conflict,
        format!(
            "{n} {} records have {field} = {value}; cannot choose one",
            entity.en
        ),
    )
    .with_code("AMBIGUOUS_MATCH")
    .with_ja(format!(
        "{field} が「{value}」の{}が {n} 件あり、更新先を決められません",
        entity.ja
    ))
    .with_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assumed::CUSTOMERS;
    use serde_json::json;

    #[test]
    fn statuses_become_what_the_hub_acts_on() {
        let key = status_error(
            401,
            &json!({"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}),
            None,
            TokenSource::OAuth,
        );
        assert_eq!(
            (key.kind, key.field.as_deref()),
            (ErrorKind::AuthFailed, Some(SUBSCRIPTION_KEY))
        );
        let expired = status_error(
            401,
            &json!({"message": "Unauthorized. Access token has expired."}),
            None,
            TokenSource::OAuth,
        );
        assert_eq!(expired.kind, ErrorKind::AuthExpired);
        let fixed = status_error(
            401,
            &json!({"message": "Unauthorized."}),
            None,
            TokenSource::Fixed,
        );
        assert_eq!(fixed.kind, ErrorKind::AuthFailed);
        let limited = status_error(
            429,
            &json!({"message": "Rate limit is exceeded. Try again in 3 seconds."}),
            Some("2"),
            TokenSource::OAuth,
        );
        assert_eq!(
            (limited.kind, limited.retry_after_ms, limited.is_retryable()),
            (ErrorKind::RateLimited, Some(2000), true)
        );
        let from_text = status_error(
            429,
            &json!({"message": "Rate limit is exceeded. Try again in 3 seconds."}),
            None,
            TokenSource::OAuth,
        );
        assert_eq!(from_text.retry_after_ms, Some(3000));
        assert!(status_error(503, &Value::Null, None, TokenSource::OAuth).is_retryable());
        assert_eq!(
            status_error(403, &Value::Null, None, TokenSource::OAuth).kind,
            ErrorKind::PermissionDenied
        );
    }

    #[test]
    fn rows_name_their_field() {
        let e = row_error(
            &CUSTOMERS,
            &["closingDay の値が正しくありません（1〜31 の整数）。".to_string()],
        );
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidData, Some("closingDay"))
        );
        let e = row_error(
            &CUSTOMERS,
            &["コード 000001 は既に登録されています。".into()],
        );
        assert_eq!(e.kind, ErrorKind::Conflict);
    }
}
