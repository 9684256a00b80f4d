//! What a page's resolved values give the mapping (a looked-up id, a mapped user), and the
//! history entry of a record they leave without one: it is not written.

use connector_sdk::{Fields, Record};
use hub_domain::RunError;
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
                    ..Default::default()
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
