//! Record reads (reference §4): the list with `fields`, sorting, `page` up to 2,000 records and
//! `page_token` beyond, `If-Modified-Since` (304 when nothing changed, 204 when empty), one
//! record by id, and the deleted-records feed.

use super::assumed;
use super::caller::{Caller, Op};
use super::errors::{empty, json_response, ZohoError};
use super::model::{fmt_time, now, parse_time, ModuleData, SortBy};
use super::schema::module_index;
use super::values::{render, requested_fields, user_ref};
use super::Shared;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;

pub const MAX_PER_PAGE: usize = 200;
/// Records reachable with `page` (§4).
pub const MAX_PAGED_RECORDS: usize = 2000;

type Params = Query<HashMap<String, String>>;

pub fn module_arg(caller: &Caller, module: &str, op: Op) -> Result<usize, ZohoError> {
    let idx = module_index(module).ok_or_else(|| ZohoError::invalid_module(module))?;
    caller.require("modules", Some(super::schema::MODULES[idx].api_name), op)?;
    Ok(idx)
}

pub fn per_page(q: &HashMap<String, String>) -> Result<usize, ZohoError> {
    match q.get("per_page") {
        None => Ok(MAX_PER_PAGE),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PER_PAGE).contains(n))
            .ok_or_else(|| ZohoError::invalid_param("per_page", "per_page must be 1 to 200")),
    }
}

pub fn page(q: &HashMap<String, String>) -> Result<usize, ZohoError> {
    match q.get("page") {
        None => Ok(1),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| ZohoError::invalid_param("page", "page must be a positive number")),
    }
}

pub fn if_modified_since(h: &HeaderMap) -> Result<Option<i64>, ZohoError> {
    match h.get("if-modified-since").and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some(s) => parse_time(s).map(Some).ok_or_else(|| {
            ZohoError::invalid_param(
                "If-Modified-Since",
                "the header is not an ISO 8601 datetime",
            )
        }),
    }
}

/// What a `page_token` carries: where the walk stands. Base64 JSON, opaque to clients.
#[derive(Serialize, Deserialize)]
struct PageToken {
    o: usize,
    m: String,
    s: SortBy,
    d: bool,
    i: Option<i64>,
    k: (i64, u64),
    n: usize,
    e: i64,
}

fn encode_token(t: &PageToken) -> String {
    let bytes = serde_json::to_vec(t).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_token(s: &str) -> Option<PageToken> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn bad_token(message: &str) -> ZohoError {
    ZohoError::invalid_param("page_token", message)
}

fn sort_arg(q: &HashMap<String, String>) -> Result<(SortBy, bool), ZohoError> {
    let sort = match q.get("sort_by").map(String::as_str) {
        None | Some("id") => SortBy::Id,
        Some("Created_Time") => SortBy::Created,
        Some("Modified_Time") => SortBy::Modified,
        Some(_) => {
            return Err(ZohoError::invalid_param(
                "sort_by",
                "sort_by must be id, Created_Time or Modified_Time",
            ))
        }
    };
    let desc = match q.get("sort_order").map(String::as_str) {
        None => assumed::DEFAULT_SORT_DESC,
        Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(ZohoError::invalid_param(
                "sort_order",
                "sort_order must be asc or desc",
            ))
        }
    };
    Ok((sort, desc))
}

fn sort_name(s: SortBy) -> &'static str {
    match s {
        SortBy::Id => "id",
        SortBy::Created => "Created_Time",
        SortBy::Modified => "Modified_Time",
    }
}

/// `GET /crm/v8/{module}`.
pub async fn list(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    list_inner(&st, &caller, &module, &q, &headers).unwrap_or_else(IntoResponse::into_response)
}

