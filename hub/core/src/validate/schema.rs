//! A flow's mapping checked against both objects' schemas when it is saved: every field it
//! reads exists on the source, every field it writes exists on the target and is writable, each
//! transform takes the source field's type and gives a value the target field takes, every
//! required target field is written when records are created, match keys name existing fields,
//! and a two-way flow's mapping holds the other way too. Each refusal is 422 `invalid_mapping`
//! naming the field and the object, in Japanese and English.
//!
//! The schemas carry no default values, so a required field is "written" only by a mapping
//! rule (a `{"constant": v}` rule gives a fixed value).

use connector_sdk::{FieldSchema, FieldType, ObjectSchema};
use hub_domain::{Direction, FlowSpec};

use crate::engine::transforms::{parse, Transform};
use crate::error::{HubError, HubResult};
use hub_messages::Message;

pub const INVALID_MAPPING: &str = "invalid_mapping";

/// Whether a value of type `value` may be written into a field of type `field`: the SDK's one
/// table (`FieldType::fits_into`), with an unknown type (`Other`) on either side not judged.
pub fn fits(value: FieldType, field: FieldType) -> bool {
    value == FieldType::Other || field == FieldType::Other || value.fits_into(field)
}

fn type_name(t: FieldType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{t:?}"))
}

fn refuse(field: String, message: Message) -> HubError {
    HubError::refused(INVALID_MAPPING, field, message)
}

/// One side of the flow, for finding fields and naming the object in messages.
struct Side<'a> {
    schema: &'a ObjectSchema,
    ja: &'static str,
    en: &'static str,
}

impl Side<'_> {
    /// The message with `{side}`: 送信元「取引先」(customers) / the source object 'customers'.
    fn named(&self, message: Message) -> Message {
        message.with_local(
            "side",
            format!("{}「{}」({})", self.ja, self.schema.name.ja, self.schema.id),
            format!("the {} object '{}'", self.en, self.schema.id),
        )
    }

    /// The field, or a refusal at `at` that lists what the object has.
    fn require(&self, id: &str, at: &str) -> HubResult<&FieldSchema> {
        if let Some(f) = self.schema.field(id) {
            return Ok(f);
        }
        let mut known: Vec<&str> = self.schema.fields.iter().map(|f| f.id.as_str()).collect();
        if known.len() > 20 {
            known.truncate(20);
            known.push("…");
        }
        let known = known.join(", ");
        Err(refuse(
            at.to_string(),
            self.named(Message::new("refused.no_field"))
                .with("field", id)
                .with("known", known),
        ))
    }

    /// Required, writable fields that `written` does not cover.
    fn unwritten_required<'s>(&'s self, written: &[&str]) -> Vec<&'s str> {
        self.schema
            .fields
            .iter()
            .filter(|f| f.required && !f.read_only && !written.contains(&f.id.as_str()))
            .map(|f| f.id.as_str())
            .collect()
    }
}

fn transform_name(t: &Option<serde_json::Value>) -> String {
    match t {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(o)) => o.keys().next().cloned().unwrap_or_default(),
        _ => "copy".into(),
    }
}

