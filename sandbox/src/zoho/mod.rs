//! Zoho emulator (reference/zoho-crm.md): an accounts server (OAuth 2.0 consent page, token,
//! refresh, revoke) and the CRM v8 API, on two ports, serving two orgs — org A
//! 「株式会社サンプル本社」 and org B 「サンプル販売株式会社」 — each with its own OAuth client,
//! user and records. The access token decides which org a CRM call sees.

pub mod assumed;
mod caller;
mod consent;
mod crm;
mod errors;
mod metadata;
mod model;
mod oauth;
mod params;
mod read;
mod sandbox_routes;
pub mod schema;
mod search;
mod seed;
mod seed_data;
mod tokens;
mod values;
mod write;

use crate::control::{control_routes, FaultLayerState};
use crate::domino::saver::Saver;
use crate::{persist, BuiltZoho, Control, EmulatorContext, Service};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

pub struct Zoho {
    store: Mutex<model::Store>,
    pending: Mutex<HashMap<String, consent::Pending>>,
    codes: Mutex<HashMap<String, consent::Code>>,
    /// Browser sign-ins on the consent page: cookie → org.
    sessions: Mutex<HashMap<String, usize>>,
    saver: Option<Saver>,
    accounts_url: String,
    /// `api_domain` of token replies: the SDKs then call this emulator, not a real Zoho (§11).
    crm_url: String,
    extra_records: usize,
}

pub type Shared = Arc<Zoho>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Zoho {
    fn read<R>(&self, f: impl FnOnce(&model::Store) -> R) -> R {
        f(&lock(&self.store))
    }

    fn write<R>(&self, f: impl FnOnce(&mut model::Store) -> R) -> R {
        let r = f(&mut lock(&self.store));
        if let Some(s) = &self.saver {
            s.changed();
        }
        r
    }
}

pub fn build(ctx: &EmulatorContext) -> BuiltZoho {
    let path = persist::path_for(ctx.data_dir.as_deref(), "zoho");
    let loaded = path
        .as_deref()
        .and_then(persist::load::<model::Saved>)
        .map(model::Store::from_saved)
        .filter(|s| s.orgs.len() == 2);
    let fresh = loaded.is_none();
    let store = loaded.unwrap_or_else(|| seed::store(ctx.extra_records, model::now()));

    let state: Shared = Arc::new_cyclic(|weak: &std::sync::Weak<Zoho>| {
        let weak = weak.clone();
        Zoho {
            store: Mutex::new(store),
            pending: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            sessions: Mutex::new(HashMap::new()),
            saver: path.map(|p| {
                Saver::spawn(p, move || {
                    weak.upgrade().map(|z| z.read(model::Store::to_saved))
                })
            }),
            accounts_url: ctx.urls.zoho_accounts.clone(),
            crm_url: ctx.urls.zoho_crm.clone(),
            extra_records: ctx.extra_records,
        }
    });
    if fresh {
        if let Some(s) = &state.saver {
            s.changed();
        }
    }

    let accounts_control = Control::new();
    let accounts = oauth::api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            FaultLayerState {
                control: accounts_control.clone(),
                render: errors::render_accounts_fault,
            },
            crate::control::apply,
        ))
        .merge(oauth::info_routes())
        .merge(consent::routes())
        .merge(sandbox_routes::token_routes())
        .with_state(state.clone())
        .merge(control_routes(accounts_control.clone()));

    let crm_control = Control::new();
    let crm = crm::api_routes()
        .route_layer(axum::middleware::from_fn_with_state(
            FaultLayerState {
                control: crm_control.clone(),
                render: errors::render_crm_fault,
            },
            crate::control::apply,
        ))
        .merge(sandbox_routes::token_routes())
        .merge(sandbox_routes::data_routes())
        .fallback(errors::crm_not_found)
        .method_not_allowed_fallback(errors::crm_bad_method)
        .with_state(state.clone())
        .merge(control_routes(crm_control.clone()));

    BuiltZoho {
        accounts: Service {
            router: accounts,
            control: accounts_control,
        },
        crm: Service {
            router: crm,
            control: crm_control,
        },
        credentials: credentials(&state),
    }
}

fn credentials(st: &Shared) -> serde_json::Value {
    let orgs: Vec<_> = st.read(|s| {
        s.orgs
            .iter()
            .map(|o| {
                let i = &o.info;
                json!({
                    "org": i.key,
                    "name": i.name,
                    "client_id": i.client.client_id,
                    "client_secret": i.client.client_secret,
                    "refresh_token": i.preset_refresh_token,
                    "user": {"email": i.user.email, "password": i.user.password},
                })
            })
            .collect()
    });
    json!({
        "accounts_url": st.accounts_url,
        "api_domain": st.crm_url,
        "orgs": orgs,
        "redirect_uris_allowed": "any http://localhost or http://127.0.0.1 URI",
    })
}
