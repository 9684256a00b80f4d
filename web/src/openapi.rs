//! `GET /api/openapi.json`: the API's OpenAPI 3.1 document, built from one route table that a
//! test checks against the router, so the two cannot drift apart. The same table says which
//! role a token needs for each route (`Route::role`, enforced in `api::require_token`).

use axum::Json;
use hub_core::accounts::Role;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder,
    Required, ResponseBuilder,
};

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub success: &'static str,
    pub body: bool,
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
    body: bool,
) -> Route {
    Route {
        method,
        path,
        summary,
        success,
        body,
        role: Role::Admin,
    }
}

pub const ROUTES: &[Route] = &[
    r(
        "get",
        "/api/connectors",
        "Loaded connectors with their settings and auth kind",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/connections",
        "All connections (no secrets)",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/connections",
        "Create a connection: {connector, name, registration_number, phone, settings, credentials}",
        "201",
        true,
    ).needs(Role::Admin),
    r(
        "get",
        "/api/connections/{id}",
        "One connection with its token status",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "put",
        "/api/connections/{id}",
        "Change name, registration number, phone, settings or credentials",
        "200",
        true,
    ).needs(Role::Admin),
    r(
        "delete",
        "/api/connections/{id}",
        "Delete a connection no flow uses",
        "204",
        false,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/check",
        "接続テスト: {ok, account} or {ok:false, error}",
        "200",
        false,
    ).needs(Role::Operator),
    r(
        "post",
        "/api/connections/{id}/token/refresh",
        "連携トークンの更新: refresh now, answer the token status",
        "200",
        false,
    ).needs(Role::Operator),
    r(
        "get",
        "/api/connections/{id}/objects",
        "Objects of a connection with their fields",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/connections/{id}/user-map",
        "ユーザー連携: {pairs: [{from, to}]}, the tool's user (id or email) → the login written by the user_map transform",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "put",
        "/api/connections/{id}/user-map",
        "Replace the user mapping: {pairs: [{from, to}]}",
        "200",
        true,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/authorize",
        "Start OAuth sign-in: {authorize_url}; body {redirect_uri?}",
        "200",
        false,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/connections/{id}/actions/{action}",
        "Run a connector action declared in its manifest (e.g. change_password): body = the action's input; answers {result}",
        "200",
        true,
    ).needs(Role::Admin),
    r(
        "put",
        "/api/connections/{id}/objects/{object}/files/{name}",
        "Upload a file into an object's inbox (e.g. a 奉行 CSV into the watched folder): raw body, at most 64 MiB",
        "201",
        true,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/oauth/complete",
        "Finish OAuth sign-in: body {state, code}",
        "200",
        true,
    ).needs(Role::Admin),
    r("get", "/api/flows", "All flows", "200", false).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows",
        "Create a flow (API.md flow JSON); answers the id and the next five runs",
        "201",
        true,
    ).needs(Role::Admin),
    r("get", "/api/flows/{id}", "One flow", "200", false).needs(Role::ReadOnly),
    r("put", "/api/flows/{id}", "Replace a flow", "200", true).needs(Role::Admin),
    r(
        "delete",
        "/api/flows/{id}",
        "Delete a flow with its history",
        "204",
        false,
    ).needs(Role::Admin),
    r(
        "post",
        "/api/flows/{id}/run",
        "今すぐ実行: queue a run; 409 already_running",
        "202",
        false,
    ).needs(Role::Operator),
    r(
        "post",
        "/api/flows/{id}/preview",
        "Preview (dry run): counts, planned changes, conflicts, ambiguous matches; writes nothing",
        "200",
        false,
    ).needs(Role::Operator),
    r(
        "get",
        "/api/flows/{id}/full-import",
        "What 全件を取り込む would cost: {records, requests} (the source's count, reads + writes); null when the connector cannot count",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows/{id}/full-import",
        "全件を取り込む: queue a run that reads the whole source once (one-way flows), then goes on from the newest change; 409 already_running",
        "202",
        false,
    ).needs(Role::Admin),
    r(
        "get",
        "/api/flows/{id}/pending",
        "Records the flow's runs failed on and no run has written since (each ordinary run tries them first)",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/flows/{id}/pending/dismiss",
        "対応不要にする: {\"records\": [...]} (all when absent) need nothing more; answers {dismissed}",
        "200",
        true,
    ).needs(Role::Operator),
    r(
        "get",
        "/api/runs",
        "Runs newest first; ?flow=&status=&trigger=&limit=",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "get",
        "/api/runs/{id}",
        "One run with counts, per-record errors and warnings",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/runs/{id}/undo",
        "元に戻す: restore what the run wrote; answers {run_id, restored, left_alone}; 409 running, 422 nothing to undo or undone already",
        "200",
        false,
    ).needs(Role::Operator),
    r(
        "post",
        "/api/runs/{id}/retry-failed",
        "失敗分のみ再実行: queue a run of only the run's failed records; 409 running, 422 nothing failed",
        "202",
        false,
    ).needs(Role::Operator),
    r(
        "get",
        "/api/inquiries",
        "Contact-form submissions, newest first, with delivery_status (pending|sent|failed), delivery_attempts, delivery_error, delivered_at, next_attempt_at",
        "200",
        false,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/inquiries",
        "お問い合わせ: {company, name, email, registration_number, connector_name}",
        "201",
        true,
    ).needs(Role::ReadOnly),
    r(
        "post",
        "/api/inquiries/{id}/retry",
        "再送: deliver a pending or failed inquiry to the support address now; answers it with its delivery status; 409 already sent, 422 no support address configured",
        "200",
        false,
    ).needs(Role::Admin),
    r("get", "/api/openapi.json", "This document", "200", false).needs(Role::ReadOnly),
];

pub fn document() -> OpenApi {
    let mut paths = PathsBuilder::new();
    for route in ROUTES {
        let method = match route.method {
            "post" => HttpMethod::Post,
            "put" => HttpMethod::Put,
            "delete" => HttpMethod::Delete,
            _ => HttpMethod::Get,
        };
        let mut op = OperationBuilder::new()
            .summary(Some(route.summary))
            .response(route.success, ResponseBuilder::new().description("success"))
            .response(
                "400",
                ResponseBuilder::new().description("bad input; error.field names it"),
            )
            .response(
                "401",
                ResponseBuilder::new()
                    .description("missing, wrong, expired or revoked bearer token"),
            )
            .response(
                "403",
                ResponseBuilder::new().description(format!(
                    "forbidden: the token's role may not do this (needs {} or above)",
                    route.role.as_str()
                )),
            )
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        if route.path.contains("{id}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True),
            );
        }
        if route.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .content("application/json", ContentBuilder::new().build())
                    .required(Some(Required::True))
                    .build(),
            ));
        }
        paths = paths.path(route.path, PathItem::new(method, op));
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Renkei Hub API")
                .version(env!("CARGO_PKG_VERSION")),
        )
        .paths(paths)
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    "bearer",
                    SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
                )
                .build(),
        ))
        .build()
}

pub async fn serve() -> Json<OpenApi> {
    Json(document())
}
