//! kintone's answers that are not successes, and what they mean for the hub: the error kind
//! (refresh, back off, give up) and messages in Japanese and English a user can act on.
//! kintone's message language follows the user, so the mapping goes by `code` (reference §9).

use connector_sdk::{ConnectorError, ErrorKind};
use serde_json::Value;

use crate::assumed;
use crate::manifest::{API_TOKEN, APPS, BASE_URL, GUEST_SPACE_ID};

#[derive(Debug, Clone)]
pub enum ApiError {
    /// A JSON error body `{code, id, message, errors}` (or a failed bulkRequest's `results`).
    Kintone {
        status: u16,
        code: String,
        message: String,
        /// kintone's `errors` member: keys like `records[3].会社名.value`.
        errors: Box<Value>,
        retry_after_ms: Option<u64>,
        body: Box<Value>,
    },
    /// Any other non-2xx answer (a proxy, a wrong URL, an injected fault).
    Http {
        status: u16,
        retry_after_ms: Option<u64>,
        snippet: String,
        root: String,
    },
    /// No answer at all.
    Network { detail: String, root: String },
}

impl ApiError {
    pub fn kintone(status: u16, retry_after: Option<&str>, body: Value) -> Self {
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        ApiError::Kintone {
            status,
            code: text("code"),
            message: text("message"),
            errors: Box::new(body.get("errors").cloned().unwrap_or(Value::Null)),
            retry_after_ms: retry_after.and_then(parse_retry_after),
            body: Box::new(body),
        }
    }

    pub fn http(status: u16, retry_after: Option<&str>, text: &str, root: &str) -> Self {
        ApiError::Http {
            status,
            retry_after_ms: retry_after.and_then(parse_retry_after),
            snippet: text.chars().take(200).collect(),
            root: root.to_string(),
        }
    }

    pub fn network(e: &reqwest::Error, root: &str) -> Self {
        // reqwest's Display names the URL, which never holds a secret here (auth is in headers).
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            detail.push_str(": ");
            detail.push_str(&s.to_string());
            src = s.source();
        }
        ApiError::Network {
            detail,
            root: root.to_string(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Kintone { status, .. } | ApiError::Http { status, .. } => *status,
            ApiError::Network { .. } => 0,
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Kintone { code, .. } => code,
            _ => "",
        }
    }

    /// What the hub should make of it, for a call on `app` (when there is one).
    pub fn to_connector(&self, app: Option<&str>) -> ConnectorError {
        match self {
            ApiError::Network { detail, root } => ConnectorError::new(
                ErrorKind::Transient,
                format!("cannot reach kintone at {root}: {detail}"),
            )
            .with_code("network")
            .with_ja(format!(
                "kintone({root})に接続できません。URLとネットワークを確認してください"
            )),
            ApiError::Http {
                status,
                retry_after_ms,
                snippet,
                root,
            } => from_status(*status, *retry_after_ms, snippet, root),
            ApiError::Kintone {
                status,
                code,
                message,
                errors,
                retry_after_ms,
                ..
            } => from_code(*status, code, message, errors, *retry_after_ms, app),
        }
    }
}

fn app_label(app: Option<&str>) -> (String, String) {
    match app {
        Some(a) => (format!("app {a}"), format!("アプリ{a}")),
        None => ("the app".to_string(), "アプリ".to_string()),
    }
}

