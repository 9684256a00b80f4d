//! The Data service (reference §2): collections, view entries and documents.

use super::assumed::{self, person};
use super::auth::AuthUser;
use super::http::{
    header_str, http_date, iso, json_response, parse_http_date, parse_iso, parse_json, secs,
    DasError,
};
use super::model::{Database, DocFormat, Document, Item, ItemFormat, Store};
use super::views::{self, Selection};
use super::Shared;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::Utc;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

type Params = HashMap<String, String>;

/// `{folder}/{db}` or `{db}` from the route.
pub fn db_path(p: &Params) -> String {
    match (p.get("folder"), p.get("db")) {
        (Some(f), Some(d)) => format!("{f}/{d}"),
        (None, Some(d)) => d.clone(),
        _ => String::new(),
    }
}

/// Minimum *Allow Domino Data Service* level (§4).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    Views = 1,
    Documents = 2,
}

/// Opens a database for the Data service, refusing as DAS does when it is not enabled.
pub fn open<'a>(s: &'a Store, path: &str, need: Need) -> Result<&'a Database, DasError> {
    if !s.settings.enabled("Data") {
        return Err(DasError::bare(StatusCode::FORBIDDEN));
    }
    let db = find(s, path)?;
    if db.allow_rest < need as u8 {
        return Err(DasError::new(
            StatusCode::FORBIDDEN,
            "The Domino data service is not enabled for this database.",
        ));
    }
    Ok(db)
}

pub fn find<'a>(s: &'a Store, path: &str) -> Result<&'a Database, DasError> {
    if !path.to_ascii_lowercase().ends_with(".nsf") {
        return Err(DasError::not_found("The URI does not refer to a database."));
    }
    s.db(path)
        .ok_or_else(|| DasError::not_found(format!("Cannot open database {path}.")))
}

pub async fn not_found() -> Response {
    DasError::not_found("The requested resource was not found.").into_response()
}

