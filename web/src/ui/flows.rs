//! The flow editor (連携サービスの作成・編集) and a flow's page. The editor is one server-rendered
//! form: choosing a connection or object reloads it with that side's objects and fields (the
//! script submits on change; without script, the 読み込む button does), mapping rows are picked
//! from both schemas, and saving shows the flow's page with its next five run times.

use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Datelike;
use connector_sdk::{ObjectSchema, SettingKind};
use hub_core::Hub;
use hub_domain::RunFilter;
use hub_domain::{Flow, FlowSpec};
use hub_messages::Message;
use minijinja::{context, Value};
use std::collections::{BTreeMap, HashMap};

use super::auth::{Admin, Operator, Viewer};
use super::flow_draft::{form_field, Draft, Row};
use super::form::Form;
use super::home::flow_row;
use super::i18n::{t, tf, Lang};
use super::labels;
use super::mapping_form::{self, MapRow};
use super::messages::{self, FieldErrors};
use super::render::{page, page_with, see_other, OrPage, PageResult};
use super::session;
use crate::error::PageFault;
use crate::AppState;

pub const DIRECTIONS: [(&str, &str); 2] = [
    ("one_way", "flow.dir_one_way"),
    ("two_way", "flow.dir_two_way"),
];
pub const CONFLICTS: [(&str, &str); 4] = [
    ("source_wins", "flow.conflict_source_wins"),
    ("target_wins", "flow.conflict_target_wins"),
    ("newest_wins", "flow.conflict_newest_wins"),
    ("field_merge", "flow.conflict_field_merge"),
];
pub const NORMALIZERS: [(&str, &str); 4] = [
    ("none", "flow.norm_none"),
    ("nfkc", "flow.norm_nfkc"),
    ("company_name", "flow.norm_company_name"),
    ("phone", "flow.norm_phone"),
];
/// What a blank part of a match key of several fields does (`options.blank_key_parts`).
pub const BLANK_KEY_PARTS: [(&str, &str); 2] = [
    ("use_other", "flow.blank_use_other"),
    ("skip", "flow.blank_skip"),
];
/// Schedule presets offered next to the cron input.
const PRESETS: [(&str, &str); 5] = [
    ("0 5 * * *", "flow.preset_daily"),
    ("30 9 * * 1-5", "flow.preset_weekdays"),
    ("0 * * * *", "flow.preset_hourly"),
    ("*/15 * * * *", "flow.preset_15min"),
    ("0 5 1 * *", "flow.preset_monthly"),
];

fn choices(lang: Lang, list: &[(&str, &str)]) -> Vec<Value> {
    list.iter()
        .map(|(v, k)| context! { value => *v, label => t(lang, k) })
        .collect()
}

fn word(lang: Lang, list: &[(&str, &str)], value: &str) -> String {
    list.iter()
        .find(|(v, _)| *v == value)
        .map(|(_, k)| t(lang, k))
        .unwrap_or_else(|| value.to_string())
}

fn object_options(lang: Lang, objects: &[ObjectSchema], chosen: &str) -> Vec<Value> {
    let mut out: Vec<Value> = objects
        .iter()
        .map(|o| {
            let name = super::fields::text(lang, &o.name);
            let label = if name == o.id {
                name
            } else {
                format!("{name} ({})", o.id)
            };
            context! { value => o.id.clone(), label => label }
        })
        .collect();
    if !chosen.is_empty() && !objects.iter().any(|o| o.id == chosen) {
        out.push(context! { value => chosen, label => chosen });
    }
    out
}

