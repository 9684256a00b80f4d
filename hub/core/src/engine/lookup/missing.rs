//! What a page's resolved values give the mapping (a looked-up id, a mapped user), and the
//! history entry of a record they leave without one: it is not written.

use connector_sdk::{Fields, Record};
use hub_domain::RunError;
use hub_messages::{Lang, Message};
use serde_json::Value;

use super::{companion, key, Resolved, UserRule, NAME_SUFFIX};
use crate::engine::mapping::source_value;

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
                let why = match self.not_registered.get(&(r.index, k.clone())) {
                    Some(why) => Some(Message::new("lookup.why_failed").with_local(
                        "why",
                        why.render(Lang::Ja),
                        why.render(Lang::En),
                    )),
                    None if !lookups.register => Some(Message::new("lookup.why_off")),
                    None => None,
                };
                let (why_ja, why_en) = why
                    .map(|w| {
                        (
                            format!("\n{}", w.render(Lang::Ja)),
                            format!("\n{}", w.render(Lang::En)),
                        )
                    })
                    .unwrap_or_default();
                let message = Message::new("lookup.missing")
                    .with("field", &r.field)
                    .with("value", &k)
                    .with_local(
                        "name",
                        named(rec, &r.field, Lang::Ja),
                        named(rec, &r.field, Lang::En),
                    )
                    .with("flow_name", &r.flow_name)
                    .with("flow", &r.flow)
                    .with_text(
                        "side",
                        if r.reverse {
                            "lookup.side_target"
                        } else {
                            "lookup.side_source"
                        },
                    )
                    .with_local("why", why_ja, why_en);
                return Some(RunError {
                    record: rec.id.clone(),
                    side: "source".into(),
                    code: "lookup_missing".into(),
                    message: message.to_stored(),
                    ..Default::default()
                });
            }
        }
        for u in &lookups.users {
            let v = source_value(rec, &u.field);
            let Some(k) = key(&v) else { continue };
            if u.login(&v, &u.field, &rec.fields).is_none() {
                let message = Message::new("lookup.user_unmapped")
                    .with("field", &u.field)
                    .with("value", &k)
                    .with_local(
                        "name",
                        named(rec, &u.field, Lang::Ja),
                        named(rec, &u.field, Lang::En),
                    )
                    .with("connection_name", &u.connection_name)
                    .with("connection", &u.connection);
                return Some(RunError {
                    record: rec.id.clone(),
                    side: "source".into(),
                    code: "user_unmapped".into(),
                    message: message.to_stored(),
                    ..Default::default()
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

/// The name beside a looked-up value (`FIELD.name`), in parentheses, for a message.
fn named(rec: &Record, field: &str, lang: Lang) -> String {
    match (companion(&rec.fields, field, NAME_SUFFIX), lang) {
        (Some(n), Lang::Ja) => format!("（{n}）"),
        (Some(n), Lang::En) => format!(" ({n})"),
        (None, _) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Lookups, Rule};
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
        let ja = Message::stored_in(&e.message, Lang::Ja);
        assert!(
            ja.contains("9999") && ja.contains("顧客 → 取引先") && ja.contains("f1"),
            "{ja}"
        );
        let en = Message::stored_in(&e.message, Lang::En);
        assert!(en.contains("9999") && !en.contains("未登録"), "{en}");
        // Without lookups nothing is missing and nothing resolves.
        assert!(Resolved::default()
            .missing(&rec("c", json!({"What_Id": "9999"})))
            .is_none());
    }
}
