//! Lookups through another flow's links (`{"lookup": FLOW}` / `{"lookup_reverse": FLOW}`):
//! a source value that is a record id on one side of that flow becomes the linked record's id
//! on its other side (an activity's Zoho account id → the kintone customer's record number).
//! Resolved a page at a time, one store query per referenced flow and direction. A value that
//! no link resolves fails its record (`lookup_missing`) rather than writing an empty reference;
//! an empty value stays empty (nothing to look up).
//!
//! **Registering the missing parent** (`options.register_missing_parent`, on by default; seed
//! 004's 顧客自動登録): before the page is written, each value no link resolves is registered in
//! the flow the lookup names, on the side the lookup gives ids of (its source for
//! `lookup_reverse`: kintone 顧客管理). The rule for its fields: the record carries the name of
//! what it refers to beside the id, in `FIELD.name` (Zoho answers a lookup as id and name:
//! `What_Id` / `What_Id.name`); that name is put in each of the parent flow's match-key fields
//! on the referenced side (`Account_Name`; with several keys, in each, as a blank key part
//! takes the other's value) and mapped to the side written through that flow's mapping, the
//! other way for `lookup_reverse` (`Account_Name` → `会社名`; a `coalesce` goes back to its own
//! field). A record already there under that key (the parent flow's match keys and
//! normalizers) is linked instead of created again. The new link is recorded in that flow's
//! links with the fingerprint its next run computes, so that run neither writes it again nor
//! duplicates it; the activity is written to it in the same run. A value without a name, or a
//! refused registration, fails its record as before, saying why.
//!
//! User mappings (`{"user_map": CONNECTION}`, seed 004's ユーザー連携): the value (a user id,
//! or the email beside it in `FIELD.email`) becomes `["login"]` through the connection's pairs
//! (`hub_store::user_map`); a user without a pair fails its record (`user_unmapped`, naming the
//! user), never written as someone else.

use connector_sdk::{Fields, Record, WriteAction, WriteOp, WriteOutcome, WriteRequest};
use hub_domain::{Flow, FlowOptions, RunCounts, RunError};
use hub_store::links::{Link, PageCommit};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::Mutex;

use super::client::ConnectorClient;
use super::mapping::{fingerprint, is_blank, source_value, Mapper};
use super::matching::{key_of, Match, Side, TargetIndex};
use super::{Fatal, Plan, RunReport};
use crate::Hub;

/// The suffix of the field beside a reference that carries the referenced record's name.
const NAME_SUFFIX: &str = ".name";

struct Rule {
    index: usize,
    field: String,
    flow: String,
    flow_name: String,
    reverse: bool,
    /// The flow the lookup goes through, when missing parents are registered in it.
    parent: Option<Flow>,
}

struct UserRule {
    index: usize,
    field: String,
    connection: String,
    connection_name: String,
    /// `from` (lower case) → login name.
    pairs: HashMap<String, String>,
}

/// A mapping's lookups, their flows checked once per run.
#[derive(Default)]
pub struct Lookups {
    rules: Vec<Rule>,
    users: Vec<UserRule>,
    register: bool,
    state: Mutex<Registering>,
}

/// What registering keeps across a run's pages: the clients of the parents' connections and
/// the parents' objects by key (read once, when a registration first needs them).
#[derive(Default)]
struct Registering {
    clients: HashMap<String, ConnectorClient>,
    indexes: HashMap<String, TargetIndex>,
}

/// How many missing parents a run registered, for the run's message.
#[derive(Default)]
pub struct Registered {
    count: i64,
    flows: Vec<String>,
}

impl Registered {
    /// Adds 「…を N件自動登録しました」 to the run's message.
    pub fn note(&self, report: &mut RunReport) {
        if self.count == 0 {
            return;
        }
        let n = self.count;
        let names = self.flows.join("」「");
        let note = format!(
            "顧客など参照先のレコードを{n}件自動登録しました（連携サービス「{names}」） / \
             registered {n} missing parent records (flow '{names}')"
        );
        report.message = Some(match report.message.take() {
            Some(m) => format!("{m}\n{note}"),
            None => note,
        });
    }
}

/// One page's resolved values, by rule index then by the looked-up value.
#[derive(Default)]
pub struct Resolved<'a> {
    lookups: Option<&'a Lookups>,
    by_rule: HashMap<usize, HashMap<String, String>>,
    /// Why a value was not registered, by rule index and value.
    not_registered: HashMap<(usize, String), String>,
}

