//! Metadata the SDKs fetch before record calls (reference §7, §11): `settings/modules` (with
//! `api_supported: true` and `If-Modified-Since`), `settings/fields?module=`, `users`, `org`.

use super::caller::{Caller, Op};
use super::errors::{empty, json_response, ZohoError};
use super::model::{fmt_time, OrgData};
use super::read::if_modified_since;
use super::schema::{module_index, Field, Kind, Module, MODULES};
use super::Shared;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::HashMap;

/// When the module layout last changed: the seed's epoch, 2025-04-01 09:00 JST.
pub const METADATA_TIME: i64 = 1_743_465_600;

pub fn module_id(org: &OrgData, m: &Module) -> u64 {
    org.info.id_base + 1_000 + m.number
}

fn field_id(org: &OrgData, m: &Module, i: usize) -> u64 {
    org.info.id_base + 10_000 + m.number * 100 + i as u64
}

fn module_json(org: &OrgData, m: &Module) -> Value {
    json!({
        "api_name": m.api_name,
        "module_name": m.api_name,
        "singular_label": m.singular,
        "plural_label": m.plural,
        "id": module_id(org, m).to_string(),
        "api_supported": true,
        "generated_type": if m.custom { "custom" } else { "default" },
        "creatable": true,
        "editable": true,
        "deletable": true,
        "viewable": true,
        "visible": true,
        "status": "visible",
        "sequence_number": m.number,
        "modified_time": super::model::fmt_time(METADATA_TIME),
    })
}

fn field_json(org: &OrgData, m: &Module, i: usize, fd: &Field) -> Value {
    let lookup = match fd.kind {
        Kind::Lookup(target) => {
            let t = module_index(target).map(|ti| &MODULES[ti]);
            json!({
                "display_label": fd.label,
                "api_name": fd.api_name,
                "module": {
                    "api_name": target,
                    "id": t.map(|t| module_id(org, t).to_string()),
                },
                "id": field_id(org, m, i).to_string(),
            })
        }
        _ => json!({}),
    };
    let picks: Vec<Value> = fd
        .picklist
        .iter()
        .enumerate()
        .map(|(n, (actual, display))| {
            json!({
                "display_value": display,
                "actual_value": actual,
                "reference_value": actual,
                "sequence_number": n + 1,
                "type": "used",
            })
        })
        .collect();
    json!({
        "api_name": fd.api_name,
        "id": field_id(org, m, i).to_string(),
        "field_label": fd.label,
        "display_label": fd.label,
        "data_type": fd.kind.data_type(),
        "json_type": fd.kind.json_type(),
        "length": fd.length,
        "unique": if fd.unique { json!({"casesensitive": false}) } else { json!({}) },
        "system_mandatory": fd.mandatory,
        "read_only": fd.read_only,
        "field_read_only": fd.read_only,
        "custom_field": fd.custom,
        "visible": true,
        "pick_list_values": picks,
        "lookup": lookup,
        "decimal_place": if matches!(fd.kind, Kind::Currency | Kind::Double) { json!(2) } else { Value::Null },
        "operation_type": {
            "api_create": !fd.read_only,
            "api_update": !fd.read_only,
            "web_create": !fd.read_only,
            "web_update": !fd.read_only,
        },
    })
}

type Params = Query<HashMap<String, String>>;

