//! kintone REST API emulator (reference/kintone.md): records (single, batch, upsert, cursor,
//! bulkRequest) with the real limits and the query language, app and form metadata, files,
//! password and API-token auth, guest-space paths, and the error JSON of kintone. Seeded with
//! 「顧客管理」, 「活動履歴」 and a guest-space app (see `seed`).
//!
//! Besides the shared `/_sandbox/{stats,faults}` it serves `/_sandbox/kintone/*` (see
//! `sandbox_routes`): bulk seeding for benchmarks, a clock to expire cursors, a reset.

pub mod apps;
pub mod assumed;
pub mod auth;
pub mod bulk;
pub mod cursor;
pub mod error;
pub mod eval;
pub mod file;
pub mod http;
pub mod model;
pub mod params;
pub mod query;
pub mod records;
mod sandbox_routes;
mod saver;
pub mod seed;
mod seed_gen;
pub mod select;
pub mod time;
pub mod tx;
pub mod values;
pub mod write;

use crate::control::{control_routes, FaultLayerState};
use crate::{persist, Built, Control, EmulatorContext, Service};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use model::Store;
use serde_json::json;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tower::Layer;
use tx::Tx;

/// The emulator's state, shared by every handler. Lock order: store, then cursors or files.
pub struct Kintone {
    store: RwLock<Store>,
    cursors: Mutex<cursor::Cursors>,
    files: Mutex<file::Files>,
    /// Seconds added to the wall clock (`/_sandbox/kintone/clock`), to expire cursors in tests.
    clock_offset: AtomicI64,
    extra_records: usize,
    saver: Option<saver::Saver>,
}

pub type Shared = Arc<Kintone>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The first instant of today (UTC): seed times are relative to it.
fn anchor() -> DateTime<Utc> {
    let now = Utc::now();
    now - Duration::seconds(now.timestamp().rem_euclid(86_400))
}

impl Kintone {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.clock_offset.load(Ordering::Relaxed))
    }

    pub fn advance_clock(&self, secs: i64) -> i64 {
        self.clock_offset.fetch_add(secs, Ordering::Relaxed) + secs
    }

    pub fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        let g = self.store.read().unwrap_or_else(|p| p.into_inner());
        f(&g)
    }

    /// Runs `f` in a transaction: rolled back when it fails, saved when it changed something.
    pub fn transact<R, E>(&self, f: impl FnOnce(&mut Tx) -> Result<R, E>) -> Result<R, E> {
        let mut g = self.store.write().unwrap_or_else(|p| p.into_inner());
        let mut tx = Tx::new(&mut g);
        let r = f(&mut tx);
        match r {
            Ok(v) => {
                if tx.changed() {
                    self.changed();
                }
                Ok(v)
            }
            Err(e) => {
                tx.rollback();
                Err(e)
            }
        }
    }

    /// Direct change outside the API (seeding, reset).
    pub fn modify<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut g = self.store.write().unwrap_or_else(|p| p.into_inner());
        let r = f(&mut g);
        self.changed();
        r
    }

    pub fn with_cursors<R>(&self, f: impl FnOnce(&mut cursor::Cursors) -> R) -> R {
        f(&mut lock(&self.cursors))
    }

    pub fn with_files<R>(&self, f: impl FnOnce(&mut file::Files) -> R) -> R {
        f(&mut lock(&self.files))
    }

    /// Back to the seed data: no cursors, no files, the real clock.
    pub fn reset(&self) {
        let fresh = seed::store(self.extra_records, anchor());
        self.modify(|s| *s = fresh);
        self.with_cursors(|c| c.clear());
        self.with_files(|f| f.clear());
        self.clock_offset.store(0, Ordering::Relaxed);
    }

    fn changed(&self) {
        if let Some(s) = &self.saver {
            s.changed();
        }
    }

    fn snapshot(&self) -> Store {
        self.read(|s| s.clone())
    }
}

pub fn build(ctx: &EmulatorContext) -> Built {
    let control = Control::new();
    let path = persist::path_for(ctx.data_dir.as_deref(), "kintone");
    let loaded = path.as_deref().and_then(persist::load::<Store>);
    let fresh = loaded.is_none();
    let mut store = loaded.unwrap_or_else(|| seed::store(ctx.extra_records, anchor()));
    store.rebuild_indexes();
    let state: Shared = Arc::new_cyclic(|weak: &std::sync::Weak<Kintone>| {
        let weak = weak.clone();
        Kintone {
            store: RwLock::new(store),
            cursors: Mutex::new(cursor::Cursors::default()),
            files: Mutex::new(file::Files::default()),
            clock_offset: AtomicI64::new(0),
            extra_records: ctx.extra_records,
            saver: path
                .map(|p| saver::Saver::spawn(p, move || weak.upgrade().map(|k| k.snapshot()))),
        }
    });
    if fresh {
        state.changed();
    }

    let fault = FaultLayerState {
        control: control.clone(),
        render: error::render_fault,
    };
    let inner = http::api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            fault,
            crate::control::apply,
        ))
        .merge(sandbox_routes::routes())
        .with_state(state.clone())
        .merge(control_routes(control.clone()));
    let router = Router::new()
        .fallback_service(axum::middleware::map_request(http::method_override).layer(inner));

    let credentials = state.read(|s| {
        let apps: Vec<_> = s
            .apps
            .values()
            .map(|a| {
                let mut j = json!({
                    "id": a.id.to_string(),
                    "name": a.name,
                    "api_token": seed::app_token(a.id),
                    "guest_space_id": a.space_id.map(|x| x.to_string()),
                });
                if a.tokens
                    .iter()
                    .any(|t| t.token == seed::readonly_token(a.id))
                {
                    j["readonly_api_token"] = json!(seed::readonly_token(a.id));
                }
                j
            })
            .collect();
        json!({
            "base_url": ctx.urls.kintone,
            "apps": apps,
            "login": {"username": seed::LOGIN, "password": seed::PASSWORD},
            "guest_space_id": seed::GUEST_SPACE.to_string(),
            "updated_time_field": "更新日時",
        })
    });
    Built {
        service: Service { router, control },
        credentials,
    }
}
