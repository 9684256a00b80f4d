//! 奉行クラウド API emulator (reference/obc.md). The real API reference is not public, so every
//! shape here is an assumption kept in [`assumed`] (reference/obc.md §4): OAuth2 authorization
//! code with an OBCiD login page and a 「許可する」 consent page, rotating refresh tokens, the
//! subscription-key and tenant headers, SearchTenant, export/import of 取引先 and 社員, and a
//! per-tenant rate limit.

mod api;
pub mod assumed;
mod gateway;
pub mod model;
mod oauth;
mod ratelimit;
mod sandbox_routes;
mod schema;
pub mod seed;
mod token;

use crate::control::{control_routes, FaultLayerState};
use crate::domino::saver::Saver;
use crate::{persist, Built, Control, EmulatorContext, Service};
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Router};
use gateway::Caller;
use model::Store;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Obc {
    store: Mutex<Store>,
    pending: Mutex<HashMap<String, oauth::Pending>>,
    codes: Mutex<HashMap<String, oauth::Code>>,
    /// Browser sign-ins on the authorize pages: cookie → OBCiD.
    sessions: Mutex<HashMap<String, String>>,
    limiter: ratelimit::Limiter,
    saver: Option<Saver>,
}

pub type Shared = Arc<Obc>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Obc {
    fn read<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        f(&lock(&self.store))
    }

    fn write<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let r = f(&mut lock(&self.store));
        if let Some(s) = &self.saver {
            s.changed();
        }
        r
    }
}

fn api_routes() -> Router<Shared> {
    let mut r = Router::new()
        .route(assumed::TOKEN_PATH, post(token::token))
        .route(
            assumed::SEARCH_TENANT_PATH,
            post(
                |State(st): State<Shared>, Extension(c): Extension<Caller>, b: Bytes| {
                    api::search_tenant(st, c, b)
                },
            ),
        );
    for &e in assumed::ENTITIES {
        r = r
            .route(
                &format!("/{}/export{}", e.module, e.name),
                post(
                    move |State(st): State<Shared>, Extension(c): Extension<Caller>, b: Bytes| {
                        api::export(e, st, c, b)
                    },
                ),
            )
            .route(
                &format!("/{}/import{}", e.module, e.name),
                post(
                    move |State(st): State<Shared>, Extension(c): Extension<Caller>, b: Bytes| {
                        api::import(e, st, c, b)
                    },
                ),
            );
    }
    r
}

pub fn build(ctx: &EmulatorContext) -> Built {
    let control = Control::new();
    let path = persist::path_for(ctx.data_dir.as_deref(), "obc");
    let loaded = path.as_deref().and_then(persist::load::<Store>);
    let fresh = loaded.is_none();
    let mut store = loaded.unwrap_or_else(|| seed::store(ctx.extra_records, chrono::Utc::now()));

    // A fixed token (the non-web route of reference §2), kept across restarts.
    let first_user = store
        .users
        .first()
        .map(|u| u.obcid.clone())
        .unwrap_or_default();
    let fixed = store
        .access
        .iter()
        .find(|(_, t)| t.expires_at.is_none() && t.obcid == first_user)
        .map(|(k, _)| k.clone());
    let fixed = fixed.unwrap_or_else(|| {
        let client = store
            .clients
            .first()
            .map(|c| c.client_id.clone())
            .unwrap_or_default();
        store
            .issue(&first_user, &client, true, chrono::Utc::now())
            .access_token
    });

    let state: Shared = Arc::new_cyclic(|weak: &std::sync::Weak<Obc>| {
        let weak = weak.clone();
        Obc {
            store: Mutex::new(store),
            pending: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            limiter: ratelimit::Limiter::new(assumed::RATE_LIMIT_PER_MINUTE),
            saver: path
                .map(|p| Saver::spawn(p, move || weak.upgrade().map(|o| o.read(Store::clone)))),
        }
    });
    if fresh {
        if let Some(s) = &state.saver {
            s.changed();
        }
    }

    let fault = FaultLayerState {
        control: control.clone(),
        render: gateway::render_fault,
    };
    let router = api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gateway::gateway,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            fault,
            crate::control::apply,
        ))
        .merge(oauth::routes())
        .merge(sandbox_routes::routes())
        .fallback(gateway::not_found)
        .with_state(state.clone())
        .merge(control_routes(control.clone()));

    let base = &ctx.urls.obc;
    let credentials = state.read(|s| {
        let user = s.users.first();
        let client = s.clients.first();
        let tenants: Vec<_> = user
            .map(|u| {
                u.tenants
                    .iter()
                    .filter_map(|id| s.tenant(id))
                    .map(|t| json!({"id": t.id, "code": t.code, "name": t.name}))
                    .collect()
            })
            .unwrap_or_default();
        json!({
            "base_url": base,
            "authorize_url": format!("{base}{}", assumed::AUTHORIZE_PATH),
            "token_url": format!("{base}{}", assumed::TOKEN_PATH),
            "client_id": client.map(|c| c.client_id.clone()),
            "client_secret": client.map(|c| c.client_secret.clone()),
            "subscription_key": s.subscription_keys.first(),
            "obcid": {"id": user.map(|u| u.obcid.clone()), "password": user.map(|u| u.password.clone())},
            "tenants": tenants,
            "fixed_access_token": fixed,
        })
    });
    Built {
        service: Service { router, control },
        credentials,
    }
}