/// Checks `spec`'s mapping and match keys against the source and target objects' schemas.
pub fn check(spec: &FlowSpec, source: &ObjectSchema, target: &ObjectSchema) -> HubResult<()> {
    let src = Side {
        schema: source,
        ja: "送信元",
        en: "source",
    };
    let dst = Side {
        schema: target,
        ja: "送信先",
        en: "target",
    };
    let two_way = spec.direction == Direction::TwoWay;
    // Source fields a two-way flow writes back (the rules that can be inverted).
    let mut written_back: Vec<&str> = Vec::new();
    for (i, m) in spec.mapping.iter().enumerate() {
        let t = parse(&m.transform, &format!("mapping[{i}].transform"))?;
        let name = transform_name(&m.transform);
        let from = match (t.reads_source(), m.from.as_str()) {
            (false, _) => None,
            (true, "$id") => None,
            (true, f) => Some(src.require(f, &format!("mapping[{i}].from"))?),
        };
        let mut extra_types = Vec::new();
        for f in t.extra_sources() {
            extra_types.push(
                src.require(f, &format!("mapping[{i}].transform"))?
                    .field_type,
            );
        }
        let to = dst.require(&m.to, &format!("mapping[{i}].to"))?;
        if to.read_only {
            return Err(refuse(
                format!("mapping[{i}].to"),
                dst.named(Message::new("refused.read_only"))
                    .with("field", &m.to),
            ));
        }
        let input = match (&from, t.reads_source()) {
            // coalesce gives one of its fields' values: their type when they share one.
            (None, false) if matches!(t, Transform::Coalesce { .. }) => {
                match extra_types.split_first() {
                    Some((first, rest)) if rest.iter().all(|x| x == first) => *first,
                    _ => FieldType::Other,
                }
            }
            (Some(f), _) => f.field_type,
            // The record id.
            (None, true) => FieldType::Text,
            (None, false) => FieldType::Other,
        };
        if !t.accepts(input) {
            return Err(refuse(
                format!("mapping[{i}].transform"),
                src.named(Message::new("refused.transform_input"))
                    .with("transform", &name)
                    .with_text("takes", t.takes())
                    .with("field", &m.from)
                    .with("type", type_name(input)),
            ));
        }
        let out = t.output(input);
        if !fits(out, to.field_type) {
            return Err(mismatch(i, "to", (&m.from, &src), out, (&m.to, &dst), to));
        }
        if two_way {
            if matches!(t, Transform::Lookup { .. } | Transform::UserMap { .. }) {
                return Err(refuse(
                    format!("mapping[{i}].transform"),
                    Message::new("refused.one_way_transform").with("transform", &name),
                ));
            }
            if let (Some(f), Some(inv)) = (from, t.inverse()) {
                if f.read_only {
                    return Err(refuse(
                        format!("mapping[{i}].from"),
                        src.named(Message::new("refused.read_only_two_way"))
                            .with("field", &m.from),
                    ));
                }
                let back = inv.output(to.field_type);
                if !inv.accepts(to.field_type) || !fits(back, f.field_type) {
                    return Err(mismatch(i, "from", (&m.to, &dst), back, (&m.from, &src), f));
                }
                written_back.push(m.from.as_str());
            }
        }
    }
    if spec.options.create_missing {
        let written: Vec<&str> = spec.mapping.iter().map(|m| m.to.as_str()).collect();
        required(&dst, &written)?;
        if two_way {
            required(&src, &written_back)?;
        }
    }
    for (i, k) in spec.match_keys.iter().enumerate() {
        src.require(&k.source, &format!("match_keys[{i}].source"))?;
        dst.require(&k.target, &format!("match_keys[{i}].target"))?;
    }
    Ok(())
}

/// A value of type `value` from `(name, side)` cannot go into field `into` of `(name, side)`.
fn mismatch(
    i: usize,
    part: &str,
    (from, from_side): (&str, &Side),
    value: FieldType,
    (to, to_side): (&str, &Side),
    into: &FieldSchema,
) -> HubError {
    let (v, f) = (type_name(value), type_name(into.field_type));
    let message = Message::new("refused.type_mismatch")
        .with("from", from)
        .with("from_type", v)
        .with("to", to)
        .with("to_type", f);
    let message = from_side.named(message);
    let (ja, en) = (
        format!(
            "{}「{}」({})",
            to_side.ja, to_side.schema.name.ja, to_side.schema.id
        ),
        format!("the {} object '{}'", to_side.en, to_side.schema.id),
    );
    refuse(
        format!("mapping[{i}].{part}"),
        message.with_local("to_side", ja, en),
    )
}