/// The text a value is looked up by: ids are strings or numbers; empty is nothing.
fn key(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

fn companion(fields: &Fields, field: &str, suffix: &str) -> Option<String> {
    fields
        .get(&format!("{field}{suffix}"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl Lookups {
    /// The mapping's lookups. A flow that no longer exists fails the run: every record would
    /// miss its link, and the mapping must be fixed.
    pub async fn prepare(
        hub: &Hub,
        mapper: &Mapper,
        options: &FlowOptions,
    ) -> Result<Lookups, Fatal> {
        let mut rules = Vec::new();
        for (index, field, flow, reverse) in mapper.lookups() {
            let (flow_name, parent) = match hub.store.get_flow(flow).await {
                Ok(f) => (f.spec.name.clone(), options.register_missing_parent.then_some(f)),
                Err(hub_store::StoreError::NotFound { .. }) => {
                    return Err(Fatal::final_(format!(
                        "mapping[{index}].transform: 参照先の連携サービス「{flow}」がありません。対応付けを直してください / \
                         the flow '{flow}' this lookup goes through no longer exists; fix the mapping"
                    )))
                }
                Err(e) => return Err(Fatal::from(e.to_string())),
            };
            rules.push(Rule {
                index,
                field: field.to_string(),
                flow: flow.to_string(),
                flow_name,
                reverse,
                parent,
            });
        }
        let mut users = Vec::new();
        for (index, field, connection) in mapper.user_maps() {
            let connection_name = match hub.store.get_connection(connection).await {
                Ok(c) => c.name,
                Err(hub_store::StoreError::NotFound { .. }) => {
                    return Err(Fatal::final_(format!(
                        "mapping[{index}].transform: ユーザー連携の接続「{connection}」がありません。対応付けを直してください / \
                         the connection '{connection}' whose user mapping this goes through no longer exists; fix the mapping"
                    )))
                }
                Err(e) => return Err(Fatal::from(e.to_string())),
            };
            let pairs = hub
                .store
                .user_map(connection)
                .await
                .map_err(|e| Fatal::from(format!("user mapping of {connection}: {e}")))?
                .into_iter()
                .map(|p| (p.from.trim().to_lowercase(), p.to.trim().to_string()))
                .collect();
            users.push(UserRule {
                index,
                field: field.to_string(),
                connection: connection.to_string(),
                connection_name,
                pairs,
            });
        }
        Ok(Lookups {
            rules,
            users,
            register: options.register_missing_parent,
            state: Mutex::default(),
        })
    }

    /// Resolves the values of a page's records: one store query per flow and direction.
    pub async fn resolve<'a>(
        &'a self,
        hub: &Hub,
        records: &[Record],
    ) -> Result<Resolved<'a>, Fatal> {
        let mut resolved = Resolved {
            lookups: Some(self),
            ..Resolved::default()
        };
        // (flow, reverse) → the values to look up, shared by the rules through that flow.
        let mut wanted: BTreeMap<(&str, bool), Vec<String>> = BTreeMap::new();
        for r in &self.rules {
            let values = wanted.entry((r.flow.as_str(), r.reverse)).or_default();
            for rec in records.iter().filter(|rec| !rec.deleted) {
                if let Some(k) = key(&source_value(rec, &r.field)) {
                    if !values.contains(&k) {
                        values.push(k);
                    }
                }
            }
        }
        let mut found: HashMap<(&str, bool), HashMap<String, String>> = HashMap::new();
        for ((flow, reverse), values) in wanted {
            if values.is_empty() {
                continue;
            }
            let links = if reverse {
                hub.store.links_by_target(flow, &values).await
            } else {
                hub.store.links_by_source(flow, &values).await
            }
            .map_err(|e| Fatal::from(format!("lookup through flow {flow}: {e}")))?;
            let pairs = links
                .into_iter()
                .map(|(k, l)| (k, if reverse { l.source_id } else { l.target_id }))
                .collect();
            found.insert((flow, reverse), pairs);
        }
        for r in &self.rules {
            if let Some(pairs) = found.get(&(r.flow.as_str(), r.reverse)) {
                resolved.by_rule.insert(r.index, pairs.clone());
            }
        }
        Ok(resolved)
    }
}

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
            // value → the name the records give it (the first one that has one).
            let mut wanted: BTreeMap<String, Option<String>> = BTreeMap::new();
            for rec in records.iter().filter(|rec| !rec.deleted) {
                let Some(k) = key(&source_value(rec, &r.field)) else {
                    continue;
                };
                if resolved
                    .by_rule
                    .get(&r.index)
                    .is_some_and(|m| m.contains_key(&k))
                    || resolved.not_registered.contains_key(&(r.index, k.clone()))
                {
                    continue;
                }
                let name = companion(&rec.fields, &r.field, NAME_SUFFIX);
                let slot = wanted.entry(k).or_default();
                if slot.is_none() {
                    *slot = name;
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let spec = &parent.spec;
            let forward = Mapper::new(&spec.mapping)
                .map_err(|e| Fatal::final_(format!("flow {}: {e}", parent.id)))?;
            // The side written: the source of the parent flow for lookup_reverse.
            let (side, endpoint, to_written) = if r.reverse {
                (
                    Side::Source,
                    &spec.source,
                    forward.reverse_for_registration(),
                )
            } else {
                (
                    Side::Target,
                    &spec.target,
                    Mapper::new(&spec.mapping).map_err(|e| Fatal::final_(e.to_string()))?,
                )
            };
            // The referenced side's fields the name goes into: the match keys, else the first
            // mapped field.
            let mut name_fields: Vec<String> = spec
                .match_keys
                .iter()
                .map(|k| {
                    if r.reverse {
                        k.target.clone()
                    } else {
                        k.source.clone()
                    }
                })
                .collect();
            if name_fields.is_empty() {
                name_fields.extend(spec.mapping.first().map(|m| {
                    if r.reverse {
                        m.to.clone()
                    } else {
                        m.from.clone()
                    }
                }));
            }
            let mut creates: Vec<(String, Fields)> = Vec::new();
            for (value, name) in wanted {
                let Some(name) = name else {
                    resolved.not_registered.insert(
                        (r.index, value),
                        format!(
                            "自動登録に使う名前（{f}{NAME_SUFFIX}）がありません / \
                             nothing in '{f}{NAME_SUFFIX}' to register it by",
                            f = r.field
                        ),
                    );
                    continue;
                };
                let carried: Fields = name_fields
                    .iter()
                    .map(|f| (f.clone(), Value::String(name.clone())))
                    .collect();
                let fields: Fields = to_written
                    .map_fields(&carried)
                    .into_iter()
                    .filter(|(_, v)| !is_blank(v))
                    .collect();
                if fields.is_empty() {
                    resolved.not_registered.insert(
                        (r.index, value),
                        format!(
                            "連携サービス「{}」の対応付けに名前を書く項目がありません / \
                             the mapping of flow '{}' has no field to write the name into",
                            r.flow_name, r.flow_name
                        ),
                    );
                    continue;
                }
                creates.push((value, fields));
            }
            if creates.is_empty() {
                continue;
            }
            if let Some(plan) = plan.as_deref_mut() {
                for (value, fields) in creates {
                    let op = WriteOp {
                        op_id: value.clone(),
                        action: WriteAction::Create,
                        id: None,
                        match_key: None,
                        expected_version: None,
                        fields,
                    };
                    plan.record(&format!("{}:{value}", r.flow), "parent", &op, counts);
                    resolved
                        .by_rule
                        .entry(r.index)
                        .or_default()
                        .insert(value, "(new)".into());
                }
                continue;
            }
            if !state.clients.contains_key(&endpoint.connection) {
                let client = ConnectorClient::open(hub, &endpoint.connection)
                    .await
                    .map_err(|e| super::reads::open_failed("parent", e))?;
                state.clients.insert(endpoint.connection.clone(), client);
            }
            // A parent already there under its key is linked, not created again.
            let mut link_to: Vec<(String, Fields, String, bool)> = Vec::new();
            let mut to_create: Vec<(String, Fields)> = Vec::new();
            if spec.match_keys.is_empty() {
                to_create = creates;
            } else {
                if !state.indexes.contains_key(&parent.id) {
                    let client = state.clients.get_mut(&endpoint.connection).expect("opened");
                    let index = super::reads::load_index(
                        client,
                        &endpoint.object,
                        &spec.match_keys,
                        spec.options.blank_key_parts,
                        side,
                        None,
                    )
                    .await?;
                    state.indexes.insert(parent.id.clone(), index);
                }
                let index = &state.indexes[&parent.id];
                for (value, fields) in creates {
                    let k = key_of(
                        &spec.match_keys,
                        spec.options.blank_key_parts,
                        side,
                        &fields,
                    );
                    match k.map(|k| index.find(&k)) {
                        Some(Match::One(id)) => link_to.push((value, fields, id, false)),
                        Some(Match::Ambiguous(ids)) => {
                            resolved.not_registered.insert(
                                (r.index, value),
                                format!(
                                    "同じ名前のレコードが{}件あり、どれか決められません（{}） / \
                                     {} records have that name: {}",
                                    ids.len(),
                                    ids.join(", "),
                                    ids.len(),
                                    ids.join(", ")
                                ),
                            );
                        }
                        _ => to_create.push((value, fields)),
                    }
                }
            }
            let client = state.clients.get_mut(&endpoint.connection).expect("opened");
            let batch = client.limits.write_batch_size.max(1) as usize;
            for chunk in to_create.chunks(batch) {
                let req = WriteRequest {
                    object: endpoint.object.clone(),
                    ops: chunk
                        .iter()
                        .map(|(value, fields)| WriteOp {
                            op_id: value.clone(),
                            action: WriteAction::Create,
                            id: None,
                            match_key: None,
                            expected_version: None,
                            fields: fields.clone(),
                        })
                        .collect(),
                };
                let results = client.write_batch("parent", req).await?;
                for (value, fields) in chunk {
                    let r_ = results.iter().find(|w| &w.op_id == value);
                    match r_ {
                        Some(w) if w.outcome == WriteOutcome::Created && w.id.is_some() => {
                            let id = w.id.clone().unwrap_or_default();
                            link_to.push((value.clone(), fields.clone(), id, true));
                        }
                        other => {
                            let why = other
                                .and_then(|w| w.error.as_ref())
                                .map(|e| {
                                    e.message_ja
                                        .clone()
                                        .map(|ja| format!("{ja} / {}", e.message))
                                        .unwrap_or_else(|| e.message.clone())
                                })
                                .unwrap_or_else(|| "the connector returned no id".into());
                            resolved.not_registered.insert(
                                (r.index, value.clone()),
                                format!(
                                    "自動登録が拒否されました / registering it was refused: {why}"
                                ),
                            );
                        }
                    }
                }
            }
            if link_to.is_empty() {
                continue;
            }
            // The links, as the parent flow's next run will see them.
            let mut commit = PageCommit::default();
            for (value, fields, id, created) in &link_to {
                let link = if r.reverse {
                    let mapped = forward.map_fields(fields);
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
                    // The source record exists with content not known here: the parent
                    // flow's next run writes it to the new record.
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
            hub.store
                .commit_page(&parent.id, &commit)
                .await
                .map_err(|e| Fatal::from(format!("links of flow {}: {e}", parent.id)))?;
            let made = link_to.iter().filter(|l| l.3).count() as i64;
            counts.created += made;
            registered.count += made;
            if made > 0 && !registered.flows.contains(&r.flow_name) {
                registered.flows.push(r.flow_name.clone());
            }
            let mut index = state.indexes.get_mut(&parent.id);
            let by_value = resolved.by_rule.entry(r.index).or_default();
            for (value, fields, id, created) in link_to {
                if created {
                    if let (Some(index), Some(k)) = (
                        index.as_deref_mut(),
                        key_of(
                            &spec.match_keys,
                            spec.options.blank_key_parts,
                            side,
                            &fields,
                        ),
                    ) {
                        index.add(k, id.clone());
                    }
                }
                by_value.insert(value, id);
            }
        }
        Ok(())
    }
}

impl Resolved<'_> {
    /// The mapped user for user-map rule `index`: `["login"]`, or null (empty, or unmapped).
    pub fn user(&self, index: usize, v: &Value, from: &str, fields: &Fields) -> Value {
        self.lookups
            .and_then(|l| l.users.iter().find(|u| u.index == index))
            .and_then(|u| u.login(v, from, fields))
            .map(|login| Value::Array(vec![Value::String(login)]))
            .unwrap_or(Value::Null)
    }

    /// The looked-up id for rule `index`, or null (empty, or not resolved).
    pub fn value(&self, index: usize, v: &Value) -> Value {
        key(v)
            .and_then(|k| self.by_rule.get(&index)?.get(&k).cloned())
            .map(Value::String)
            .unwrap_or(Value::Null)
    }

    /// The history entry of a record whose value no link resolves, or whose user has no pair:
    /// it is not written.
    pub fn missing(&self, rec: &Record) -> Option<RunError> {
        let lookups = self.lookups?;
        for r in &lookups.rules {
            let Some(k) = key(&source_value(rec, &r.field)) else {
                continue;
            };
            let hit = self
                .by_rule
                .get(&r.index)
                .is_some_and(|m| m.contains_key(&k));
            if !hit {
                let (side_ja, side_en) = if r.reverse {
                    ("送信先", "target")
                } else {
                    ("送信元", "source")
                };
                let why = match self.not_registered.get(&(r.index, k.clone())) {
                    Some(why) => format!("自動登録できませんでした: {why}"),
                    None if !lookups.register => "自動登録はオフです（この連携サービスの「参照先がなければ自動登録する」/ options.register_missing_parent） / \
                                                  not registered: automatic registration is off (options.register_missing_parent)".to_string(),
                    None => String::new(),
                };
                let name = companion(&rec.fields, &r.field, NAME_SUFFIX)
                    .map(|n| format!("（{n}）"))
                    .unwrap_or_default();
                return Some(RunError {
                    record: rec.id.clone(),
                    side: "source".into(),
                    code: "lookup_missing".into(),
                    message: format!(
                        "項目「{}」の値「{k}」{name}は、連携サービス「{}」({}) で連携済みの{side_ja}レコードではありません（未登録）。\
                         先にその連携サービスを実行するか、値を直してください / \
                         '{}' = '{k}' is not a linked {side_en} record of flow '{}' ({}); run that flow first or fix the value{}{why}",
                        r.field, r.flow_name, r.flow, r.field, r.flow_name, r.flow,
                        if why.is_empty() { "" } else { "\n" }
                    ),
                });
            }
        }
        for u in &lookups.users {
            let v = source_value(rec, &u.field);
            let Some(k) = key(&v) else { continue };
            if u.login(&v, &u.field, &rec.fields).is_none() {
                let name = companion(&rec.fields, &u.field, NAME_SUFFIX)
                    .map(|n| format!("（{n}）"))
                    .unwrap_or_default();
                return Some(RunError {
                    record: rec.id.clone(),
                    side: "source".into(),
                    code: "user_unmapped".into(),
                    message: format!(
                        "項目「{}」のユーザー「{k}」{name}は、接続「{}」のユーザー連携で対応付けられていません。\
                         接続の画面で対応付けてください / \
                         user '{k}'{name} of '{}' has no pair in the user mapping of connection '{}' ({}); map it on the connection page",
                        u.field, u.connection_name, u.field, u.connection_name, u.connection
                    ),
                });
            }
        }
        None
    }
}

impl UserRule {
    /// The login for a user given by id (the value) or by the email beside it (`FIELD.email`).
    fn login(&self, v: &Value, from: &str, fields: &Fields) -> Option<String> {
        let by_value = key(v).and_then(|k| self.pairs.get(&k.to_lowercase()));
        by_value
            .or_else(|| {
                let email = companion(fields, from, ".email")?;
                self.pairs.get(&email.to_lowercase())
            })
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(id: &str, fields: Value) -> Record {
        Record {
            id: id.into(),
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
            fields: fields.as_object().cloned().unwrap(),
        }
    }

    #[test]
    fn values_resolve_and_a_value_without_link_names_itself_and_the_flow() {
        let lookups = Lookups {
            rules: vec![Rule {
                index: 1,
                field: "What_Id".into(),
                flow: "f1".into(),
                flow_name: "顧客 → 取引先".into(),
                reverse: true,
                parent: None,
            }],
            ..Lookups::default()
        };
        let mut resolved = Resolved {
            lookups: Some(&lookups),
            ..Resolved::default()
        };
        resolved
            .by_rule
            .insert(1, [("4410".to_string(), "7".to_string())].into());
        assert_eq!(resolved.value(1, &json!("4410")), json!("7"));
        assert_eq!(resolved.value(1, &json!(4410)), json!("7"));
        assert_eq!(resolved.value(1, &json!("")), Value::Null);
        assert!(resolved
            .missing(&rec("a", json!({"What_Id": "4410"})))
            .is_none());
        assert!(resolved
            .missing(&rec("b", json!({"What_Id": null})))
            .is_none());
        let e = resolved
            .missing(&rec("c", json!({"What_Id": "9999"})))
            .unwrap();
        assert_eq!(
            (e.record.as_str(), e.code.as_str()),
            ("c", "lookup_missing")
        );
        assert!(
            e.message.contains("9999")
                && e.message.contains("顧客 → 取引先")
                && e.message.contains("f1"),
            "{}",
            e.message
        );
        // Without lookups nothing is missing and nothing resolves.
        assert!(Resolved::default()
            .missing(&rec("c", json!({"What_Id": "9999"})))
            .is_none());
    }
}