/// `GET /crm/v8/settings/modules`.
pub async fn modules(State(st): State<Shared>, caller: Caller, headers: HeaderMap) -> Response {
    let run = || -> Result<Response, ZohoError> {
        caller.require("settings", None, Op::Read)?;
        if if_modified_since(&headers)?.is_some_and(|t| t >= METADATA_TIME) {
            return Ok(empty(StatusCode::NOT_MODIFIED));
        }
        st.read(|s| {
            let org = &s.orgs[caller.org];
            let list: Vec<Value> = MODULES.iter().map(|m| module_json(org, m)).collect();
            Ok(json_response(StatusCode::OK, &json!({"modules": list})))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

/// `GET /crm/v8/settings/modules/{api_name}`.
pub async fn module(
    State(st): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> Response {
    let run = || -> Result<Response, ZohoError> {
        caller.require("settings", None, Op::Read)?;
        let m = module_index(&name).ok_or_else(|| ZohoError::invalid_module(&name))?;
        st.read(|s| {
            let body = json!({"modules": [module_json(&s.orgs[caller.org], &MODULES[m])]});
            Ok(json_response(StatusCode::OK, &body))
        })
    };
    run().unwrap_or_else(IntoResponse::into_response)
}

fn fields_of(
    st: &Shared,
    caller: &Caller,
    q: &HashMap<String, String>,
    only: Option<&str>,
) -> Result<Response, ZohoError> {
    caller.require("settings", None, Op::Read)?;
    let name = q
        .get("module")
        .ok_or_else(|| ZohoError::missing_param("module"))?;
    let mi = module_index(name).ok_or_else(|| ZohoError::invalid_module(name))?;
    let m = &MODULES[mi];
    st.read(|s| {
        let org = &s.orgs[caller.org];
        let list: Vec<Value> = m
            .fields
            .iter()
            .enumerate()
            .map(|(i, fd)| field_json(org, m, i, fd))
            .filter(|v| only.is_none_or(|id| v["id"] == id))
            .collect();
        if only.is_some() && list.is_empty() {
            return Err(ZohoError::invalid_param(
                "id",
                "the field id given seems to be invalid",
            ));
        }
        Ok(json_response(StatusCode::OK, &json!({"fields": list})))
    })
}

/// `GET /crm/v8/settings/fields?module=X`.
pub async fn fields(State(st): State<Shared>, caller: Caller, Query(q): Params) -> Response {
    fields_of(&st, &caller, &q, None).unwrap_or_else(IntoResponse::into_response)
}

/// `GET /crm/v8/settings/fields/{id}?module=X`.
pub async fn field(
    State(st): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    fields_of(&st, &caller, &q, Some(&id)).unwrap_or_else(IntoResponse::into_response)
}

pub fn user_json(org: &OrgData) -> Value {
    let u = &org.info.user;
    json!({
        "id": u.id.to_string(),
        "first_name": u.first_name,
        "last_name": u.last_name,
        "full_name": u.full_name(),
        "email": u.email,
        "status": "active",
        "confirm": true,
        "role": {"name": "CEO", "id": (org.info.id_base + 601).to_string()},
        "profile": {"name": "Administrator", "id": (org.info.id_base + 602).to_string()},
        "time_zone": "Asia/Tokyo",
        "locale": "ja_JP",
        "language": "ja_JP",
        "country": "JP",
        "country_locale": "ja_JP",
        "date_format": "yyyy/MM/dd",
        "time_format": "HH:mm",
        "created_time": fmt_time(METADATA_TIME),
        "Modified_Time": fmt_time(METADATA_TIME),
        "zuid": (org.info.id_base / 1_000_000_000).to_string(),
    })
}

/// `GET /crm/v8/users` (any `type`) and `/users/{id}`: each org has one user.
pub async fn users(State(st): State<Shared>, caller: Caller) -> Response {
    if let Err(e) = caller.require("users", None, Op::Read) {
        return e.into_response();
    }
    st.read(|s| {
        let body = json!({
            "users": [user_json(&s.orgs[caller.org])],
            "info": {"per_page": 200, "count": 1, "page": 1, "more_records": false},
        });
        json_response(StatusCode::OK, &body)
    })
}

pub async fn user(State(st): State<Shared>, caller: Caller, Path(id): Path<String>) -> Response {
    if let Err(e) = caller.require("users", None, Op::Read) {
        return e.into_response();
    }
    st.read(|s| {
        let org = &s.orgs[caller.org];
        if org.info.user.id.to_string() != id {
            return empty(StatusCode::NO_CONTENT);
        }
        json_response(StatusCode::OK, &json!({"users": [user_json(org)]}))
    })
}

/// `GET /crm/v8/org`.
pub async fn org(State(st): State<Shared>, caller: Caller) -> Response {
    if let Err(e) = caller.require("org", None, Op::Read) {
        return e.into_response();
    }
    st.read(|s| {
        let o = &s.orgs[caller.org];
        let body = json!({"org": [{
            "id": (o.info.id_base + 1).to_string(),
            "company_name": o.info.name,
            "zgid": o.info.zgid.to_string(),
            "domain_name": format!("org{}", o.info.zgid),
            "primary_email": o.info.user.email,
            "primary_zuid": (o.info.id_base / 1_000_000_000).to_string(),
            "time_zone": "Asia/Tokyo",
            "country": "Japan",
            "country_code": "JP",
            "iso_code": "JPY",
            "currency": "Japanese Yen - JPY",
            "currency_symbol": "¥",
            "currency_locale": "ja_JP",
            "mc_status": false,
            "type": "production",
        }]});
        json_response(StatusCode::OK, &body)
    })
}