fn from_code(
    status: u16,
    code: &str,
    message: &str,
    errors: &Value,
    retry_after_ms: Option<u64>,
    app: Option<&str>,
) -> ConnectorError {
    let (app_en, app_ja) = app_label(app);
    let said = if message.is_empty() {
        String::new()
    } else {
        format!(" (kintone: {message})")
    };
    let is_daily = assumed::DAILY_LIMIT_CODES.contains(&code)
        || (matches!(status, 429 | 403)
            && assumed::DAILY_LIMIT_WORDS
                .iter()
                .any(|w| message.to_lowercase().contains(w)));
    let err = if is_daily {
        ConnectorError::new(
            ErrorKind::QuotaExceeded,
            format!("the daily API request limit of {app_en} is used up{said}"),
        )
        .with_ja(format!(
            "{app_ja}の1日のAPIリクエスト数の上限に達しました。午前9時(日本時間)以降に再実行してください"
        ))
    } else {
        match code {
            "CB_AU01" | "GAIA_IA02" | "GAIA_AP15" | "CB_AU02" => ConnectorError::new(
                ErrorKind::AuthFailed,
                format!(
                    "kintone refused the credentials for {app_en}: check the API token (or login name and password){said}"
                ),
            )
            .with_ja(format!(
                "kintoneの認証に失敗しました。{app_ja}のAPIトークンを確認してください(パスワード認証の場合はログイン名とパスワード)"
            ))
            .with_field(API_TOKEN),
            "CB_NO02" | "GAIA_NO01" => ConnectorError::new(
                ErrorKind::PermissionDenied,
                format!(
                    "the API token has no permission for this operation on {app_en}: allow view, add, edit and delete records{said}"
                ),
            )
            .with_ja(format!(
                "{app_ja}のAPIトークンにこの操作の権限がありません。アクセス権(レコード閲覧・追加・編集・削除)を確認してください"
            )),
            "GAIA_AP01" => ConnectorError::new(
                ErrorKind::InvalidSettings,
                format!("kintone has no {app_en}: check the app ids{said}"),
            )
            .with_ja(format!(
                "{app_ja}が見つかりません。アプリIDを確認してください(アプリのURL https://…/k/14/ の14)"
            ))
            .with_field(APPS),
            "GAIA_IL23" => ConnectorError::new(
                ErrorKind::InvalidSettings,
                format!("{app_en} is in a guest space: set the guest space id{said}"),
            )
            .with_ja(format!(
                "{app_ja}はゲストスペースのアプリです。ゲストスペースIDを入力してください"
            ))
            .with_field(GUEST_SPACE_ID),
            "CB_VA01" => {
                let field = first_error_field(errors);
                let detail = error_details(errors);
                let mut e = ConnectorError::new(
                    ErrorKind::InvalidData,
                    format!(
                        "kintone refused the data{}: {}",
                        field.as_deref().map(|f| format!(" in field {f}")).unwrap_or_default(),
                        if detail.is_empty() { message.to_string() } else { detail.clone() }
                    ),
                )
                .with_ja(format!(
                    "kintoneが入力値を受け付けませんでした{}: {}",
                    field.as_deref().map(|f| format!("(フィールド「{f}」)")).unwrap_or_default(),
                    if detail.is_empty() { message.to_string() } else { detail }
                ));
                if let Some(f) = field {
                    e = e.with_field(f);
                }
                e
            }
            "GAIA_CO02" => ConnectorError::new(
                ErrorKind::Conflict,
                format!("the record was changed in kintone since it was read{said}"),
            )
            .with_ja("kintoneのレコードが読み込み後に更新されています(リビジョンが一致しません)"),
            "GAIA_RE01" => ConnectorError::new(
                ErrorKind::NotFound,
                format!("the record does not exist in {app_en}{said}"),
            )
            .with_ja(format!("{app_ja}に該当するレコードがありません")),
            "GAIA_RE20" => ConnectorError::new(
                ErrorKind::NotFound,
                format!("no record of {app_en} has this key value{said}"),
            )
            .with_ja(format!("{app_ja}にキーの値が一致するレコードがありません")),
            "GAIA_TM12" => ConnectorError::new(
                ErrorKind::RateLimited,
                format!("too many open kintone cursors on this domain{said}"),
            )
            .with_ja("kintoneのカーソル数が上限に達しています。しばらくしてから再実行します")
            .with_retry_after_ms(assumed::CURSOR_LIMIT_RETRY_MS),
            "GAIA_LT01" | "GAIA_DA02" => ConnectorError::new(
                ErrorKind::Transient,
                format!("kintone is busy (database locked){said}"),
            )
            .with_ja("kintoneが混み合っています。しばらくしてから再実行します"),
            _ => {
                let mut e = from_status(status, retry_after_ms, message, "kintone");
                if status == 400 {
                    e = ConnectorError::new(
                        ErrorKind::InvalidData,
                        format!("kintone refused the request{said}"),
                    )
                    .with_ja(format!("kintoneがリクエストを受け付けませんでした: {message}"));
                }
                e
            }
        }
    };
    let err = if code.is_empty() {
        err
    } else {
        err.with_code(code)
    };
    match (err.kind, retry_after_ms) {
        // A 429's own Retry-After wins over the default wait.
        (ErrorKind::RateLimited, Some(ms)) => err.with_retry_after_ms(ms),
        _ => err,
    }
}

fn from_status(status: u16, retry_after_ms: Option<u64>, said: &str, root: &str) -> ConnectorError {
    let said = said.trim();
    let tail = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    let e = match status {
        429 => {
            let e = ConnectorError::new(
                ErrorKind::RateLimited,
                format!("kintone answered 429 Too Many Requests{tail}"),
            )
            .with_ja("kintoneへの同時リクエスト数が上限を超えました。時間をおいて再実行します");
            match retry_after_ms {
                Some(ms) => e.with_retry_after_ms(ms),
                None => e,
            }
        }
        401 => ConnectorError::new(
            ErrorKind::AuthFailed,
            format!("kintone refused the credentials (401){tail}"),
        )
        .with_ja("kintoneの認証に失敗しました。APIトークンを確認してください")
        .with_field(API_TOKEN),
        403 => ConnectorError::new(
            ErrorKind::PermissionDenied,
            format!("kintone denied access (403){tail}"),
        )
        .with_ja("kintoneへのアクセスが拒否されました。APIトークンのアクセス権を確認してください"),
        404 => ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("{root} does not answer like kintone (404): check the URL"),
        )
        .with_ja(format!(
            "{root} はkintoneとして応答しません(404)。URLを確認してください"
        ))
        .with_field(BASE_URL),
        s if s >= 500 => {
            ConnectorError::new(ErrorKind::Transient, format!("kintone answered {s}{tail}"))
                .with_ja(format!(
                    "kintoneで一時的なエラーが発生しました({s})。時間をおいて再実行します"
                ))
        }
        s => ConnectorError::new(ErrorKind::Internal, format!("kintone answered {s}{tail}"))
            .with_ja(format!("kintoneから予期しない応答がありました({s})")),
    };
    e.with_code(format!("http_{status}"))
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<u64> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(s.saturating_mul(1000));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = at.timestamp_millis() - chrono::Utc::now().timestamp_millis();
    Some(ms.max(0) as u64)
}

