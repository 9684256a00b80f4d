//! お問い合わせ (manual, 付録3): five required fields of at most 100 characters each, with a
//! live counter; every field is checked at once with the hub's own rules, then saved through
//! `hub.submit_inquiry`. Admins also see the received inquiries.

use axum::extract::State;
use hub_core::inquiries::MAX_LEN;
use hub_core::validate;
use hub_domain::NewInquiry;
use minijinja::{context, Value};

use super::auth::Viewer;
use super::form::Form;
use super::i18n::t;
use super::labels;
use super::messages::{self, FieldErrors};
use super::render::{page_with, see_other, OrPage, PageResult};
use super::session;
use crate::error::PageFault;
use crate::AppState;

/// Form field, catalogue key of its label.
const FIELDS: [(&str, &str); 5] = [
    ("company", "contact.company"),
    ("name", "contact.name"),
    ("email", "contact.email"),
    ("registration_number", "contact.registration_number"),
    ("connector_name", "contact.connector_name"),
];

async fn render(s: &AppState, v: &Viewer, values: &NewInquiry, errors: &FieldErrors) -> PageResult {
    let lang = v.ctx.lang;
    let value_of = |k: &str| match k {
        "company" => values.company.clone(),
        "name" => values.name.clone(),
        "email" => values.email.clone(),
        "registration_number" => values.registration_number.clone(),
        _ => values.connector_name.clone(),
    };
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(k, label)| {
            context! {
                name => *k,
                label => t(lang, label),
                value => value_of(k),
                kind => if *k == "email" { "email" } else { "text" },
                error => errors.get(*k).cloned(),
            }
        })
        .collect();
    let inquiries: Vec<Value> = if v.is_admin() {
        s.hub
            .list_inquiries(100)
            .await
            .or_page(lang)?
            .iter()
            .map(|i| {
                context! {
                    company => i.fields.company.clone(),
                    name => i.fields.name.clone(),
                    email => i.fields.email.clone(),
                    registration_number => i.fields.registration_number.clone(),
                    connector_name => i.fields.connector_name.clone(),
                    received => labels::datetime(Some(i.created_at)),
                }
            })
            .collect()
    } else {
        vec![]
    };
    let fault = PageFault::form(!errors.is_empty());
    Ok(page_with(
        s,
        &v.ctx,
        Some(&v.user),
        "contact.html",
        fault,
        context! {
            nav => "contact",
            fields => fields,
            max => MAX_LEN,
            inquiries => inquiries,
            is_admin => v.is_admin(),
            errors => errors,
        },
    )
    .await)
}

pub async fn page(State(s): State<AppState>, v: Viewer) -> PageResult {
    let empty = NewInquiry {
        company: String::new(),
        name: String::new(),
        email: String::new(),
        registration_number: String::new(),
        connector_name: String::new(),
    };
    render(&s, &v, &empty, &FieldErrors::new()).await
}

pub async fn submit(State(s): State<AppState>, v: Viewer, form: Form) -> PageResult {
    let lang = v.ctx.lang;
    let input = NewInquiry {
        company: form.get("company").to_string(),
        name: form.get("name").to_string(),
        email: form.get("email").to_string(),
        registration_number: form.get("registration_number").to_string(),
        connector_name: form.get("connector_name").to_string(),
    };
    let mut errors = FieldErrors::new();
    for (k, _) in FIELDS {
        let checked = match k {
            "email" => validate::text(k, form.get(k), MAX_LEN)
                .and_then(|_| validate::email(k, form.get(k))),
            _ => validate::text(k, form.get(k), MAX_LEN),
        };
        if let Err(e) = checked {
            messages::put(&mut errors, lang, &e, &|f| f.to_string());
        }
    }
    if errors.is_empty() {
        match s.hub.submit_inquiry(&input).await {
            Ok(id) => {
                tracing::info!(inquiry = %id, user = %v.user.username, "inquiry received");
                session::flash(&s, &v.ctx, &t(lang, "contact.sent")).await;
                return Ok(see_other("/contact"));
            }
            Err(e) => messages::put(&mut errors, lang, &e, &|f| f.to_string()),
        }
    }
    render(&s, &v, &input, &errors).await
}
