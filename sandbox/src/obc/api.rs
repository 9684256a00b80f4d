//! The RPC-style API (reference/obc.md §3–4): `POST /mg/SearchTenant`, and
//! `POST /{module}/export{Entity}` / `import{Entity}` for each master of [`super::assumed`].

use super::assumed::{self, Entity};
use super::gateway::{error, Caller};
use super::schema::{self, Conditions};
use super::Shared;
use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::{json, Value};

fn ok(body: &Value) -> Response {
    let mut r = (StatusCode::OK, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn bad(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message)
}

/// The request body as a JSON object; an empty body counts as `{}`.
fn body_object(body: &[u8]) -> Result<Value, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("The request body must be a JSON object.".into()),
        Err(e) => Err(format!("The request body is not valid JSON: {e}")),
    }
}

/// The 法人 the caller's OBCiD may use.
pub async fn search_tenant(st: Shared, caller: Caller, body: Bytes) -> Response {
    if let Err(m) = body_object(&body) {
        return bad(&m);
    }
    let list = st.read(|s| {
        s.user(&caller.obcid)
            .map(|u| {
                u.tenants
                    .iter()
                    .filter_map(|id| s.tenant(id))
                    .map(|t| t.info())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    ok(&Value::Array(list))
}

fn int_field(v: &Value, name: &str, default: u64) -> Result<u64, String> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(x) => x
            .as_u64()
            .ok_or_else(|| format!("{name} must be a positive integer.")),
    }
}

/// `{"conditions":{…},"page":1,"pageSize":100}` → `{"items","totalCount","hasNext"}`, in code
/// order.
pub async fn export(entity: &'static Entity, st: Shared, caller: Caller, body: Bytes) -> Response {
    let req = match body_object(&body) {
        Ok(v) => v,
        Err(m) => return bad(&m),
    };
    let page = match int_field(&req, "page", 1) {
        Ok(p) if p >= 1 => p,
        Ok(_) => return bad("page starts at 1."),
        Err(m) => return bad(&m),
    };
    let size = match int_field(&req, "pageSize", assumed::DEFAULT_PAGE_SIZE) {
        Ok(s) if (1..=assumed::MAX_PAGE_SIZE).contains(&s) => s,
        Ok(_) => {
            return bad(&format!(
                "pageSize must be between 1 and {}.",
                assumed::MAX_PAGE_SIZE
            ))
        }
        Err(m) => return bad(&m),
    };
    let cond = match Conditions::parse(req.get("conditions")) {
        Ok(c) => c,
        Err(m) => return bad(&m),
    };
    let tenant = caller.tenant.unwrap_or_default();
    let body = st.read(|s| {
        let rows: Vec<&serde_json::Map<String, Value>> = s
            .tenant(&tenant)
            .and_then(|t| t.table(entity.name))
            .map(|t| t.values().filter(|r| cond.matches(entity, r)).collect())
            .unwrap_or_default();
        let total = rows.len() as u64;
        let skip = (page - 1).saturating_mul(size);
        let items: Vec<Value> = rows
            .iter()
            .skip(skip as usize)
            .take(size as usize)
            .map(|r| Value::Object((*r).clone()))
            .collect();
        json!({
            "items": items,
            "totalCount": total,
            "hasNext": skip.saturating_add(size) < total,
        })
    });
    ok(&body)
}

/// `{"items":[…],"mode":"insert|update|upsert"}` → one result per row; good rows are stored
/// even when others fail (like 汎用データ受入's 未受入データ).
pub async fn import(entity: &'static Entity, st: Shared, caller: Caller, body: Bytes) -> Response {
    let req = match body_object(&body) {
        Ok(v) => v,
        Err(m) => return bad(&m),
    };
    let mode = req.get("mode").and_then(Value::as_str).unwrap_or("");
    if !assumed::MODES.contains(&mode) {
        return bad("mode must be one of insert, update, upsert.");
    }
    let Some(items) = req.get("items").and_then(Value::as_array) else {
        return bad("items must be an array.");
    };
    if items.is_empty() || items.len() > assumed::MAX_IMPORT_ITEMS {
        return bad(&format!(
            "items must hold 1 to {} rows.",
            assumed::MAX_IMPORT_ITEMS
        ));
    }
    let tenant_id = caller.tenant.unwrap_or_default();
    let now = Utc::now();
    let results = st.write(|s| {
        let Some(tenant) = s.tenant_mut(&tenant_id) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let code = schema::row_code(entity, row);
                let shown = code.clone().unwrap_or_default();
                let outcome = code.map_err(|e| vec![e]).and_then(|code| {
                    let existing = tenant
                        .table(entity.name)
                        .and_then(|t| t.get(&code))
                        .cloned();
                    match (mode, &existing) {
                        ("insert", Some(_)) => {
                            return Err(vec![assumed::msg::already_exists(&code)])
                        }
                        ("update", None) => return Err(vec![assumed::msg::not_found(&code)]),
                        _ => {}
                    }
                    let rec = schema::merge(entity, row, existing.as_ref(), tenant, now)?;
                    tenant.table_mut(entity.name).insert(code, rec);
                    Ok(())
                });
                match outcome {
                    Ok(()) => {
                        json!({"index": i, "code": shown, "status": "success", "messages": []})
                    }
                    Err(m) => json!({"index": i, "code": shown, "status": "error", "messages": m}),
                }
            })
            .collect::<Vec<_>>()
    });
    let failed = results.iter().filter(|r| r["status"] == "error").count();
    ok(&json!({
        "results": results,
        "successCount": results.len() - failed,
        "errorCount": failed,
    }))
}
