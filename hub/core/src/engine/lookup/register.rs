//! Registering the missing parent (see the module above): the values of a page no link
//! resolves are created (or found under their key) in the flow the lookup names, linked in
//! that flow, and resolved to the new records. A preview plans the registrations.

use connector_sdk::{Fields, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest};
use hub_domain::{Endpoint, Flow, RunCounts};
use hub_messages::Message;
use hub_store::links::{Link, PageCommit};
use serde_json::Value;
use std::collections::BTreeMap;

use super::{companion, key, Lookups, Registered, Registering, Resolved, Rule, NAME_SUFFIX};
use crate::engine::client::ConnectorClient;
use crate::engine::mapping::{fingerprint, is_blank, source_value, Mapper};
use crate::engine::matching::{key_of, Match, Side, TargetIndex};
use crate::engine::reads::{load_index, open_failed};
use crate::engine::{Fatal, Plan};
use crate::Hub;

/// Where one rule's parents are registered: the side of the parent flow written, and how.
struct Written<'a> {
    parent: &'a Flow,
    side: Side,
    endpoint: &'a Endpoint,
    /// The parent flow's mapping, forward.
    forward: Mapper,
    /// Fields of the referenced side → fields of the side written.
    to_written: Mapper,
    /// The referenced side's fields the name goes into.
    name_fields: Vec<String>,
}

/// A value linked to a parent record: (value, fields, parent id, created by this run).
type Linked = (String, Fields, String, bool);

impl Lookups {
    /// Registers the parents of the page's values that no link resolves (see the module's
    /// words), and resolves those values to them. A preview plans the registrations and writes
    /// nothing. Registered parents count as created.
    pub async fn register_missing(
        &self,
        hub: &Hub,
        records: &[Record],
        resolved: &mut Resolved<'_>,
        counts: &mut RunCounts,
        registered: &mut Registered,
        mut plan: Option<&mut Plan>,
    ) -> Result<(), Fatal> {
        if !self.register {
            return Ok(());
        }
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        for r in &self.rules {
            let Some(parent) = &r.parent else { continue };
            let wanted = wanted(r, records, resolved);
            if wanted.is_empty() {
                continue;
            }
            let w = written(r, parent)?;
            let creates = creates(r, &w, wanted, resolved);
            if creates.is_empty() {
                continue;
            }
            if let Some(plan) = plan.as_deref_mut() {
                plan_creates(r, creates, plan, counts, resolved);
                continue;
            }
            let linked = register(hub, state, r, &w, creates, resolved).await?;
            if linked.is_empty() {
                continue;
            }
            save_links(hub, r, &w, &linked).await?;
            let made = linked.iter().filter(|l| l.3).count() as i64;
            counts.created += made;
            registered.count += made;
            if made > 0 && !registered.flows.contains(&r.flow_name) {
                registered.flows.push(r.flow_name.clone());
            }
            remember(state, r, &w, linked, resolved);
        }
        Ok(())
    }
}

/// The page's values rule `r` leaves unresolved → the name the records give each (the first
/// one that has one).
fn wanted(
    r: &Rule,
    records: &[Record],
    resolved: &Resolved<'_>,
) -> BTreeMap<String, Option<String>> {
    let mut wanted: BTreeMap<String, Option<String>> = BTreeMap::new();
    for rec in records.iter().filter(|rec| !rec.deleted) {
        let Some(k) = key(&source_value(rec, &r.field)) else {
            continue;
        };
        let known = resolved
            .by_rule
            .get(&r.index)
            .is_some_and(|m| m.contains_key(&k));
        if known || resolved.not_registered.contains_key(&(r.index, k.clone())) {
            continue;
        }
        let name = companion(&rec.fields, &r.field, NAME_SUFFIX);
        let slot = wanted.entry(k).or_default();
        if slot.is_none() {
            *slot = name;
        }
    }
    wanted
}