fn field_options(objects: &[ObjectSchema], object: &str) -> Vec<Value> {
    objects
        .iter()
        .find(|o| o.id == object)
        .map(|o| {
            o.fields
                .iter()
                .map(|f| {
                    let label = if f.label == f.id || f.label.is_empty() {
                        f.id.clone()
                    } else {
                        format!("{} ({})", f.label, f.id)
                    };
                    context! { value => f.id.clone(), label => label }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The chosen object's read options as selects named `<prefix><key>`, each with a first choice
/// that follows the connection's setting; a saved value the object no longer offers stays shown.
fn read_option_inputs(
    lang: Lang,
    objects: &[ObjectSchema],
    object: &str,
    chosen: &BTreeMap<String, String>,
    prefix: &str,
    side_label: &str,
) -> Vec<Value> {
    let Some(o) = objects.iter().find(|o| o.id == object) else {
        return vec![];
    };
    o.read_options
        .iter()
        .map(|f| {
            let value = chosen.get(&f.key).cloned().unwrap_or_default();
            let mut choices = vec![context! { value => "", label => t(lang, "flow.read_option_follow") }];
            if let SettingKind::Select { options } = &f.kind {
                choices.extend(options.iter().map(|c| {
                    context! { value => c.value.clone(), label => super::fields::text(lang, &c.label) }
                }));
                if !value.is_empty() && !options.iter().any(|c| c.value == value) {
                    choices.push(context! { value => value.clone(), label => value.clone() });
                }
            }
            let name = super::fields::text(lang, &f.label);
            context! {
                name => format!("{prefix}{}", f.key),
                label => tf(lang, side_label, &[("name", &name)]),
                help => f.help.as_ref().map(|h| super::fields::text(lang, h)),
                value => value,
                choices => choices,
            }
        })
        .collect()
}

async fn objects_of(
    s: &AppState,
    lang: Lang,
    conn: &str,
    field: &str,
    errors: &mut FieldErrors,
    cache: &mut HashMap<String, Vec<ObjectSchema>>,
) -> Vec<ObjectSchema> {
    if conn.is_empty() {
        return vec![];
    }
    if let Some(o) = cache.get(conn) {
        return o.clone();
    }
    match s.hub.connection_objects(conn).await {
        Ok(o) => {
            cache.insert(conn.to_string(), o.clone());
            o
        }
        Err(e) => {
            errors.entry(field.into()).or_insert_with(|| {
                tf(
                    lang,
                    "flow.err_objects",
                    &[("reason", &messages::hub_error(lang, &e))],
                )
            });
            vec![]
        }
    }
}

async fn render_form(
    s: &AppState,
    v: &Viewer,
    id: Option<&str>,
    mut d: Draft,
    mut errors: FieldErrors,
) -> PageResult {
    let lang = v.ctx.lang;
    let conns = s.hub.list_connections().await.or_page(lang)?;
    let mut cache = HashMap::new();
    let src = objects_of(s, lang, &d.src_conn, "src_conn", &mut errors, &mut cache).await;
    let dst = objects_of(s, lang, &d.dst_conn, "dst_conn", &mut errors, &mut cache).await;
    mapping_form::suggest(&mut d, &src, &dst);
    let target = dst.iter().find(|o| o.id == d.dst_obj);
    let required = mapping_form::required_fields(lang, &mut d.mapping, target, d.create_missing);
    // Always an empty row to fill in (the posted form has it already).
    if !d.mapping.last().is_some_and(MapRow::is_blank) {
        d.mapping.push(MapRow::default());
    }
    d.keys.push(Row {
        norm: "nfkc".into(),
        ..Default::default()
    });
    let fault = PageFault::form(!errors.is_empty());
    let mut read_options = read_option_inputs(
        lang,
        &src,
        &d.src_obj,
        &d.src_options,
        "src_opt.",
        "flow.read_option_source",
    );
    if d.direction == "two_way" {
        read_options.extend(read_option_inputs(
            lang,
            &dst,
            &d.dst_obj,
            &d.dst_options,
            "dst_opt.",
            "flow.read_option_target",
        ));
    }
    let connections: Vec<Value> = conns
        .iter()
        .map(|c| context! { value => c.id.clone(), label => c.name.clone() })
        .collect();
    Ok(page_with(
        s,
        &v.ctx,
        Some(&v.user),
        "flow_form.html",
        fault,
        context! {
            nav => "home",
            id => id,
            action => id.map(|i| format!("/flows/{i}/edit")).unwrap_or_else(|| "/flows/new".into()),
            d => &d,
            connections => connections,
            src_objects => object_options(lang, &src, &d.src_obj),
            dst_objects => object_options(lang, &dst, &d.dst_obj),
            src_fields => field_options(&src, &d.src_obj),
            dst_fields => field_options(&dst, &d.dst_obj),
            required_fields => required,
            transform_kinds => mapping_form::kind_choices(lang),
            blank_row => MapRow::default(),
            blank_key => Row { norm: "nfkc".into(), ..Default::default() },
            read_options => read_options,
            directions => choices(lang, &DIRECTIONS),
            conflicts => choices(lang, &CONFLICTS),
            normalizers => choices(lang, &NORMALIZERS),
            blank_key_parts => choices(lang, &BLANK_KEY_PARTS),
            presets => choices(lang, &PRESETS),
            errors => errors,
        },
    )
    .await)
}

/// `/flows/new?source=CONNECTION`: the form with that connection chosen as the source (the
/// wizard's 完了 step links here); an unknown id is ignored.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NewFlowQuery {
    #[serde(default)]
    pub source: Option<String>,
}

pub async fn new_page(
    State(s): State<AppState>,
    Admin(v): Admin,
    axum::extract::Query(q): axum::extract::Query<NewFlowQuery>,
) -> PageResult {
    let mut d = Draft::default();
    if let Some(id) = q.source.filter(|i| !i.is_empty()) {
        if s.hub.get_connection(&id).await.is_ok() {
            d.src_conn = id;
        }
    }
    render_form(&s, &v, None, d, FieldErrors::new()).await
}

pub async fn edit_page(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> PageResult {
    let f = s.hub.get_flow(&id).await.or_page(v.ctx.lang)?;
    render_form(
        &s,
        &v,
        Some(&id),
        Draft::from_spec(&f.spec),
        FieldErrors::new(),
    )
    .await
}

pub async fn new_submit(State(s): State<AppState>, Admin(v): Admin, form: Form) -> PageResult {
    submit(&s, &v, None, &form).await
}

pub async fn edit_submit(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    submit(&s, &v, Some(&id), &form).await
}

async fn submit(s: &AppState, v: &Viewer, id: Option<&str>, form: &Form) -> PageResult {
    let lang = v.ctx.lang;
    let mut d = Draft::from_form(form);
    match form.action() {
        "add_map" => {
            d.mapping.push(MapRow::default());
            return render_form(s, v, id, d, FieldErrors::new()).await;
        }
        "add_key" => {
            d.keys.push(Row::default());
            return render_form(s, v, id, d, FieldErrors::new()).await;
        }
        "reload" => return render_form(s, v, id, d, FieldErrors::new()).await,
        _ => {}
    }
    let base: Option<FlowSpec> = match id {
        Some(i) => Some(s.hub.get_flow(i).await.or_page(lang)?.spec),
        None => None,
    };
    let mut errors = FieldErrors::new();
    let spec = d.to_spec(lang, base.as_ref(), &mut errors);
    if errors.is_empty() {
        let saved = match id {
            Some(i) => s.hub.update_flow(i, &spec).await.map(|f| f.id),
            None => s.hub.create_flow(&spec).await,
        };
        match saved {
            Ok(fid) => {
                tracing::info!(flow = %fid, user = %v.user.username, "flow saved from the UI");
                session::flash(s, &v.ctx, &tf(lang, "flow.saved", &[("name", &spec.name)])).await;
                return Ok(see_other(&format!("/flows/{fid}")));
            }
            Err(e) => messages::put(&mut errors, lang, &e, &form_field),
        }
    }
    render_form(s, v, id, d, errors).await
}

/// "2026/11/23(月) 05:00" from the hub's RFC 3339 fire times.
fn fire_time(lang: Lang, rfc: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc) {
        Ok(t) => {
            let day = [
                "sched.mon",
                "sched.tue",
                "sched.wed",
                "sched.thu",
                "sched.fri",
                "sched.sat",
                "sched.sun",
            ][t.weekday().num_days_from_monday() as usize];
            format!(
                "{}({}) {}",
                t.format("%Y/%m/%d"),
                super::i18n::t(lang, day),
                t.format("%H:%M")
            )
        }
        Err(_) => rfc.to_string(),
    }
}

pub async fn detail(State(s): State<AppState>, v: Viewer, Path(id): Path<String>) -> PageResult {
    render_detail(&s, &v, &id, None, None).await
}

/// プレビュー: what a run would do now, writing nothing (the engine's dry run).
pub async fn preview(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path(id): Path<String>,
) -> PageResult {
    let lang = v.ctx.lang;
    let (report, plan) = s.hub.preview_flow(&id).await.or_page(lang)?;
    let (changes, shown) = super::record_names::preview_changes(lang, &plan);
    let preview = context! {
        shown => shown,
        ok => report.message.is_none(),
        message => report.message.as_deref().map(|m| Message::stored_in(m, lang)),
        counts => report.counts,
        changes => changes,
        conflicts => plan.conflicts.clone(),
        errors => report.errors.iter().map(|e| context! {
            record => e.record.clone(), title => e.title.clone(), code => e.code.clone(), message => Message::stored_in(&e.message, lang),
        }).collect::<Vec<_>>(),
    };
    render_detail(&s, &v, &id, Some(preview), None).await
}

/// 全件を取り込む, first step: the flow page with what it will cost (the source's count and
/// about how many API requests), and the button that queues it.
pub async fn full_import_estimate(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> PageResult {
    let lang = v.ctx.lang;
    let box_ = match s.hub.full_import_estimate(&id).await {
        Ok(e) => context! {
            estimate => match (e.records, e.requests) {
                (Some(n), Some(m)) => tf(lang, "flow.full_import_estimate", &[("n", &n.to_string()), ("m", &m.to_string())]),
                _ => t(lang, "flow.full_import_unknown"),
            },
        },
        Err(e) => context! { error => messages::hub_error(lang, &e) },
    };
    render_detail(&s, &v, &id, None, Some(box_)).await
}

/// 全件を取り込む, confirmed: queues the run and shows it.
pub async fn full_import(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    match s.hub.full_import(&id, hub_domain::Trigger::Manual).await {
        Ok(run_id) => {
            s.runs_queued.notify_one();
            tracing::info!(flow = %id, run = %run_id, user = %v.user.username, "full import queued from the UI");
            see_other(&format!("/runs/{run_id}"))
        }
        Err(e) => {
            session::flash(&s, &v.ctx, &messages::hub_error(lang, &e)).await;
            see_other(&format!("/flows/{id}"))
        }
    }
}

/// 対応不要にする: every pending record of the flow is dropped from the list; the next runs
/// stop trying them.
pub async fn dismiss_pending(
    State(s): State<AppState>,
    Operator(v): Operator,
    Path(id): Path<String>,
) -> PageResult {
    let lang = v.ctx.lang;
    let n = s.hub.dismiss_pending(&id, None).await.or_page(lang)?;
    tracing::info!(flow = %id, user = %v.user.username, dismissed = n, "pending records dismissed from the UI");
    session::flash(
        &s,
        &v.ctx,
        &tf(lang, "flow.pending_dismissed", &[("n", &n.to_string())]),
    )
    .await;
    Ok(see_other(&format!("/flows/{id}")))
}

async fn render_detail(
    s: &AppState,
    v: &Viewer,
    id: &str,
    preview: Option<Value>,
    full_import: Option<Value>,
) -> PageResult {
    let id = id.to_string();
    let lang = v.ctx.lang;
    let f: Flow = s.hub.get_flow(&id).await.or_page(lang)?;
    let conns = s.hub.list_connections().await.or_page(lang)?;
    let names: HashMap<String, String> = conns
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let upcoming: Vec<String> = Hub::upcoming_fires(&f.spec, 5)
        .unwrap_or_default()
        .iter()
        .map(|r| fire_time(lang, r))
        .collect();
    let runs = s
        .hub
        .list_runs(&RunFilter {
            flow: Some(id.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .or_page(lang)?;
    let pending = s.hub.pending_records(&id).await.or_page(lang)?;
    let active = s.hub.active_run(&id).await.or_page(lang)?;
    let pending_rows: Vec<Value> = pending
        .iter()
        .map(|p| {
            context! {
                record => p.record.clone(),
                title => p.title.clone(),
                side => if p.side == "target" { t(lang, "run.side_target") } else { t(lang, "run.side_source") },
                code => p.code.clone(),
                message => Message::stored_in(&p.message, lang),
                since => labels::datetime(Some(p.since)),
                run => p.last_run_id.clone(),
            }
        })
        .collect();
    let d = Draft::from_spec(&f.spec);
    let keys: Vec<Value> = d
        .keys
        .iter()
        .map(|k| context! { a => k.a.clone(), b => k.b.clone(), norm => word(lang, &NORMALIZERS, &k.norm) })
        .collect();
    Ok(page(
        s,
        &v.ctx,
        Some(&v.user),
        "flow_detail.html",
        context! {
            nav => "home",
            flow => flow_row(lang, &f, &names, pending.len() as i64, active.as_ref().map(|r| r.id.as_str())),
            pending => pending_rows,
            d => &d,
            direction => word(lang, &DIRECTIONS, &d.direction),
            conflict => word(lang, &CONFLICTS, &d.conflict),
            keys => keys,
            upcoming => upcoming,
            runs => runs.iter().map(|r| labels::run_row(lang, r, &f.spec.name)).collect::<Vec<_>>(),
            can_edit => v.is_admin(),
            preview => preview,
            full_import => full_import,
        },
    )
    .await)
}

pub async fn delete(
    State(s): State<AppState>,
    Admin(v): Admin,
    Path(id): Path<String>,
) -> Response {
    let lang = v.ctx.lang;
    let name = s
        .hub
        .get_flow(&id)
        .await
        .map(|f| f.spec.name)
        .unwrap_or_default();
    let text = match s.hub.delete_flow(&id).await {
        Ok(()) => {
            tracing::info!(flow = %id, user = %v.user.username, "flow deleted");
            tf(lang, "flow.deleted", &[("name", &name)])
        }
        Err(e) => messages::hub_error(lang, &e),
    };
    session::flash(&s, &v.ctx, &text).await;
    see_other("/")
}
