//! The CRM v8 API routes (reference §3–§7) and the record write handlers.

use super::caller::{Caller, Op};
use super::errors::ZohoError;
use super::model::now;
use super::read::{self, module_arg};
use super::write::{self, dup_fields, parse_body, respond, write_batch, Extra, Mode, MAX_WRITE};
use super::{assumed, metadata, search, Shared};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;

pub fn api_routes() -> Router<Shared> {
    Router::new()
        .route("/crm/v8/settings/modules", get(metadata::modules))
        .route("/crm/v8/settings/modules/{name}", get(metadata::module))
        .route("/crm/v8/settings/fields", get(metadata::fields))
        .route("/crm/v8/settings/fields/{id}", get(metadata::field))
        .route("/crm/v8/users", get(metadata::users))
        .route("/crm/v8/users/{id}", get(metadata::user))
        .route("/crm/v8/org", get(metadata::org))
        .route(
            "/crm/v8/{module}",
            get(read::list).post(insert).put(update).delete(delete),
        )
        .route("/crm/v8/{module}/upsert", axum::routing::post(upsert))
        .route("/crm/v8/{module}/search", get(search::search))
        .route("/crm/v8/{module}/deleted", get(read::deleted))
        .route("/crm/v8/{module}/actions/count", get(search::count))
        .route(
            "/crm/v8/{module}/{id}",
            get(read::get_one).put(update_one).delete(delete_one),
        )
}

fn run(f: impl FnOnce() -> Result<Response, ZohoError>) -> Response {
    f().unwrap_or_else(IntoResponse::into_response)
}

fn write_call(
    st: &Shared,
    caller: &Caller,
    midx: usize,
    data: &[serde_json::Value],
    mode: Mode,
) -> Response {
    let results = st.write(|s| {
        write_batch(
            &mut s.orgs[caller.org],
            midx,
            data,
            &mode,
            &[],
            now(),
            Extra::default(),
        )
    });
    respond(results, Some(&mode))
}

async fn insert(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Create)?;
        let (data, _) = parse_body(&body, MAX_WRITE)?;
        Ok(write_call(&st, &caller, midx, &data, Mode::Insert))
    })
}

async fn update(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Update)?;
        let (data, _) = parse_body(&body, MAX_WRITE)?;
        Ok(write_call(
            &st,
            &caller,
            midx,
            &data,
            Mode::Update { path_id: None },
        ))
    })
}

async fn update_one(
    State(st): State<Shared>,
    caller: Caller,
    Path((module, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Update)?;
        let id: u64 = id
            .parse()
            .map_err(|_| ZohoError::invalid_param("id", "the id given seems to be invalid"))?;
        let (data, _) = parse_body(&body, 1)?;
        Ok(write_call(
            &st,
            &caller,
            midx,
            &data,
            Mode::Update { path_id: Some(id) },
        ))
    })
}

async fn upsert(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Create)?;
        caller.require("modules", Some(&module), Op::Update)?;
        let (data, given) = parse_body(&body, assumed::MAX_UPSERT)?;
        let results = st.write(|s| {
            let org = &mut s.orgs[caller.org];
            let dup = dup_fields(org, midx, &given)?;
            Ok::<_, ZohoError>(write_batch(
                org,
                midx,
                &data,
                &Mode::Upsert,
                &dup,
                now(),
                Extra::default(),
            ))
        })?;
        Ok(respond(results, Some(&Mode::Upsert)))
    })
}

fn delete_call(st: &Shared, caller: &Caller, midx: usize, ids: &[&str]) -> Response {
    let results = st.write(|s| write::delete_ids(&mut s.orgs[caller.org], midx, ids, now()));
    respond(results, None)
}

async fn delete(
    State(st): State<Shared>,
    caller: Caller,
    Path(module): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Delete)?;
        let ids = q
            .get("ids")
            .ok_or_else(|| ZohoError::missing_param("ids"))?;
        let ids: Vec<&str> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if ids.is_empty() {
            return Err(ZohoError::missing_param("ids"));
        }
        if ids.len() > assumed::MAX_DELETE_IDS {
            return Err(ZohoError::limit(
                "ids",
                assumed::MAX_DELETE_IDS,
                "too many ids",
            ));
        }
        Ok(delete_call(&st, &caller, midx, &ids))
    })
}

async fn delete_one(
    State(st): State<Shared>,
    caller: Caller,
    Path((module, id)): Path<(String, String)>,
) -> Response {
    run(|| {
        let midx = module_arg(&caller, &module, Op::Delete)?;
        Ok(delete_call(&st, &caller, midx, &[id.as_str()]))
    })
}