fn written<'a>(r: &Rule, parent: &'a Flow) -> Result<Written<'a>, Fatal> {
    let spec = &parent.spec;
    let forward = Mapper::new(&spec.mapping)
        .map_err(|e| Fatal::final_(format!("flow {}: {e}", parent.id)))?;
    // The side written: the source of the parent flow for lookup_reverse.
    let (side, endpoint, to_written) = if r.reverse {
        let to = forward.reverse_for_registration();
        (Side::Source, &spec.source, to)
    } else {
        let to = Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?;
        (Side::Target, &spec.target, to)
    };
    // The referenced side's fields the name goes into: the match keys, else the first
    // mapped field.
    let pick = |source: &String, target: &String| match r.reverse {
        true => target.clone(),
        false => source.clone(),
    };
    let mut name_fields: Vec<String> = (spec.match_keys.iter())
        .map(|k| pick(&k.source, &k.target))
        .collect();
    if name_fields.is_empty() {
        name_fields.extend(spec.mapping.first().map(|m| pick(&m.from, &m.to)));
    }
    Ok(Written {
        parent,
        side,
        endpoint,
        forward,
        to_written,
        name_fields,
    })
}

/// The fields of each parent to register; a value without a name, or a mapping with nowhere
/// to write it, is noted as not registered.
fn creates(
    r: &Rule,
    w: &Written<'_>,
    wanted: BTreeMap<String, Option<String>>,
    resolved: &mut Resolved<'_>,
) -> Vec<(String, Fields)> {
    let mut out = Vec::new();
    for (value, name) in wanted {
        let Some(name) = name else {
            let why =
                Message::new("lookup.no_name").with("field", format!("{}{NAME_SUFFIX}", r.field));
            resolved.not_registered.insert((r.index, value), why);
            continue;
        };
        let carried: Fields = (w.name_fields.iter())
            .map(|f| (f.clone(), Value::String(name.clone())))
            .collect();
        let fields: Fields = (w.to_written.map_fields(&carried).into_iter())
            .filter(|(_, v)| !is_blank(v))
            .collect();
        if fields.is_empty() {
            let why = Message::new("lookup.no_name_field").with("flow", &r.flow_name);
            resolved.not_registered.insert((r.index, value), why);
            continue;
        }
        out.push((value, fields));
    }
    out
}

fn create_op(value: &str, fields: Fields) -> WriteOp {
    WriteOp {
        op_id: value.to_string(),
        action: WriteAction::Create,
        id: None,
        match_key: None,
        expected_version: None,
        fields,
    }
}

/// A preview: the registrations planned, their values taken as resolved.
fn plan_creates(
    r: &Rule,
    creates: Vec<(String, Fields)>,
    plan: &mut Plan,
    counts: &mut RunCounts,
    resolved: &mut Resolved<'_>,
) {
    for (value, fields) in creates {
        let op = create_op(&value, fields);
        plan.record(&format!("{}:{value}", r.flow), "parent", &op, counts);
        let by_value = resolved.by_rule.entry(r.index).or_default();
        by_value.insert(value, "(new)".into());
    }
}

/// Links each value to a parent already there under its key, or creates one.
async fn register(
    hub: &Hub,
    state: &mut Registering,
    r: &Rule,
    w: &Written<'_>,
    creates: Vec<(String, Fields)>,
    resolved: &mut Resolved<'_>,
) -> Result<Vec<Linked>, Fatal> {
    let connection = &w.endpoint.connection;
    if !state.clients.contains_key(connection) {
        let client = ConnectorClient::open(hub, connection)
            .await
            .map_err(|e| open_failed("parent", e))?;
        state.clients.insert(connection.clone(), client);
    }
    let Some(client) = state.clients.get_mut(connection) else {
        return Ok(Vec::new());
    };
    let (mut linked, to_create) = if w.parent.spec.match_keys.is_empty() {
        (Vec::new(), creates)
    } else {
        let id = &w.parent.id;
        if !state.indexes.contains_key(id) {
            let index = parent_index(client, w).await?;
            state.indexes.insert(id.clone(), index);
        }
        existing(r, w, &state.indexes[id], creates, resolved)
    };
    let batch = client.limits.write_batch_size.max(1) as usize;
    for chunk in to_create.chunks(batch) {
        let req = WriteRequest {
            object: w.endpoint.object.clone(),
            ops: (chunk.iter())
                .map(|(value, fields)| create_op(value, fields.clone()))
                .collect(),
        };
        let results = client.write_batch("parent", req).await?;
        for (value, fields) in chunk {
            match results.iter().find(|x| &x.op_id == value) {
                Some(x) if x.outcome == WriteOutcome::Created && x.id.is_some() => {
                    let id = x.id.clone().unwrap_or_default();
                    linked.push((value.clone(), fields.clone(), id, true));
                }
                other => {
                    let why = refusal(other);
                    resolved
                        .not_registered
                        .insert((r.index, value.clone()), why);
                }
            }
        }
    }
    Ok(linked)
}

