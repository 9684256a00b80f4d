//! `bulkRequest.json` (reference §5): up to 20 record writes run in order in one transaction;
//! the first failure rolls everything back and is reported at its index of `results`, every
//! other entry being `{}`.

use super::assumed;
use super::error::{KError, KResult};
use super::params::Params;
use super::records::Env;
use super::tx::Tx;
use super::write;
use axum::http::StatusCode;
use serde_json::{json, Value};

pub const MAX_REQUESTS: usize = 20;

/// A failed bulkRequest: the status and the `{"results": […]}` body.
pub struct BulkFailure {
    pub status: StatusCode,
    pub body: Value,
}

/// `/k/v1/records.json` → (None, "records"); `/k/guest/3/v1/record.json` → (Some(3), "record").
pub fn parse_api(api: &str) -> Option<(Option<u64>, &str)> {
    let path = api.split('?').next()?;
    let (space, rest) = if let Some(r) = path.strip_prefix("/k/v1/") {
        (None, r)
    } else {
        let r = path.strip_prefix("/k/guest/")?;
        let (s, r) = r.split_once('/')?;
        (Some(s.parse().ok()?), r.strip_prefix("v1/")?)
    };
    Some((space, rest.strip_suffix(".json")?))
}

fn entry(tx: &mut Tx, env: &Env, i: usize, e: &Value) -> KResult<Value> {
    let key = |k: &str| format!("requests[{i}].{k}");
    let method = e
        .get("method")
        .and_then(|m| m.as_str())
        .map(str::to_ascii_uppercase)
        .ok_or_else(|| KError::invalid(key("method"), "必須です。"))?;
    let api = e
        .get("api")
        .and_then(|m| m.as_str())
        .ok_or_else(|| KError::invalid(key("api"), "必須です。"))?;
    let (space, name) = parse_api(api)
        .ok_or_else(|| KError::invalid(key("api"), "APIのパスが正しくありません。"))?;
    if space != env.space {
        return Err(KError::of(
            assumed::GUEST_PATH,
            "bulkRequestの各リクエストは、bulkRequestと同じスペースのパスで指定してください。",
        ));
    }
    let p = Params::from_value(e.get("payload").unwrap_or(&Value::Null));
    match (method.as_str(), name) {
        ("POST", "record") => write::add_record(tx, env, &p),
        ("POST", "records") => write::add_records(tx, env, &p),
        ("PUT", "record") => write::update_record(tx, env, &p),
        ("PUT", "records") => write::update_records(tx, env, &p),
        ("DELETE", "records") => write::delete_records(tx, env, &p),
        ("PUT", "record/status" | "records/status" | "record/assignees") => Err(KError::invalid(
            key("api"),
            "このアプリではプロセス管理が有効になっていません。",
        )),
        _ => Err(KError::invalid(
            key("api"),
            format!("bulkRequestで実行できないAPIです（{method} {api}）。"),
        )),
    }
}

/// Runs every entry; on failure the caller rolls the transaction back.
pub fn run(tx: &mut Tx, env: &Env, p: &Params) -> Result<Value, BulkFailure> {
    let plain = |e: KError| BulkFailure {
        status: e.status,
        body: e.body(),
    };
    let requests = match p.get("requests") {
        Some(Value::Array(a)) if !a.is_empty() => a,
        _ => return Err(plain(KError::invalid("requests", "必須です。"))),
    };
    if requests.len() > MAX_REQUESTS {
        return Err(plain(KError::invalid(
            "requests",
            format!("一度に実行できるリクエストは{MAX_REQUESTS}件までです。"),
        )));
    }
    let mut results = Vec::with_capacity(requests.len());
    for (i, e) in requests.iter().enumerate() {
        match entry(tx, env, i, e) {
            Ok(v) => results.push(v),
            Err(err) => {
                let mut all = vec![json!({}); requests.len()];
                all[i] = err.body();
                let status = if assumed::BULK_FAILURE_USES_ENTRY_STATUS {
                    err.status
                } else {
                    StatusCode::BAD_REQUEST
                };
                return Err(BulkFailure {
                    status,
                    body: json!({ "results": all }),
                });
            }
        }
    }
    Ok(json!({ "results": results }))
}

#[cfg(test)]
mod tests {
    use super::parse_api;

    #[test]
    fn api_paths() {
        assert_eq!(parse_api("/k/v1/records.json"), Some((None, "records")));
        assert_eq!(
            parse_api("/k/guest/3/v1/record/status.json"),
            Some((Some(3), "record/status"))
        );
        assert_eq!(parse_api("/k/v2/records.json"), None);
        assert_eq!(parse_api("/k/guest/x/v1/records.json"), None);
    }
}
