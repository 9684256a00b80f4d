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

mod missing;
mod register;

use connector_sdk::{Fields, Record};
use hub_domain::{Flow, FlowOptions};
use hub_messages::Message;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use tokio::sync::Mutex;

use super::client::ConnectorClient;
use super::mapping::{source_value, Mapper};
use super::matching::TargetIndex;
use super::{Fatal, RunReport};
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
        let note = Message::new("lookup.registered")
            .with("n", n)
            .with("names", self.flows.join("」「"))
            .to_stored();
        report.message = Some(match report.message.take() {
            Some(m) => Message::join_stored(&m, &note),
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
    not_registered: HashMap<(usize, String), Message>,
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
    /// Whether a lookup goes through `flow`'s own links.
    pub fn through(&self, flow: &str) -> bool {
        self.rules.iter().any(|r| r.flow == flow)
    }

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
                Ok(f) => (
                    f.spec.name.clone(),
                    options.register_missing_parent.then_some(f),
                ),
                Err(hub_store::StoreError::NotFound { .. }) => {
                    return Err(Fatal::final_(
                        Message::new("lookup.flow_gone")
                            .with("index", index)
                            .with("flow", flow)
                            .to_stored(),
                    ))
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
                    return Err(Fatal::final_(
                        Message::new("lookup.connection_gone")
                            .with("index", index)
                            .with("connection", connection)
                            .to_stored(),
                    ))
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
