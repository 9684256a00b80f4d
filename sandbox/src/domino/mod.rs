//! Domino Access Services emulator (reference/domino.md): the Data service over a mail file and
//! names.nsf, the Calendar service, Basic and session authentication, and the injectable
//! failures of §10 under `/_sandbox/domino/*`.
//!
//! Databases are addressed as on a real server, `/{db}.nsf/api/…` or `/{folder}/{db}.nsf/api/…`.

pub mod assumed;
mod auth;
mod calendar;
mod data;
pub mod http;
pub mod item;
pub mod model;
mod sandbox_routes;
pub(crate) mod saver;
mod seed;
pub mod views;

use crate::control::{control_routes, FaultLayerState};
use crate::{persist, Built, Control, EmulatorContext, Service};
use axum::extract::Request;
use axum::http::Method;
use axum::routing::get;
use axum::Router;
use model::Store;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, MutexGuard};
use tower::Layer;

/// The database the seeded user's credentials point at.
pub const MAIL_DB: &str = "mail/tyamada.nsf";

/// The emulator's state, shared by every handler.
pub struct Domino {
    store: Mutex<Store>,
    sessions: Mutex<HashMap<String, auth::Session>>,
    /// The next N deletes fail with the 409 of a concurrent edit (§2.5).
    pub delete_conflicts: AtomicU32,
    /// Absolute base for `Location` headers.
    pub base_url: String,
    saver: Option<saver::Saver>,
}

pub type Shared = Arc<Domino>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Domino {
    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&lock(&self.store))
    }

    /// Runs a change and schedules a save when a data directory is set.
    pub fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let r = f(&mut lock(&self.store));
        if let Some(s) = &self.saver {
            s.changed();
        }
        r
    }

    fn snapshot(&self) -> Store {
        lock(&self.store).clone()
    }
}

/// `X-HTTP-Method-Override: PUT|PATCH|DELETE` on a POST runs as that method (§1). Done before
/// routing so the overridden method picks the handler.
async fn method_override(mut req: Request) -> Request {
    if req.method() == Method::POST {
        let m = req
            .headers()
            .get("x-http-method-override")
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_ascii_uppercase());
        match m.as_deref() {
            Some("PUT") => *req.method_mut() = Method::PUT,
            Some("PATCH") => *req.method_mut() = Method::PATCH,
            Some("DELETE") => *req.method_mut() = Method::DELETE,
            _ => {}
        }
    }
    req
}

fn api_routes() -> Router<Shared> {
    let mut r = Router::new().route("/api/data", get(data::list_databases));
    for prefix in ["/{db}", "/{folder}/{db}"] {
        let p = |rest: &str| format!("{prefix}{rest}");
        r = r
            .route(&p("/api/data/collections"), get(data::collections))
            .route(
                &p("/api/data/collections/name/{view}"),
                get(data::entries_by_name),
            )
            .route(
                &p("/api/data/collections/name/{view}/design"),
                get(data::design),
            )
            .route(
                &p("/api/data/collections/unid/{viewunid}"),
                get(data::entries_by_unid),
            )
            .route(
                &p("/api/data/documents"),
                get(data::list_documents).post(data::create_document),
            )
            .route(
                &p("/api/data/documents/unid/{unid}"),
                get(data::get_document)
                    .put(data::put_document)
                    .patch(data::patch_document)
                    .delete(data::delete_document),
            )
            .route(
                &p("/api/calendar/events"),
                get(calendar::list).post(calendar::create),
            )
            .route(
                &p("/api/calendar/events/{uid}"),
                get(calendar::get_one)
                    .put(calendar::update)
                    .delete(calendar::delete),
            );
    }
    r
}

pub fn build(ctx: &EmulatorContext) -> Built {
    let control = Control::new();
    let path = persist::path_for(ctx.data_dir.as_deref(), "domino");
    let loaded = path.as_deref().and_then(persist::load::<Store>);
    let fresh = loaded.is_none();
    let store = loaded.unwrap_or_else(|| seed::store(ctx.extra_records, chrono::Utc::now()));
    let state: Shared = Arc::new_cyclic(|weak: &std::sync::Weak<Domino>| {
        let weak = weak.clone();
        Domino {
            store: Mutex::new(store),
            sessions: Mutex::new(HashMap::new()),
            delete_conflicts: AtomicU32::new(0),
            base_url: ctx.urls.domino.clone(),
            saver: path
                .map(|p| saver::Saver::spawn(p, move || weak.upgrade().map(|d| d.snapshot()))),
        }
    });
    if fresh {
        if let Some(s) = &state.saver {
            s.changed();
        }
    }

    let fault = FaultLayerState {
        control: control.clone(),
        render: http::render_fault,
    };
    let api = api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            fault,
            crate::control::apply,
        ));
    let inner = api
        .merge(auth::login_routes())
        .merge(sandbox_routes::routes())
        .fallback(data::not_found)
        .with_state(state.clone())
        .merge(control_routes(control.clone()));
    let router =
        Router::new().fallback_service(axum::middleware::map_request(method_override).layer(inner));

    let credentials = state.read(|s| {
        let user = s.users.first();
        json!({
            "server": ctx.urls.domino,
            "database": MAIL_DB,
            "username": user.map(|u| u.short_name.clone()),
            "password": user.map(|u| u.password.clone()),
            "contacts_view": assumed::CONTACTS_VIEW,
            "todo_view": assumed::TODO_VIEW,
        })
    });
    Built {
        service: Service { router, control },
        credentials,
    }
}
