//! A flow's `filters.source_options` / `target_options` checked against the objects'
//! `read_options` when it is saved: each key is one the object offers and each value one of
//! its choices. Refusals are 422 `invalid_filter` naming the option.

use std::collections::BTreeMap;

use connector_sdk::{ObjectSchema, SettingKind};
use hub_domain::{Direction, FlowSpec};

use crate::error::{HubError, HubResult};
use hub_messages::Message;

pub const INVALID_FILTER: &str = "invalid_filter";

pub fn check(spec: &FlowSpec, source: &ObjectSchema, target: &ObjectSchema) -> HubResult<()> {
    side("source_options", &spec.filters.source_options, source)?;
    // A one-way flow reads its target only to match, and then all of it.
    if spec.direction == Direction::OneWay {
        if let Some(key) = spec.filters.target_options.keys().next() {
            return Err(HubError::refused(
                INVALID_FILTER,
                format!("filters.target_options.{key}"),
                Message::new("refused.one_way_target_filter"),
            ));
        }
    }
    side("target_options", &spec.filters.target_options, target)
}

fn side(at: &str, given: &BTreeMap<String, String>, object: &ObjectSchema) -> HubResult<()> {
    for (key, value) in given {
        let field = format!("filters.{at}.{key}");
        let Some(option) = object.read_options.iter().find(|o| &o.key == key) else {
            let known: Vec<&str> = object.read_options.iter().map(|o| o.key.as_str()).collect();
            let message = Message::new("refused.no_read_option")
                .with_local("object", &object.name.ja, &object.name.en)
                .with("id", &object.id)
                .with("key", key);
            let message = if known.is_empty() {
                message.with_local("known", "なし", "none")
            } else {
                message.with("known", known.join(", "))
            };
            return Err(HubError::refused(INVALID_FILTER, field, message));
        };
        if let SettingKind::Select { options } = &option.kind {
            if !options.iter().any(|o| &o.value == value) {
                let known: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                let known = known.join(", ");
                return Err(HubError::refused(
                    INVALID_FILTER,
                    field,
                    Message::new("refused.not_a_choice")
                        .with_local("option", &option.label.ja, &option.label.en)
                        .with("value", value)
                        .with("known", known),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use connector_sdk::{Capabilities, SelectOption, SettingField, Text};

    fn calendar() -> ObjectSchema {
        let choice = |v: &str| SelectOption {
            value: v.into(),
            label: Text::new(v, v),
        };
        ObjectSchema {
            id: "events".into(),
            name: Text::new("予定", "Events"),
            fields: vec![],
            capabilities: Capabilities::default(),
            title_field: None,
            record_url: None,
            read_options: vec![SettingField {
                key: "events_window".into(),
                label: Text::new("対象の予定", "Events"),
                kind: SettingKind::Select {
                    options: vec![choice("all"), choice("today")],
                },
                required: false,
                pattern: None,
                help: None,
                default: None,
                endpoint: false,
            }],
        }
    }

    fn spec(options: &[(&str, &str)]) -> FlowSpec {
        let mut spec: FlowSpec = serde_json::from_value(serde_json::json!({
            "name": "f",
            "source": {"connection": "a", "object": "events"},
            "target": {"connection": "b", "object": "events"},
            "mapping": []
        }))
        .unwrap();
        spec.filters.source_options = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        spec
    }

    #[test]
    fn a_choice_the_object_offers_passes() {
        assert!(check(
            &spec(&[("events_window", "today")]),
            &calendar(),
            &calendar()
        )
        .is_ok());
        assert!(check(&spec(&[]), &calendar(), &calendar()).is_ok());
        let mut two_way = spec(&[]);
        two_way.direction = Direction::TwoWay;
        two_way
            .filters
            .target_options
            .insert("events_window".into(), "today".into());
        assert!(check(&two_way, &calendar(), &calendar()).is_ok());
    }

    #[test]
    fn a_one_way_flow_does_not_filter_its_target() {
        let mut one_way = spec(&[]);
        one_way
            .filters
            .target_options
            .insert("events_window".into(), "today".into());
        let e = check(&one_way, &calendar(), &calendar()).unwrap_err();
        assert!(
            matches!(&e, HubError::Refused { field, .. } if field == "filters.target_options.events_window"),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_options_and_values_name_the_option() {
        let e = check(&spec(&[("window", "today")]), &calendar(), &calendar()).unwrap_err();
        assert!(
            matches!(&e, HubError::Refused { field, message, .. }
                if field == "filters.source_options.window" && message.arg("known").is_some_and(|k| k.contains("events_window"))),
            "{e:?}"
        );
        let e = check(
            &spec(&[("events_window", "week")]),
            &calendar(),
            &calendar(),
        )
        .unwrap_err();
        assert!(
            matches!(&e, HubError::Refused { field, message, .. }
                if field == "filters.source_options.events_window" && message.arg("known").is_some_and(|k| k.contains("today"))),
            "{e:?}"
        );
    }
}