fn required(side: &Side, written: &[&str]) -> HubResult<()> {
    let missing = side.unwritten_required(written);
    if missing.is_empty() {
        return Ok(());
    }
    Err(refuse(
        "mapping".into(),
        side.named(Message::new("refused.required_unmapped"))
            .with_local(
                "fields",
                missing.join("」「"),
                missing
                    .iter()
                    .map(|m| format!("'{m}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_sdk::{Capabilities, Text};
    use serde_json::json;

    fn field(id: &str, t: FieldType, required: bool, read_only: bool) -> FieldSchema {
        FieldSchema {
            id: id.into(),
            label: id.into(),
            field_type: t,
            required,
            unique: false,
            read_only,
            options: vec![],
            lookup: None,
        }
    }

    fn object(id: &str, fields: Vec<FieldSchema>) -> ObjectSchema {
        ObjectSchema {
            title_field: None,
            record_url: None,
            read_options: vec![],
            id: id.into(),
            name: Text::new("顧客", "Customers"),
            fields,
            capabilities: Capabilities::default(),
        }
    }

    fn customers() -> ObjectSchema {
        object(
            "1",
            vec![
                field("レコード番号", FieldType::Text, false, true),
                field("会社名", FieldType::Text, true, false),
                field("売上高", FieldType::Number, false, false),
                field("取引開始日", FieldType::Date, false, false),
                field("休眠", FieldType::Boolean, false, false),
            ],
        )
    }

    fn accounts() -> ObjectSchema {
        object(
            "Accounts",
            vec![
                field("Account_Name", FieldType::Text, true, false),
                field("Annual_Revenue", FieldType::Number, false, false),
                field("Since", FieldType::Date, false, false),
                field("Description", FieldType::LongText, false, false),
                field("Created_Time", FieldType::DateTime, false, true),
            ],
        )
    }

    fn spec(extra: serde_json::Value) -> FlowSpec {
        let mut v = json!({"name": "f", "source": {"connection": "a", "object": "1"},
            "target": {"connection": "b", "object": "Accounts"},
            "mapping": [{"from": "会社名", "to": "Account_Name"}],
            "match_keys": [{"source": "会社名", "target": "Account_Name"}]});
        for (k, x) in extra.as_object().cloned().unwrap() {
            v[k] = x;
        }
        serde_json::from_value(v).unwrap()
    }

    fn refusal(extra: serde_json::Value) -> (String, String, String) {
        match check(&spec(extra), &customers(), &accounts()).unwrap_err() {
            HubError::Refused {
                code,
                field,
                message,
            } => {
                assert_eq!(code, INVALID_MAPPING);
                (
                    field,
                    message.render(hub_messages::Lang::En),
                    message.render(hub_messages::Lang::Ja),
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_fitting_mapping_passes() {
        check(
            &spec(json!({"mapping": [
                {"from": "会社名", "to": "Account_Name", "transform": "nfkc"},
                {"from": "売上高", "to": "Annual_Revenue"},
                {"from": "取引開始日", "to": "Since"},
                {"from": "$id", "to": "Account_Name", "transform": {"lookup": "f1"}},
                {"from": "x", "to": "Annual_Revenue", "transform": {"constant": "0"}}
            ]})),
            &customers(),
            &accounts(),
        )
        .unwrap();
    }

    #[test]
    fn unknown_fields_name_the_field_and_the_object() {
        let (field, en, ja) = refusal(json!({"mapping": [{"from": "会社", "to": "Account_Name"}]}));
        assert_eq!(field, "mapping[0].from");
        assert!(en.contains("source object '1' has no field '会社'"), "{en}");
        assert!(
            ja.contains("送信元「顧客」(1)に項目「会社」はありません"),
            "{ja}"
        );
        let (field, en, _) = refusal(json!({"mapping": [{"from": "会社名", "to": "Name"}]}));
        assert_eq!(field, "mapping[0].to");
        assert!(
            en.contains("target object 'Accounts' has no field 'Name'"),
            "{en}"
        );
        let (field, _, _) = refusal(json!({"match_keys": [{"source": "会社名", "target": "Nm"}]}));
        assert_eq!(field, "match_keys[0].target");
        let (field, _, _) = refusal(json!({"mapping": [{"from": "a", "to": "Account_Name",
            "transform": {"concat": ["会社名", "部署"]}}]}));
        assert_eq!(field, "mapping[0].transform");
    }

    #[test]
    fn types_and_transforms_must_fit() {
        let (field, en, _) = refusal(json!({"mapping": [
            {"from": "会社名", "to": "Account_Name"}, {"from": "売上高", "to": "Since"}]}));
        assert_eq!(field, "mapping[1].to");
        assert!(
            en.starts_with("Type mismatch: field '売上高' (number)"),
            "{en}"
        );
        let (field, en, ja) = refusal(json!({"mapping": [
            {"from": "会社名", "to": "Account_Name"},
            {"from": "売上高", "to": "Account_Name", "transform": {"date_format": "%Y"}}]}));
        assert_eq!(field, "mapping[1].transform");
        assert!(en.contains("Transform 'date_format' takes a date"), "{en}");
        assert!(ja.contains("「売上高」は number 型"), "{ja}");
        let (field, _, _) = refusal(json!({"mapping": [
            {"from": "会社名", "to": "Account_Name"}, {"from": "会社名", "to": "Created_Time"}]}));
        assert_eq!(field, "mapping[1].to");
    }

    #[test]
    fn coalesce_names_source_fields_and_gives_their_type() {
        // Account_Name from the first non-blank of two text fields.
        check(
            &spec(json!({"mapping": [{"from": "会社名", "to": "Account_Name",
                "transform": {"coalesce": ["会社名", "レコード番号"]}}]})),
            &customers(),
            &accounts(),
        )
        .unwrap();
        let (field, en, _) = refusal(json!({"mapping": [{"from": "会社名", "to": "Account_Name",
            "transform": {"coalesce": ["担当者名", "会社名"]}}]}));
        assert_eq!(field, "mapping[0].transform");
        assert!(en.contains("no field '担当者名'"), "{en}");
        // A number is not a date.
        let (field, _, _) = refusal(json!({"mapping": [{"from": "会社名", "to": "Account_Name"},
            {"from": "売上高", "to": "Since", "transform": {"coalesce": ["売上高"]}}]}));
        assert_eq!(field, "mapping[1].to");
        let empty = spec(json!({"mapping": [{"from": "会社名", "to": "Account_Name",
            "transform": {"coalesce": []}}]}));
        let e = check(&empty, &customers(), &accounts()).unwrap_err();
        assert!(e.to_string().starts_with("mapping[0].transform: "), "{e}");
    }

    #[test]
    fn required_target_fields_must_be_mapped_when_records_are_created() {
        let (field, en, _) =
            refusal(json!({"mapping": [{"from": "売上高", "to": "Annual_Revenue"}]}));
        assert_eq!(field, "mapping");
        assert!(
            en.contains("'Account_Name' of the target object 'Accounts'"),
            "{en}"
        );
        check(
            &spec(
                json!({"mapping": [{"from": "売上高", "to": "Annual_Revenue"}],
                         "options": {"create_missing": false}}),
            ),
            &customers(),
            &accounts(),
        )
        .unwrap();
    }

    #[test]
    fn two_way_flows_are_checked_the_other_way() {
        let two = |mapping: serde_json::Value| json!({"direction": "two_way", "mapping": mapping});
        // Account_Name ← 会社名 and back; fine.
        check(
            &spec(two(
                json!([{"from": "会社名", "to": "Account_Name", "transform": "trim"}]),
            )),
            &customers(),
            &accounts(),
        )
        .unwrap();
        // Written back into a read-only field.
        let (field, en, _) = refusal(two(json!([{"from": "会社名", "to": "Account_Name"},
            {"from": "レコード番号", "to": "Account_Name"}])));
        assert_eq!(field, "mapping[1].from");
        assert!(en.contains("read-only"), "{en}");
        // A flag fits into text one way only: one-way is fine, two-way is not.
        let flag = json!([{"from": "会社名", "to": "Account_Name"}, {"from": "休眠", "to": "Description"}]);
        check(&spec(json!({"mapping": flag})), &customers(), &accounts()).unwrap();
        let (field, en, _) = refusal(two(flag));
        assert_eq!(field, "mapping[1].from");
        assert!(en.starts_with("Type mismatch: field 'Description' (long_text) of the target object 'Accounts' cannot be written into field '休眠' (boolean)"), "{en}");
        let (field, _, _) = refusal(two(json!([{"from": "会社名", "to": "Account_Name"},
            {"from": "$id", "to": "Account_Name", "transform": {"lookup": "f1"}}])));
        assert_eq!(field, "mapping[1].transform");
    }
}