fn flag(q: &Params, name: &str) -> bool {
    q.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// `GET /api/data`: the server's databases.
pub async fn list_databases(State(st): State<Shared>) -> Response {
    let list = st.read(|s| {
        s.databases
            .iter()
            .map(|d| {
                json!({
                    "@title": d.title,
                    "@filepath": d.path,
                    "@replicaid": d.replica_id,
                    "@template": "",
                    "@href": format!("{}/api/data/collections", d.href()),
                })
            })
            .collect::<Vec<_>>()
    });
    json_response(StatusCode::OK, &Value::Array(list))
}

pub async fn collections(State(st): State<Shared>, Path(p): Path<Params>) -> Response {
    let r = st.read(|s| {
        let db = open(s, &db_path(&p), Need::Views)?;
        let href = db.href();
        let list: Vec<Value> = db
            .views
            .iter()
            .map(|v| views::collection_info(&href, v))
            .collect();
        Ok::<_, DasError>(json_response(StatusCode::OK, &Value::Array(list)))
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn design(State(st): State<Shared>, Path(p): Path<Params>) -> Response {
    let name = p.get("view").cloned().unwrap_or_default();
    let r = st.read(|s| {
        let db = open(s, &db_path(&p), Need::Views)?;
        let v = db
            .view(&name)
            .ok_or_else(|| DasError::not_found("The URI must refer to an existing view."))?;
        Ok::<_, DasError>(json_response(StatusCode::OK, &views::design(v)))
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

pub async fn entries_by_name(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let name = p.get("view").cloned().unwrap_or_default();
    entries(&st, &user, &p, &q, &headers, |db| db.view(&name).cloned())
}

pub async fn entries_by_unid(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let unid = p.get("viewunid").cloned().unwrap_or_default();
    entries(&st, &user, &p, &q, &headers, |db| {
        db.view_by_unid(&unid).cloned()
    })
}

fn entries(
    st: &Shared,
    user: &AuthUser,
    p: &Params,
    q: &Params,
    headers: &HeaderMap,
    pick: impl FnOnce(&Database) -> Option<views::ViewDef>,
) -> Response {
    let r = st.read(|s| {
        let db = open(s, &db_path(p), Need::Views)?;
        let view = pick(db)
            .ok_or_else(|| DasError::not_found("The URI must refer to an existing view."))?;
        if !view.das_enabled {
            return Err(DasError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "The Domino data service is not enabled for this view {}.",
                    view.name
                ),
            ));
        }
        let paging = views::paging(q, header_str(headers, "range"), s.settings.max_view_entries)?;
        let mask = views::system_columns(q)?;
        let docs = views::select(db, &view, &user.0, &Selection::from_query(q));
        let total = docs.len();
        let href = db.href();
        let page: Vec<Value> = docs
            .iter()
            .enumerate()
            .skip(paging.start)
            .take(paging.count)
            .map(|(i, d)| views::entry(&href, &view, d, i + 1, total, mask))
            .collect();
        let mut resp = json_response(StatusCode::OK, &Value::Array(page));
        let counted = q
            .get("entrycount")
            .is_none_or(|v| !v.eq_ignore_ascii_case("false"));
        if let Some(cr) = views::content_range(paging, total).filter(|_| counted) {
            if let Ok(v) = HeaderValue::from_str(&cr) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
        }
        Ok(resp)
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

/// `GET /api/data/documents?since=&search=&searchmaxdocs=`: every readable document.
pub async fn list_documents(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
) -> Response {
    let r = st.read(|s| {
        let db = open(s, &db_path(&p), Need::Documents)?;
        let since = match q.get("since") {
            Some(v) => Some(parse_iso(v).ok_or_else(|| DasError::invalid_param("since", v))?),
            None => None,
        };
        let max = match q.get("searchmaxdocs") {
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| DasError::invalid_param("searchmaxdocs", v))?,
            None => usize::MAX,
        };
        let search = q.get("search").filter(|s| !s.is_empty());
        let mut docs: Vec<&Document> = db
            .docs
            .values()
            .filter(|d| d.readable_by(&user.0))
            .filter(|d| match since {
                Some(t) if assumed::SINCE_IS_STRICT => secs(d.modified) > secs(t),
                Some(t) => secs(d.modified) >= secs(t),
                None => true,
            })
            .filter(|d| search.is_none_or(|q| views::matches_search(d, q)))
            .collect();
        docs.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.noteid.cmp(&b.noteid)));
        let href = db.href();
        let list: Vec<Value> = docs
            .iter()
            .take(max)
            .map(|d| {
                json!({
                    "@modified": iso(d.modified),
                    "@unid": d.unid,
                    "@href": format!("{href}/api/data/documents/unid/{}", d.unid),
                })
            })
            .collect();
        Ok::<_, DasError>(json_response(StatusCode::OK, &Value::Array(list)))
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Items a client sent, minus the keys DAS ignores (§2.4).
fn body_items(body: &[u8]) -> Result<Vec<(String, Item)>, DasError> {
    let Value::Object(o) = parse_json(body)? else {
        return Err(DasError::json_parse());
    };
    let mut out = Vec::new();
    for (k, v) in o {
        if k.starts_with('$') || k.starts_with('@') || k.eq_ignore_ascii_case("Form") {
            continue;
        }
        let item = Item::from_json(&v).map_err(|e| {
            DasError::bad_request(format!("Error while parsing the JSON content: {k}: {e}"))
        })?;
        out.push((k, item));
    }
    Ok(out)
}

/// `computewithform=true`: required items and the form's computed items (*assumed* rules).
fn compute_with_form(doc: &mut Document) -> Result<(), DasError> {
    let form = doc
        .form()
        .ok_or_else(|| DasError::bad_request("computewithform requires a form."))?;
    if !assumed::known_form(&form) {
        return Err(DasError::bad_request(format!("Form {form} not found.")));
    }
    for item in assumed::required_items(&form) {
        if doc.text(item).is_none_or(|v| v.trim().is_empty()) {
            return Err(DasError::bad_request(format!(
                "Document failed validation: {item} is required."
            )));
        }
    }
    if form == assumed::FORM_PERSON {
        let full = [person::LAST_NAME, person::FIRST_NAME]
            .iter()
            .filter_map(|i| doc.text(i))
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        doc.set(person::FULL_NAME, Item::Text(full));
    }
    Ok(())
}

fn location(st: &Shared, db_href: &str, rest: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{}{db_href}{rest}", st.base_url)).ok()
}

/// `POST /api/data/documents?form=&computewithform=&parentid=`: 201, `Location`, no body.
pub async fn create_document(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    body: Bytes,
) -> Response {
    let path = db_path(&p);
    let r = st.write(|s| {
        open(s, &path, Need::Documents)?;
        let items = body_items(&body)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let parent = match q.get("parentid") {
            Some(pid) => Some(
                db.doc(pid)
                    .map(|d| d.unid.clone())
                    .ok_or_else(|| DasError::not_found("Invalid universal id"))?,
            ),
            None => None,
        };
        let form = q.get("form").filter(|f| !f.is_empty()).map(String::as_str);
        let mut doc = Document {
            unid: String::new(),
            noteid: 0,
            created: Utc::now(),
            modified: Utc::now(),
            parent: None,
            authors: vec![],
            items: Default::default(),
        };
        if let Some(f) = form {
            doc.set("Form", Item::text(f));
        }
        for (k, v) in &items {
            doc.set(k, v.clone());
        }
        if flag(&q, "computewithform") {
            compute_with_form(&mut doc)?;
        }
        let unid = db.create(
            form,
            doc.items.into_iter().collect(),
            &user.0.full_name,
            Utc::now(),
        );
        if let Some(d) = db.doc_mut(&unid) {
            d.parent = parent;
            d.set("$UpdatedBy", Item::Authors(vec![user.0.full_name.clone()]));
        }
        Ok((db.href(), unid))
    });
    match r {
        Ok((href, unid)) => {
            let mut resp = StatusCode::CREATED.into_response();
            if let Some(v) = location(&st, &href, &format!("/api/data/documents/unid/{unid}")) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Err(e) => e.into_response(),
    }
}

fn readable<'a>(db: &'a Database, unid: &str, user: &AuthUser) -> Result<&'a Document, DasError> {
    db.doc(unid)
        .filter(|d| d.readable_by(&user.0))
        .ok_or_else(|| DasError::not_found("Invalid universal id"))
}

pub async fn get_document(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    headers: HeaderMap,
) -> Response {
    let unid = p.get("unid").cloned().unwrap_or_default();
    let r = st.read(|s| {
        let db = open(s, &db_path(&p), Need::Documents)?;
        let doc = readable(db, &unid, &user)?;
        if let Some(since) = header_str(&headers, "if-modified-since").and_then(parse_http_date) {
            if secs(doc.modified) <= secs(since) {
                return Err(DasError::empty(StatusCode::NOT_MODIFIED));
            }
        }
        let f = DocFormat {
            hidden: flag(&q, "hidden"),
            fields: q.get("fields").map(|f| {
                f.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            }),
            lowercase: flag(&q, "lowercasefields"),
            items: ItemFormat {
                strongtype: flag(&q, "strongtype"),
                multipart: q
                    .get("multipart")
                    .is_none_or(|v| !v.eq_ignore_ascii_case("false")),
            },
        };
        let mut resp = json_response(StatusCode::OK, &doc.render(&db.href(), &f));
        if let Ok(v) = HeaderValue::from_str(&http_date(doc.modified)) {
            resp.headers_mut().insert(header::LAST_MODIFIED, v);
        }
        Ok(resp)
    });
    r.unwrap_or_else(IntoResponse::into_response)
}

/// 412 with no body when the document changed after `If-Unmodified-Since` or the header is
/// unreadable (§2.5).
fn check_unmodified(doc: &Document, headers: &HeaderMap) -> Result<(), DasError> {
    let Some(h) = header_str(headers, "if-unmodified-since") else {
        return Ok(());
    };
    match parse_http_date(h) {
        Some(t) if secs(doc.modified) <= secs(t) => Ok(()),
        _ => Err(DasError::empty(StatusCode::PRECONDITION_FAILED)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    Put,
    Patch,
}

fn update(
    st: &Shared,
    user: &AuthUser,
    p: &Params,
    q: &Params,
    headers: &HeaderMap,
    body: &[u8],
    mode: Write,
) -> Response {
    let unid = p.get("unid").cloned().unwrap_or_default();
    let path = db_path(p);
    let r = st.write(|s| {
        open(s, &path, Need::Documents)?;
        let items = body_items(body)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let doc = db
            .doc_mut(&unid)
            .filter(|d| d.readable_by(&user.0))
            .ok_or_else(|| DasError::not_found("Invalid universal id"))?;
        check_unmodified(doc, headers)?;
        let mut next = doc.clone();
        if let Some(f) = q.get("form").filter(|f| !f.is_empty()) {
            next.set("Form", Item::text(f.clone()));
        }
        for (k, v) in &items {
            next.set(k, v.clone());
        }
        if mode == Write::Put {
            // PUT replaces: every item not sent goes, except `$` items and Form (§2.4).
            next.items.retain(|k, _| {
                k.starts_with('$')
                    || k.eq_ignore_ascii_case("Form")
                    || items.iter().any(|(n, _)| n.eq_ignore_ascii_case(k))
            });
        }
        if flag(q, "computewithform") {
            compute_with_form(&mut next)?;
        }
        next.modified = Utc::now();
        next.set("$UpdatedBy", Item::Authors(vec![user.0.full_name.clone()]));
        *doc = next;
        Ok(())
    });
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

pub async fn put_document(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&st, &user, &p, &q, &headers, &body, Write::Put)
}

pub async fn patch_document(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    Query(q): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    update(&st, &user, &p, &q, &headers, &body, Write::Patch)
}

pub async fn delete_document(
    State(st): State<Shared>,
    Extension(user): Extension<AuthUser>,
    Path(p): Path<Params>,
    headers: HeaderMap,
) -> Response {
    let unid = p.get("unid").cloned().unwrap_or_default();
    let path = db_path(&p);
    let r = st.write(|s| {
        open(s, &path, Need::Documents)?;
        let Some(db) = s.db_mut(&path) else {
            return Err(DasError::not_found(format!("Cannot open database {path}.")));
        };
        let doc = readable(db, &unid, &user)?;
        check_unmodified(doc, &headers)?;
        if take_conflict(&st) {
            return Err(DasError::new(
                StatusCode::CONFLICT,
                "Document is not deleted because another user modified it.",
            ));
        }
        let key = doc.unid.clone();
        db.docs.remove(&key);
        Ok(())
    });
    match r {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

/// Consumes one injected delete race, if any is pending.
pub fn take_conflict(st: &Shared) -> bool {
    use std::sync::atomic::Ordering;
    st.delete_conflicts
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// Items of a document as a JSON object, for the sandbox control answers.
pub fn summary(doc: &Document) -> Value {
    let mut m = Map::new();
    m.insert("@unid".into(), json!(doc.unid));
    m.insert("@modified".into(), json!(iso(doc.modified)));
    Value::Object(m)
}