fn list_inner(
    st: &Shared,
    caller: &Caller,
    module: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, ZohoError> {
    let midx = module_arg(caller, module, Op::Read)?;
    if let Some(ids) = q.get("ids") {
        return by_ids(st, caller, midx, ids, q.get("fields"));
    }
    let fields = q
        .get("fields")
        .ok_or_else(|| ZohoError::missing_param("fields"))?;
    let per_page = per_page(q)?;
    let now = now();

    // Where to start: a page number, or a token that remembers the walk.
    let (sort, desc, since, after, skip, served, page) = match q.get("page_token") {
        Some(tok) => {
            if q.contains_key("page") {
                return Err(bad_token("page and page_token cannot be used together"));
            }
            let t = decode_token(tok).ok_or_else(|| bad_token("invalid page_token"))?;
            if t.o != caller.org || !t.m.eq_ignore_ascii_case(module) {
                return Err(bad_token("invalid page_token"));
            }
            if t.e < now {
                return Err(bad_token("the page_token has expired"));
            }
            if t.n >= assumed::MAX_RECORDS_VIA_PAGE_TOKEN {
                return Err(ZohoError::limit(
                    "page_token",
                    assumed::MAX_RECORDS_VIA_PAGE_TOKEN,
                    "no more than 100,000 records can be fetched",
                ));
            }
            (t.s, t.d, t.i, Some(t.k), 0, t.n, t.n / per_page + 1)
        }
        None => {
            let (sort, desc) = sort_arg(q)?;
            let page = page(q)?;
            if page * per_page > MAX_PAGED_RECORDS {
                return Err(ZohoError::new(
                    StatusCode::BAD_REQUEST,
                    assumed::PAGE_LIMIT_CODE,
                    "cannot fetch more than 2000 records with page; use page_token",
                )
                .details(json!({"param": "page", "limit": MAX_PAGED_RECORDS})));
            }
            let since = if_modified_since(headers)?;
            let skip = (page - 1) * per_page;
            (sort, desc, since, None, skip, skip, page)
        }
    };

    st.read(|s| {
        let org = &s.orgs[caller.org];
        let md: &ModuleData = &org.modules[midx];
        let only = requested_fields(md, fields)?;
        if let Some(t) = since {
            if !md.modified_since(t) {
                return Ok(empty(StatusCode::NOT_MODIFIED));
            }
        }
        let mut rows: Vec<_> = md
            .walk(sort, desc, since, after)
            .skip(skip)
            .take(per_page + 1)
            .collect();
        let more = rows.len() > per_page;
        rows.truncate(per_page);
        let Some(last) = rows.last() else {
            return Ok(empty(StatusCode::NO_CONTENT));
        };
        let expiry = now + assumed::PAGE_TOKEN_TTL_SECS;
        let next = more.then(|| {
            encode_token(&PageToken {
                o: caller.org,
                m: md.schema.api_name.to_string(),
                s: sort,
                d: desc,
                i: since,
                k: md.key(last, sort),
                n: served + rows.len(),
                e: expiry,
            })
        });
        let data: Vec<Value> = rows
            .iter()
            .map(|r| render(org, md, r, Some(&only)))
            .collect();
        let body = json!({
            "data": data,
            "info": {
                "per_page": per_page,
                "count": data.len(),
                "page": page,
                "sort_by": sort_name(sort),
                "sort_order": if desc { "desc" } else { "asc" },
                "more_records": more,
                "next_page_token": next,
                "previous_page_token": null,
                "page_token_expiry": next.as_ref().map(|_| fmt_time(expiry)),
            }
        });
        Ok(json_response(StatusCode::OK, &body))
    })
}

fn by_ids(
    st: &Shared,
    caller: &Caller,
    midx: usize,
    ids: &str,
    fields: Option<&String>,
) -> Result<Response, ZohoError> {
    st.read(|s| {
        let org = &s.orgs[caller.org];
        let md = &org.modules[midx];
        let only = fields.map(|f| requested_fields(md, f)).transpose()?;
        let data: Vec<Value> = ids
            .split(',')
            .filter_map(|i| i.trim().parse::<u64>().ok())
            .filter_map(|id| md.get(id))
            .map(|r| render(org, md, r, only.as_deref()))
            .collect();
        if data.is_empty() {
            return Ok(empty(StatusCode::NO_CONTENT));
        }
        Ok(json_response(StatusCode::OK, &json!({"data": data})))
    })
}

/// `GET /crm/v8/{module}/{id}`.
pub async fn get_one(
    State(st): State<Shared>,
    caller: Caller,
    Path((module, id)): Path<(String, String)>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let run = || -> Result<Response, ZohoError> {
        let midx = module_arg(&caller, &module, Op::Read)?;
        let since = if_modified_since(&headers)?;
        let id: u64 = id
            .parse()
            .map_err(|_| ZohoError::invalid_param("id", "the id given seems to be invalid"))?;
        st.read(|s| {
            let org = &s.orgs[caller.org];
            let md = &org.modules[midx];
            let only = q
                .get("fields")
                .map(|f| requested_fields(md, f))
                .transpose()?;
            let Some(r) = md.get(id) else {
                return Ok(empty(assumed::MISSING_RECORD_STATUS));
            };
            if since.is_some_and(|t| !super::model::modified_after(r.modified, t)) {
                return Ok(empty(StatusCode::NOT_MODIFIED));
            }
            let data = render(org, md, r, only.as_deref());
            Ok(json_response(StatusCode::OK, &json!({"data": [data]})))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// `GET /crm/v8/{module}/deleted` (§4): recycle-bin entries, newest first.
pub async fn deleted(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    Query(q): Params,
    headers: HeaderMap,
) -> Response {
    let run = || -> Result<Response, ZohoError> {
        let midx = module_arg(&caller, &module, Op::Read)?;
        let kind = q.get("type").map(String::as_str).unwrap_or("all");
        if !assumed::DELETED_TYPES.contains(&kind) {
            return Err(ZohoError::invalid_param(
                "type",
                "type must be all, recycle or permanent",
            ));
        }
        let per_page = per_page(&q)?;
        let page = page(&q)?;
        let since = if_modified_since(&headers)?;
        st.read(|s| {
            let org = &s.orgs[caller.org];
            let md = &org.modules[midx];
            let matching: Vec<_> = md
                .deleted
                .iter()
                .rev()
                .filter(|d| kind == "all" || d.kind == kind)
                .filter(|d| since.is_none_or(|t| super::model::modified_after(d.deleted_time, t)))
                .collect();
            if matching.is_empty() {
                let status = if since.is_some() {
                    StatusCode::NOT_MODIFIED
                } else {
                    StatusCode::NO_CONTENT
                };
                return Ok(empty(status));
            }
            let start = (page - 1) * per_page;
            let rows: Vec<Value> = matching
                .iter()
                .skip(start)
                .take(per_page)
                .map(|d| {
                    let by = |id| {
                        let u = user_ref(org, id);
                        json!({"name": u["name"], "id": u["id"]})
                    };
                    json!({
                        "deleted_by": by(d.deleted_by),
                        "id": d.id.to_string(),
                        "display_name": d.display_name,
                        "type": d.kind,
                        "created_by": by(d.created_by),
                        "deleted_time": fmt_time(d.deleted_time),
                    })
                })
                .collect();
            if rows.is_empty() {
                return Ok(empty(StatusCode::NO_CONTENT));
            }
            let body = json!({
                "data": rows,
                "info": {
                    "per_page": per_page,
                    "count": rows.len(),
                    "page": page,
                    "more_records": start + rows.len() < matching.len(),
                }
            });
            Ok(json_response(StatusCode::OK, &body))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}
