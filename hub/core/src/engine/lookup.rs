//! Lookups through another flow's links (`{"lookup": FLOW}` / `{"lookup_reverse": FLOW}`):
//! a source value that is a record id on one side of that flow becomes the linked record's id
//! on its other side (an activity's Zoho account id → the kintone customer's record number).
//! Resolved a page at a time, one store query per referenced flow and direction. A value that
//! no link resolves fails its record (`lookup_missing`) rather than writing an empty reference;
//! an empty value stays empty (nothing to look up).

use connector_sdk::Record;
use hub_store::RunError;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::mapping::{source_value, Mapper};
use super::Fatal;
use crate::Hub;

struct Rule {
    index: usize,
    field: String,
    flow: String,
    flow_name: String,
    reverse: bool,
}

/// A mapping's lookups, their flows checked once per run.
#[derive(Default)]
pub struct Lookups {
    rules: Vec<Rule>,
}

/// One page's resolved values, by rule index then by the looked-up value.
#[derive(Default)]
pub struct Resolved<'a> {
    lookups: Option<&'a Lookups>,
    by_rule: HashMap<usize, HashMap<String, String>>,
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

impl Lookups {
    /// The mapping's lookups. A flow that no longer exists fails the run: every record would
    /// miss its link, and the mapping must be fixed.
    pub async fn prepare(hub: &Hub, mapper: &Mapper) -> Result<Lookups, Fatal> {
        let mut rules = Vec::new();
        for (index, field, flow, reverse) in mapper.lookups() {
            let flow_name = match hub.store.get_flow(flow).await {
                Ok(f) => f.spec.name,
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
            });
        }
        Ok(Lookups { rules })
    }

    /// Resolves the values of a page's records: one store query per flow and direction.
    pub async fn resolve<'a>(
        &'a self,
        hub: &Hub,
        records: &[Record],
    ) -> Result<Resolved<'a>, Fatal> {
        let mut resolved = Resolved {
            lookups: Some(self),
            by_rule: HashMap::new(),
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

impl Resolved<'_> {
    /// The looked-up id for rule `index`, or null (empty, or not resolved).
    pub fn value(&self, index: usize, v: &Value) -> Value {
        key(v)
            .and_then(|k| self.by_rule.get(&index)?.get(&k).cloned())
            .map(Value::String)
            .unwrap_or(Value::Null)
    }

    /// The history entry of a record whose value no link resolves: it is not written.
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
                return Some(RunError {
                    record: rec.id.clone(),
                    side: "source".into(),
                    code: "lookup_missing".into(),
                    message: format!(
                        "項目「{}」の値「{k}」は、連携サービス「{}」({}) で連携済みの{side_ja}レコードではありません。\
                         先にその連携サービスを実行するか、値を直してください / \
                         '{}' = '{k}' is not a linked {side_en} record of flow '{}' ({}); run that flow first or fix the value",
                        r.field, r.flow_name, r.flow, r.field, r.flow_name, r.flow
                    ),
                });
            }
        }
        None
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
            }],
        };
        let mut resolved = Resolved {
            lookups: Some(&lookups),
            by_rule: HashMap::new(),
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
