//! `GET /api/openapi.json`: the API's OpenAPI 3.1 document, built from one route table that a
//! test checks against the router, so the two cannot drift apart. Each route names its request
//! and answer schema (`schemas.rs`); every path and query parameter is described, and every
//! error answer is the `Error` schema. The same table says which role a token needs for each
//! route (`Route::role`, enforced in `api::require_token`).

use axum::Json;
use hub_core::accounts::Role;
use serde_json::{json, Map, Value};

mod schemas;

/// A route's request body.
#[derive(Clone, Copy)]
pub enum Req {
    None,
    /// JSON of the named schema, required.
    Json(&'static str),
    /// JSON of the named schema, or no body at all.
    OptionalJson(&'static str),
    /// Raw bytes (a file upload).
    Bytes,
}

/// A route's success answer.
#[derive(Clone, Copy)]
pub enum Resp {
    /// No body (204).
    Empty,
    /// JSON of the named schema.
    Json(&'static str),
    /// A JSON array of the named schema.
    List(&'static str),
    /// This document.
    Document,
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub success: &'static str,
    pub request: Req,
    pub response: Resp,
    /// The least role a token needs for this route (ReadOnly < Operator < Admin); any other
    /// token gets 403 `forbidden`. Consistent with the web UI: reading is read-only, running
    /// (今すぐ実行, retry, undo, preview, 接続テスト, token refresh) is operator, and changing
    /// connections and flows, actions, uploads and OAuth sign-in is admin.
    pub role: Role,
}

impl Route {
    const fn needs(self, role: Role) -> Route {
        Route { role, ..self }
    }
}

/// The route of the table that `method` (lower case; HEAD counts as GET) and the router's
/// matched path (e.g. `/api/flows/{id}`) name.
pub fn route(method: &str, matched_path: &str) -> Option<&'static Route> {
    let method = if method == "head" { "get" } else { method };
    ROUTES
        .iter()
        .find(|r| r.method == method && r.path == matched_path)
}

const fn r(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    success: &'static str,
    request: Req,
    response: Resp,
) -> Route {
    Route {
        method,
        path,
        summary,
        success,
        request,
        response,
        role: Role::Admin,
    }
}

pub const ROUTES: &[Route] = &[
    r(
        "get",
        "/api/connectors",
        "Loaded connectors with their settings and auth kind",
        "200",
        Req::None,
        Resp::List("Connector"),
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/connections",
        "All connections (no secrets)",
        "200",
        Req::None,
        Resp::List("Connection"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/connections",
        "Create a connection: {connector, name, registration_number, phone, settings, credentials}",
        "201",
        Req::Json("ConnectionInput"),
        Resp::Json("Created"),
    ).needs(Role::Admin),
    r(
        "get",
        "/api/connections/{id}",
        "One connection with its token status",
        "200",
        Req::None,
        Resp::Json("Connection"),
    ).needs(Role::ReadOnly),
    r(
        "put",
        "/api/connections/{id}",
        "Change name, registration number, phone, settings or credentials",
        "200",
        Req::Json("ConnectionUpdate"),
        Resp::Json("Connection"),
    ).needs(Role::Admin),
    r(
        "delete",
        "/api/connections/{id}",
        "Delete a connection no flow uses",
        "204",
        Req::None,
        Resp::Empty,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/check",
        "接続テスト: {ok, account} or {ok:false, error}",
        "200",
        Req::None,
        Resp::Json("CheckResult"),
    ).needs(Role::Operator),
    r(
        "post",
        "/api/connections/{id}/token/refresh",
        "連携トークンの更新: refresh now, answer the token status",
        "200",
        Req::None,
        Resp::Json("TokenStatus"),
    ).needs(Role::Operator),
    r(
        "get",
        "/api/connections/{id}/objects",
        "Objects of a connection with their fields",
        "200",
        Req::None,
        Resp::List("ObjectSchema"),
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/connections/{id}/user-map",
        "ユーザー連携: {pairs: [{from, to}]}, the tool's user (id or email) → the login written by the user_map transform",
        "200",
        Req::None,
        Resp::Json("UserMap"),
    ).needs(Role::ReadOnly),
    r(
        "put",
        "/api/connections/{id}/user-map",
        "Replace the user mapping: {pairs: [{from, to}]}",
        "200",
        Req::Json("UserMap"),
        Resp::Json("UserMap"),
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/authorize",
        "Start OAuth sign-in: {authorize_url}; body {redirect_uri?}",
        "200",
        Req::OptionalJson("AuthorizeInput"),
        Resp::Json("AuthorizeAnswer"),
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/actions/{action}",
        "Run a connector action declared in its manifest (e.g. change_password): body = the action's input; answers {result}",
        "200",
        Req::OptionalJson("ActionInput"),
        Resp::Json("ActionResult"),
    ).needs(Role::Admin),
    r(
        "put",
        "/api/connections/{id}/objects/{object}/files/{name}",
        "Upload a file into an object's inbox (e.g. a 奉行 CSV into the watched folder): raw body, at most 64 MiB",
        "201",
        Req::Bytes,
        Resp::Json("ActionResult"),
    ).needs(Role::Admin),
    r(
        "post",
        "/api/oauth/complete",
        "Finish OAuth sign-in: body {state, code}",
        "200",
        Req::Json("OAuthComplete"),
        Resp::Json("OAuthCompleted"),
    ).needs(Role::Admin),
    r(
        "get",
        "/api/flows", "All flows",
        "200",
        Req::None,
        Resp::List("Flow"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows",
        "Create a flow (API.md flow JSON); answers the id and the next five runs",
        "201",
        Req::Json("FlowSpec"),
        Resp::Json("FlowCreated"),
    ).needs(Role::Admin),
    r(
        "get",
        "/api/flows/{id}", "One flow",
        "200",
        Req::None,
        Resp::Json("Flow"),
    ).needs(Role::ReadOnly),
    r(
        "put",
        "/api/flows/{id}", "Replace a flow",
        "200",
        Req::Json("FlowSpec"),
        Resp::Json("Flow"),
    ).needs(Role::Admin),
    r(
        "delete",
        "/api/flows/{id}",
        "Delete a flow with its history",
        "204",
        Req::None,
        Resp::Empty,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/flows/{id}/run",
        "今すぐ実行: queue a run; 409 already_running",
        "202",
        Req::None,
        Resp::Json("RunQueued"),
    ).needs(Role::Operator),
    r(
        "post",
        "/api/flows/{id}/preview",
        "Preview (dry run): counts, planned changes, conflicts, ambiguous matches; writes nothing",
        "200",
        Req::None,
        Resp::Json("Preview"),
    ).needs(Role::Operator),
    r(
        "get",
        "/api/flows/{id}/full-import",
        "What 全件を取り込む would cost: {records, requests} (the source's count, reads + writes); null when the connector cannot count",
        "200",
        Req::None,
        Resp::Json("FullImportEstimate"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows/{id}/full-import",
        "全件を取り込む: queue a run that reads the whole source once (one-way flows), then goes on from the newest change; 409 already_running",
        "202",
        Req::None,
        Resp::Json("RunQueued"),
    ).needs(Role::Admin),
    r(
        "get",
        "/api/flows/{id}/pending",
        "Records the flow's runs failed on and no run has written since (each ordinary run tries them first)",
        "200",
        Req::None,
        Resp::Json("PendingRecords"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows/{id}/pending/dismiss",
        "対応不要にする: {\"records\": [...]} (all when absent) need nothing more; answers {dismissed}",
        "200",
        Req::Json("DismissInput"),
        Resp::Json("Dismissed"),
    ).needs(Role::Operator),
    r(
        "get",
        "/api/runs",
        "Runs newest first; ?flow=&status=&trigger=&limit=",
        "200",
        Req::None,
        Resp::List("Run"),
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/runs/{id}",
        "One run with counts, per-record errors and warnings",
        "200",
        Req::None,
        Resp::Json("RunDetail"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/runs/{id}/undo",
        "元に戻す: restore what the run wrote; answers {run_id, restored, left_alone}; 409 running, 422 nothing to undo or undone already",
        "200",
        Req::None,
        Resp::Json("UndoResult"),
    ).needs(Role::Operator),
    r(
        "post",
        "/api/runs/{id}/retry-failed",
        "失敗分のみ再実行: queue a run of only the run's failed records; 409 running, 422 nothing failed",
        "202",
        Req::None,
        Resp::Json("RunQueued"),
    ).needs(Role::Operator),
    r(
        "get",
        "/api/inquiries",
        "Contact-form submissions, newest first, with delivery_status (pending|sent|failed), delivery_attempts, delivery_error, delivered_at, next_attempt_at",
        "200",
        Req::None,
        Resp::List("Inquiry"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/inquiries",
        "お問い合わせ: {company, name, email, registration_number, connector_name}",
        "201",
        Req::Json("NewInquiry"),
        Resp::Json("Created"),
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/inquiries/{id}/retry",
        "再送: deliver a pending or failed inquiry to the support address now; answers it with its delivery status; 409 already sent, 422 no support address configured",
        "200",
        Req::None,
        Resp::Json("Inquiry"),
    ).needs(Role::Admin),
    r(
        "get",
        "/api/openapi.json",
        "This document",
        "200",
        Req::None,
        Resp::Document,
    ).needs(Role::ReadOnly),
];

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema_ref("Error")}}})
}

/// What each path placeholder is; every one is a plain string.
fn path_parameter(name: &str) -> Value {
    let description = match name {
        "id" => "the connection's, flow's, run's or inquiry's id",
        "action" => "an action the connector's manifest declares, e.g. change_password",
        "object" => "one of the connection's objects",
        "name" => "a plain file name such as 取引先.csv (no folders, not starting with '.')",
        _ => "",
    };
    json!({"name": name, "in": "path", "required": true, "description": description,
        "schema": {"type": "string", "minLength": 1}})
}

/// `GET /api/runs`'s filters (`api::runs::RunQuery`).
fn runs_query() -> Vec<Value> {
    let q = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema});
    vec![
        q("flow", "only this flow's runs", json!({"type": "string"})),
        q("status", "only runs in this state", schema_ref("RunStatus")),
        q(
            "trigger",
            "only runs started this way",
            json!({"type": "string", "enum": ["manual", "schedule", "retry", "api"]}),
        ),
        q(
            "limit",
            "at most this many (default 50)",
            json!({"type": "integer", "minimum": 1, "maximum": 1000}),
        ),
    ]
}

fn operation(route: &Route) -> Value {
    let mut parameters: Vec<Value> = route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(path_parameter)
        .collect();
    if route.path == "/api/runs" {
        parameters.extend(runs_query());
    }
    let success = match route.response {
        Resp::Empty => json!({"description": "done; no body"}),
        Resp::Json(name) => {
            json!({"description": "success", "content": {"application/json": {"schema": schema_ref(name)}}})
        }
        Resp::List(name) => json!({"description": "success", "content": {"application/json": {
            "schema": {"type": "array", "items": schema_ref(name)}}}}),
        Resp::Document => json!({"description": "this OpenAPI 3.1 document",
            "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}),
    };
    let mut success = success;
    let links = links(route);
    if !links.is_empty() {
        success["links"] = Value::Object(links);
    }
    let mut responses = Map::new();
    responses.insert(route.success.into(), success);
    responses.insert(
        "400".into(),
        error_response("bad input; error.field names it"),
    );
    responses.insert(
        "401".into(),
        error_response("missing, wrong, expired or revoked bearer token"),
    );
    responses.insert(
        "403".into(),
        error_response(&format!(
            "forbidden: the token's role may not do this (needs {} or above)",
            route.role.as_str()
        )),
    );
    if route.path.contains('{') {
        responses.insert("404".into(), error_response("no such thing"));
    }
    responses.insert(
        "default".into(),
        error_response(
            "any other failure, e.g. 409 already_running, 413 too_large, 422 unprocessable, \
             429 rate limited or 502 when the connected system failed",
        ),
    );
    let mut op = json!({
        "operationId": operation_id(route),
        "summary": route.summary,
        "description": format!("Needs a token of role {} or above.", route.role.as_str()),
        "parameters": parameters,
        "responses": responses,
        "security": [{"bearer": []}],
    });
    let body = match route.request {
        Req::None => None,
        Req::Json(name) => Some((
            true,
            json!({"application/json": {"schema": schema_ref(name)}}),
        )),
        Req::OptionalJson(name) => Some((
            false,
            json!({"application/json": {"schema": schema_ref(name)}}),
        )),
        Req::Bytes => Some((
            true,
            json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}),
        )),
    };
    if let Some((required, content)) = body {
        op["requestBody"] = json!({"required": required, "content": content});
    }
    op
}

/// Where an answer's id leads (OpenAPI links, so clients and stateful testers can follow
/// them): a created connection, flow or inquiry to its own routes, a queued run to the run's.
fn links(route: &Route) -> Map<String, Value> {
    let (prefix, pointer) = match route.response {
        Resp::Json("Created") => (format!("{}/{{id}}", route.path), "id"),
        Resp::Json("RunQueued") => ("/api/runs/{id}".to_string(), "run_id"),
        _ => return Map::new(),
    };
    ROUTES
        .iter()
        .filter(|r| {
            (r.path == prefix || r.path.starts_with(&format!("{prefix}/")))
                && r.path.matches('{').count() == 1
        })
        .map(|r| {
            let id = operation_id(r);
            (
                id.clone(),
                json!({"operationId": id, "parameters": {"id": format!("$response.body#/{pointer}")}}),
            )
        })
        .collect()
}

/// A stable id from method and path: `post_api_flows_id_run`.
fn operation_id(route: &Route) -> String {
    let path: String = route
        .path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let mut id = format!("{}{}", route.method, path);
    while id.contains("__") {
        id = id.replace("__", "_");
    }
    id.trim_end_matches('_').to_string()
}

/// The whole document: one operation per route of `ROUTES`, every parameter, body and answer
/// with its schema (`schemas.rs`).
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        item[route.method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Renkei Hub API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every route needs 'Authorization: Bearer TOKEN' (`hub token create NAME`). Errors are {\"error\": {\"code\", \"message\", \"field\"?}}.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas::components(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    })
}

pub async fn serve() -> Json<Value> {
    Json(document())
}