/// Each entry of kintone's `errors` as (index in `records[]`/`ids[]`, field code, messages),
/// e.g. `records[3].会社名.value` → (Some(3), Some("会社名"), "必須です。").
pub fn error_entries(errors: &Value) -> Vec<(Option<usize>, Option<String>, String)> {
    let Some(map) = errors.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let (i, f) = parse_error_key(k);
            let msgs: Vec<&str> = v
                .get("messages")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            (i, f, msgs.join(" "))
        })
        .collect()
}

/// The bulkRequest entry a top-level error names: `requests[1].payload…` → 1.
pub fn request_index(errors: &Value) -> Option<usize> {
    errors
        .as_object()?
        .keys()
        .find_map(|k| k.strip_prefix("requests[")?.split(']').next()?.parse().ok())
}

fn parse_error_key(key: &str) -> (Option<usize>, Option<String>) {
    // Strip a bulkRequest prefix `requests[1].payload.`.
    let key = match key.find("payload.") {
        Some(i) if key.starts_with("requests[") => &key[i + "payload.".len()..],
        _ => key,
    };
    let mut parts = key.split('.');
    let head = parts.next().unwrap_or_default();
    let index = head
        .find('[')
        .and_then(|i| head[i + 1..].strip_suffix(']'))
        .and_then(|n| n.parse::<usize>().ok());
    let rest = std::iter::once(head)
        .filter(|h| !h.contains('['))
        .chain(parts);
    let field = rest
        .filter(|p| {
            !p.is_empty()
                && !p.contains('[')
                && !matches!(*p, "value" | "record" | "updateKey" | "id" | "revision")
        })
        .map(str::to_string)
        .next();
    (index, field)
}

fn first_error_field(errors: &Value) -> Option<String> {
    error_entries(errors).into_iter().find_map(|(_, f, _)| f)
}

/// kintone's own messages per field, `会社名: 必須です。`.
fn error_details(errors: &Value) -> String {
    error_entries(errors)
        .into_iter()
        .map(|(_, f, msgs)| match f {
            Some(f) => format!("{f}: {msgs}"),
            None => msgs,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_keys_name_record_and_field() {
        assert_eq!(
            parse_error_key("records[3].会社名.value"),
            (Some(3), Some("会社名".to_string()))
        );
        assert_eq!(
            parse_error_key("record.会社名.value"),
            (None, Some("会社名".to_string()))
        );
        assert_eq!(
            parse_error_key("requests[1].payload.records[7].金額.value"),
            (Some(7), Some("金額".to_string()))
        );
        assert_eq!(
            parse_error_key("records[2].record.電話番号.value"),
            (Some(2), Some("電話番号".to_string()))
        );
        assert_eq!(parse_error_key("ids[4]"), (Some(4), None));
    }

    #[test]
    fn codes_map_to_kinds() {
        let e = ApiError::kintone(
            400,
            None,
            json!({"code":"CB_VA01","message":"入力内容が正しくありません。","errors":{"records[0].会社名.value":{"messages":["必須です。"]}}}),
        )
        .to_connector(Some("1"));
        assert_eq!(e.kind, ErrorKind::InvalidData);
        assert_eq!(e.field.as_deref(), Some("会社名"));
        assert!(e.message_ja.unwrap().contains("必須です"));

        let e = ApiError::kintone(520, None, json!({"code":"GAIA_IA02","message":"x"}))
            .to_connector(Some("1"));
        assert_eq!(e.kind, ErrorKind::AuthFailed);
        assert!(e
            .message_ja
            .unwrap()
            .contains("APIトークンを確認してください"));

        let e = ApiError::kintone(429, Some("3"), json!({"code":"CB_TM01","message":"x"}))
            .to_connector(None);
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert_eq!(e.retry_after_ms, Some(3000));

        let e = ApiError::http(503, None, "down", "http://x").to_connector(None);
        assert_eq!(e.kind, ErrorKind::Transient);
    }
}
