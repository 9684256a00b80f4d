//! One failed entry of a write answer's `data[]` (`{"code","details","message","status"}`) as
//! the SDK error the hub records for that record: the kind, the field Zoho named, and the
//! message in Japanese and English.

use connector_sdk::{ConnectorError, ErrorKind};
use serde_json::Value;

pub fn record_error(entry: &Value) -> ConnectorError {
    let code = entry
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("ERROR")
        .to_string();
    let said = entry
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let details = entry.get("details").cloned().unwrap_or(Value::Null);
    let field = details
        .get("api_name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let f = field.clone().unwrap_or_else(|| "?".into());
    let (kind, en, ja) = match code.as_str() {
        "MANDATORY_NOT_FOUND" => (
            ErrorKind::InvalidData,
            format!("required field {f} is missing"),
            format!("必須項目「{f}」が入力されていません"),
        ),
        "INVALID_DATA" if field.as_deref() == Some("id") => (
            ErrorKind::NotFound,
            "the record does not exist in Zoho CRM (deleted?)".to_string(),
            "Zoho CRM にレコードがありません(削除された可能性があります)".to_string(),
        ),
        "INVALID_DATA" => {
            let mut en = format!("invalid value for {f}");
            if let Some(t) = details.get("expected_data_type").and_then(Value::as_str) {
                en.push_str(&format!(" (expected {t})"));
            }
            if let Some(n) = details.get("maximum_length") {
                en.push_str(&format!(
                    " (at most {} characters)",
                    n.to_string().trim_matches('"')
                ));
            }
            (
                ErrorKind::InvalidData,
                en,
                format!("項目「{f}」の値が正しくありません"),
            )
        }
        "DUPLICATE_DATA" => {
            let other = details
                .pointer("/duplicate_record/id")
                .and_then(Value::as_str)
                .map(|id| format!(" (record {id})"))
                .unwrap_or_default();
            (
                ErrorKind::Conflict,
                format!("another record already has this {f}{other}"),
                format!("項目「{f}」が同じレコードがすでにあります{other}"),
            )
        }
        "PATTERN_NOT_MATCHED" => (
            ErrorKind::InvalidData,
            format!("the value of {f} does not match the field's pattern"),
            format!("項目「{f}」の形式が正しくありません"),
        ),
        "RECORD_LOCKED" => (
            ErrorKind::Transient,
            "the record is locked (approval or another process)".to_string(),
            "レコードがロックされています(承認処理中など)".to_string(),
        ),
        "NO_PERMISSION" => (
            ErrorKind::PermissionDenied,
            "no permission to change this record".to_string(),
            "このレコードを変更する権限がありません".to_string(),
        ),
        "NOT_FOUND" | "INVALID_ID" | "ID_ALREADY_DELETED" => (
            ErrorKind::NotFound,
            "the record does not exist in Zoho CRM (deleted?)".to_string(),
            "Zoho CRM にレコードがありません(削除された可能性があります)".to_string(),
        ),
        _ => (
            ErrorKind::InvalidData,
            format!("Zoho CRM refused the record ({code})"),
            format!("Zoho CRM がレコードを受け付けませんでした({code})"),
        ),
    };
    let message = if said.is_empty() {
        en
    } else {
        format!("{en} (Zoho: {said})")
    };
    let mut err = ConnectorError::new(kind, message)
        .with_code(code)
        .with_ja(ja);
    if let Some(f) = field {
        err = err.with_field(f);
    }
    err
}

/// Update or delete by match key found no record.
pub fn no_match(field: &str, value: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::NotFound,
        format!("no Zoho CRM record has {field} = {value}"),
    )
    .with_ja(format!(
        "{field} が「{value}」のレコードは Zoho CRM にありません"
    ))
    .with_field(field)
}

/// Update or delete by match key found several records.
pub fn many_matches(field: &str, value: &str, n: usize) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Conflict,
        format!("{n} Zoho CRM records have {field} = {value}; cannot choose one"),
    )
    .with_code("AMBIGUOUS_MATCH")
    .with_ja(format!(
        "{field} が「{value}」のレコードが {n} 件あり、更新先を決められません"
    ))
    .with_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zoho_codes_become_kinds_with_the_field() {
        let e = record_error(&json!({"code": "MANDATORY_NOT_FOUND", "status": "error",
            "details": {"api_name": "Last_Name", "json_path": "$.data[0].Last_Name"},
            "message": "required field not found"}));
        assert_eq!(e.kind, ErrorKind::InvalidData);
        assert_eq!(e.field.as_deref(), Some("Last_Name"));
        assert!(e.message_ja.unwrap().contains("Last_Name"));
        let d = record_error(&json!({"code": "DUPLICATE_DATA",
            "details": {"api_name": "Email", "duplicate_record": {"id": "9"}}, "message": "duplicate data"}));
        assert_eq!(
            (d.kind, d.code.as_str()),
            (ErrorKind::Conflict, "DUPLICATE_DATA")
        );
        assert!(d.message.contains("record 9"));
    }
}
