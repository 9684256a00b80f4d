//! The API routes: every endpoint under `/k/v1/…` and `/k/guest/{space}/v1/…`, the request
//! extractor (caller, guest space, parameters) and the handlers that run the operations inside
//! a read lock or a rolled-back-on-error transaction.

use super::auth::{self, Caller};
use super::error::{json_response, KError, KResult};
use super::model::Store;
use super::params::Params;
use super::records::{self, Env};
use super::tx::Tx;
use super::{apps, bulk, cursor, file, write, Shared};
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

/// Bodies up to this size (bulkRequests of 2,000 records, JSON GET bodies).
const BODY_LIMIT: usize = 64 << 20;

pub struct KReq {
    pub caller: Caller,
    pub space: Option<u64>,
    pub params: Params,
    pub content_type: String,
    pub body: axum::body::Bytes,
}

/// `/k/guest/7/v1/…` → Some(7).
fn guest_space(path: &str) -> Option<u64> {
    path.strip_prefix("/k/guest/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

impl FromRequest<Shared> for KReq {
    type Rejection = KError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let caller = state.read(|s| auth::authenticate(s, &parts.headers))?;
        let space = guest_space(parts.uri.path());
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|_| KError::invalid("body", "リクエストが大きすぎます。"))?;
        let json_body: &[u8] = if content_type.starts_with("multipart/") {
            &[]
        } else {
            &body
        };
        let params = Params::from_request(parts.uri.query(), json_body)?;
        Ok(KReq {
            caller,
            space,
            params,
            content_type,
            body,
        })
    }
}

fn ok(v: KResult<Value>) -> Response {
    match v {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
}

type ReadOp = fn(&Store, &Env, &Params) -> KResult<Value>;
type WriteOp = fn(&mut Tx, &Env, &Params) -> KResult<Value>;

fn read(k: &Shared, r: &KReq, op: ReadOp) -> Response {
    let env = Env {
        caller: &r.caller,
        space: r.space,
        now: k.now(),
    };
    ok(k.read(|s| op(s, &env, &r.params)))
}

fn write(k: &Shared, r: &KReq, op: WriteOp) -> Response {
    let env = Env {
        caller: &r.caller,
        space: r.space,
        now: k.now(),
    };
    ok(k.transact(|tx| op(tx, &env, &r.params)))
}

async fn record_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, records::get_record)
}
async fn record_post(State(k): State<Shared>, r: KReq) -> Response {
    write(&k, &r, write::add_record)
}
async fn record_put(State(k): State<Shared>, r: KReq) -> Response {
    write(&k, &r, write::update_record)
}
async fn records_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, records::get_records)
}
async fn records_post(State(k): State<Shared>, r: KReq) -> Response {
    write(&k, &r, write::add_records)
}
async fn records_put(State(k): State<Shared>, r: KReq) -> Response {
    write(&k, &r, write::update_records)
}
async fn records_delete(State(k): State<Shared>, r: KReq) -> Response {
    write(&k, &r, write::delete_records)
}
async fn app_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, apps::get_app)
}
async fn apps_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, apps::get_apps)
}
async fn fields_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, apps::form_fields)
}
async fn fields_put(State(k): State<Shared>, r: KReq) -> Response {
    let env = Env {
        caller: &r.caller,
        space: r.space,
        now: k.now(),
    };
    ok(k.modify(|s| apps::update_fields(s, &env, &r.params)))
}
async fn deploy_post(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, apps::deploy)
}
async fn layout_get(State(k): State<Shared>, r: KReq) -> Response {
    read(&k, &r, apps::form_layout)
}

type CursorOp = fn(&Store, &mut cursor::Cursors, &Env, &Params) -> KResult<Value>;

fn cursor_op(k: &Shared, r: &KReq, op: CursorOp) -> Response {
    let env = Env {
        caller: &r.caller,
        space: r.space,
        now: k.now(),
    };
    ok(k.read(|s| k.with_cursors(|c| op(s, c, &env, &r.params))))
}
async fn cursor_post(State(k): State<Shared>, r: KReq) -> Response {
    cursor_op(&k, &r, cursor::create)
}
async fn cursor_get(State(k): State<Shared>, r: KReq) -> Response {
    cursor_op(&k, &r, cursor::next)
}
async fn cursor_delete(State(k): State<Shared>, r: KReq) -> Response {
    cursor_op(&k, &r, cursor::delete)
}

async fn bulk_post(State(k): State<Shared>, r: KReq) -> Response {
    let env = Env {
        caller: &r.caller,
        space: r.space,
        now: k.now(),
    };
    match k.transact(|tx| bulk::run(tx, &env, &r.params)) {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(f) => json_response(f.status, &f.body),
    }
}

async fn file_post(State(k): State<Shared>, r: KReq) -> Response {
    let blob = match file::parse_upload(&r.content_type, &r.body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let key = k.with_files(|f| f.put(blob));
    json_response(StatusCode::OK, &serde_json::json!({ "fileKey": key }))
}

async fn file_get(State(k): State<Shared>, r: KReq) -> Response {
    let key = r.params.str("fileKey").unwrap_or_default();
    let Some(b) = k.with_files(|f| f.get(&key).cloned()) else {
        return KError::invalid("fileKey", "指定したファイルが見つかりません。").into_response();
    };
    let mut resp = Response::new(Body::from(b.bytes));
    if let Ok(v) = HeaderValue::from_str(&b.content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        url::form_urlencoded::byte_serialize(b.name.as_bytes()).collect::<String>()
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

pub fn api_routes() -> Router<Shared> {
    let mut r = Router::new();
    for prefix in ["/k/v1", "/k/guest/{space}/v1"] {
        let p = |name: &str| format!("{prefix}/{name}.json");
        r = r
            .route(
                &p("record"),
                get(record_get).post(record_post).put(record_put),
            )
            .route(
                &p("records"),
                get(records_get)
                    .post(records_post)
                    .put(records_put)
                    .delete(records_delete),
            )
            .route(
                &p("records/cursor"),
                get(cursor_get).post(cursor_post).delete(cursor_delete),
            )
            .route(&p("bulkRequest"), post(bulk_post))
            .route(&p("app"), get(app_get))
            .route(&p("apps"), get(apps_get))
            .route(&p("app/form/fields"), get(fields_get))
            .route(
                &p("preview/app/form/fields"),
                get(fields_get).put(fields_put),
            )
            .route(&p("preview/app/deploy"), post(deploy_post))
            .route(&p("app/form/layout"), get(layout_get))
            .route(&p("preview/app/form/layout"), get(layout_get))
            .route(&p("file"), get(file_get).post(file_post));
    }
    r
}

/// `X-HTTP-Method-Override: GET|PUT|DELETE` on a POST runs as that method (reference §1).
/// Done before routing so the overridden method picks the handler.
pub async fn method_override(mut req: Request) -> Request {
    if req.method() == Method::POST {
        let m = req
            .headers()
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_ascii_uppercase());
        match m.as_deref() {
            Some("GET") => *req.method_mut() = Method::GET,
            Some("PUT") => *req.method_mut() = Method::PUT,
            Some("DELETE") => *req.method_mut() = Method::DELETE,
            _ => {}
        }
    }
    req
}

#[cfg(test)]
mod tests {
    #[test]
    fn guest_space_from_path() {
        assert_eq!(super::guest_space("/k/guest/12/v1/records.json"), Some(12));
        assert_eq!(super::guest_space("/k/v1/records.json"), None);
    }
}