async fn parent_index(client: &mut ConnectorClient, w: &Written<'_>) -> Result<TargetIndex, Fatal> {
    let spec = &w.parent.spec;
    let blank = spec.options.blank_key_parts;
    load_index(
        client,
        &w.endpoint.object,
        &spec.match_keys,
        blank,
        w.side,
        None,
    )
    .await
}

/// Why the connector did not register a parent: its own words in each language.
fn refusal(result: Option<&connector_sdk::WriteResult>) -> Message {
    match result.and_then(|x| x.error.as_ref()) {
        Some(e) => Message::new("lookup.refused").with_local(
            "why",
            e.message_ja
                .as_deref()
                .filter(|ja| !ja.is_empty())
                .unwrap_or(&e.message),
            &e.message,
        ),
        None => Message::new("lookup.no_id"),
    }
}

/// A parent already there under its key is linked, not created again: the values found, and
/// those to create.
fn existing(
    r: &Rule,
    w: &Written<'_>,
    index: &TargetIndex,
    creates: Vec<(String, Fields)>,
    resolved: &mut Resolved<'_>,
) -> (Vec<Linked>, Vec<(String, Fields)>) {
    let spec = &w.parent.spec;
    let (mut linked, mut to_create) = (Vec::new(), Vec::new());
    for (value, fields) in creates {
        let k = key_of(
            &spec.match_keys,
            spec.options.blank_key_parts,
            w.side,
            &fields,
        );
        match k.map(|k| index.find(&k)) {
            Some(Match::One(id)) => linked.push((value, fields, id, false)),
            Some(Match::Ambiguous(ids)) => {
                let (n, list) = (ids.len(), ids.join(", "));
                resolved.not_registered.insert(
                    (r.index, value),
                    Message::new("lookup.ambiguous")
                        .with("n", n)
                        .with("list", list),
                );
            }
            _ => to_create.push((value, fields)),
        }
    }
    (linked, to_create)
}

/// The links, as the parent flow's next run will see them.
async fn save_links(hub: &Hub, r: &Rule, w: &Written<'_>, linked: &[Linked]) -> Result<(), Fatal> {
    let mut commit = PageCommit::default();
    for (value, fields, id, created) in linked {
        let link = if r.reverse {
            let mapped = w.forward.map_fields(fields);
            let fp = created.then(|| fingerprint(&mapped));
            Link {
                source_id: id.clone(),
                target_id: value.clone(),
                source_fingerprint: fp.clone(),
                target_fingerprint: fp,
                source_version: None,
                target_version: None,
                synced_copy: created
                    .then(|| serde_json::to_string(&mapped).ok())
                    .flatten(),
            }
        } else {
            // The source record exists with content not known here: the parent flow's next
            // run writes it to the new record.
            Link {
                source_id: value.clone(),
                target_id: id.clone(),
                source_fingerprint: None,
                target_fingerprint: None,
                source_version: None,
                target_version: None,
                synced_copy: None,
            }
        };
        commit.upsert_links.push(link);
    }
    let parent = &w.parent.id;
    hub.store
        .commit_page(parent, &commit)
        .await
        .map_err(|e| Fatal::from(format!("links of flow {parent}: {e}")))
}

/// The values resolve to their parents from now on; the new parents join the index.
fn remember(
    state: &mut Registering,
    r: &Rule,
    w: &Written<'_>,
    linked: Vec<Linked>,
    resolved: &mut Resolved<'_>,
) {
    let spec = &w.parent.spec;
    let mut index = state.indexes.get_mut(&w.parent.id);
    let by_value = resolved.by_rule.entry(r.index).or_default();
    for (value, fields, id, created) in linked {
        if created {
            let k = key_of(
                &spec.match_keys,
                spec.options.blank_key_parts,
                w.side,
                &fields,
            );
            if let (Some(index), Some(k)) = (index.as_deref_mut(), k) {
                index.add(k, id.clone());
            }
        }
        by_value.insert(value, id);
    }
}
