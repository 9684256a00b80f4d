//! The flow editor's form as data: read from the posted form or from a saved flow, and turned
//! into a `FlowSpec` (settings the form does not show, such as retries, are kept).

use hub_domain::{BlankKeyParts, Endpoint, FlowSpec, MatchKeySpec, Normalize, Schedule};
use serde::Serialize;
use std::collections::BTreeMap;

use super::form::Form;
use super::i18n::{t, Lang};
use super::mapping_form::{self, MapRow};
use super::messages::FieldErrors;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    pub a: String,
    pub b: String,
    /// The normalizer.
    pub norm: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub name: String,
    pub src_conn: String,
    pub src_obj: String,
    pub dst_conn: String,
    pub dst_obj: String,
    pub direction: String,
    pub conflict: String,
    pub mapping: Vec<MapRow>,
    /// Match keys (`a` source, `b` target).
    pub keys: Vec<Row>,
    /// `use_other` | `skip` (`options.blank_key_parts`); empty keeps the saved flow's.
    pub blank_key_parts: String,
    /// Whether the posted form carried the transform inputs (a form without them keeps the
    /// transforms saved on the same pairs).
    #[serde(skip)]
    pub tf_posted: bool,
    pub skip_private: bool,
    pub modified_within_days: String,
    /// The objects' read options (`src_opt.<key>` / `dst_opt.<key>`); "" follows the connection.
    pub src_options: BTreeMap<String, String>,
    pub dst_options: BTreeMap<String, String>,
    pub create_missing: bool,
    pub propagate_deletes: bool,
    /// `options.register_missing_parent`: shown (and posted) only when a mapping row has a
    /// lookup transform; a form without it keeps the saved flow's.
    pub register_missing_parent: bool,
    #[serde(skip)]
    pub register_posted: bool,
    /// Whether a mapping row looks a value up through another flow (the switch is shown).
    pub has_lookup: bool,
    pub initial_max_records: String,
    pub schedule_on: bool,
    pub cron: String,
    pub timezone: String,
    pub skip_weekends: bool,
    pub skip_holidays: bool,
    pub enabled: bool,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            name: String::new(),
            src_conn: String::new(),
            src_obj: String::new(),
            dst_conn: String::new(),
            dst_obj: String::new(),
            direction: "one_way".into(),
            conflict: "source_wins".into(),
            mapping: vec![],
            keys: vec![],
            blank_key_parts: "use_other".into(),
            tf_posted: false,
            skip_private: true,
            modified_within_days: String::new(),
            src_options: BTreeMap::new(),
            dst_options: BTreeMap::new(),
            create_missing: true,
            propagate_deletes: false,
            register_missing_parent: true,
            register_posted: false,
            has_lookup: false,
            initial_max_records: String::new(),
            schedule_on: false,
            cron: "0 5 * * *".into(),
            timezone: hub_domain::DEFAULT_TIMEZONE.into(),
            skip_weekends: false,
            skip_holidays: false,
            enabled: true,
        }
    }
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_enum<T: serde::de::DeserializeOwned + Default>(s: &str) -> T {
    serde_json::from_value(serde_json::Value::String(s.to_string())).unwrap_or_default()
}

impl Draft {
    pub fn from_spec(spec: &FlowSpec) -> Draft {
        Draft {
            name: spec.name.clone(),
            src_conn: spec.source.connection.clone(),
            src_obj: spec.source.object.clone(),
            dst_conn: spec.target.connection.clone(),
            dst_obj: spec.target.object.clone(),
            direction: enum_str(&spec.direction),
            conflict: enum_str(&spec.conflict),
            mapping: spec.mapping.iter().map(MapRow::from_mapping).collect(),
            keys: spec
                .match_keys
                .iter()
                .map(|k| Row {
                    a: k.source.clone(),
                    b: k.target.clone(),
                    norm: enum_str(&k.normalize),
                })
                .collect(),
            blank_key_parts: enum_str(&spec.options.blank_key_parts),
            tf_posted: true,
            skip_private: spec.filters.skip_private,
            modified_within_days: spec
                .filters
                .modified_within_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            src_options: spec.filters.source_options.clone(),
            dst_options: spec.filters.target_options.clone(),
            create_missing: spec.options.create_missing,
            propagate_deletes: spec.options.propagate_deletes,
            register_missing_parent: spec.options.register_missing_parent,
            register_posted: true,
            has_lookup: spec
                .mapping
                .iter()
                .any(|m| m.transform.as_ref().is_some_and(is_lookup)),
            initial_max_records: spec
                .options
                .initial_max_records
                .map(|d| d.to_string())
                .unwrap_or_default(),
            schedule_on: spec.schedule.is_some(),
            cron: spec
                .schedule
                .as_ref()
                .map(|s| s.cron.clone())
                .unwrap_or_else(|| "0 5 * * *".into()),
            timezone: spec
                .schedule
                .as_ref()
                .map(|s| s.timezone.clone())
                .unwrap_or_else(|| hub_domain::DEFAULT_TIMEZONE.into()),
            skip_weekends: spec.schedule.as_ref().is_some_and(|s| s.skip_weekends),
            skip_holidays: spec.schedule.as_ref().is_some_and(|s| s.skip_holidays),
            enabled: spec.enabled,
        }
    }

    pub fn from_form(f: &Form) -> Draft {
        let (xs, ys, ns) = (f.all("mk_source"), f.all("mk_target"), f.all("mk_norm"));
        let keys = xs
            .iter()
            .enumerate()
            .map(|(i, x)| Row {
                a: x.trim().to_string(),
                b: ys.get(i).map(|y| y.trim().to_string()).unwrap_or_default(),
                norm: ns.get(i).map(|s| s.to_string()).unwrap_or_default(),
            })
            .collect();
        let (mapping, tf_posted) = mapping_form::rows_from_form(f);
        let has_lookup = mapping_form::has_lookup(&mapping);
        Draft {
            name: f.get("name").trim().to_string(),
            src_conn: f.get("src_conn").to_string(),
            src_obj: f.get("src_obj").to_string(),
            dst_conn: f.get("dst_conn").to_string(),
            dst_obj: f.get("dst_obj").to_string(),
            direction: f.get("direction").to_string(),
            conflict: f.get("conflict").to_string(),
            mapping,
            keys,
            blank_key_parts: f.get("blank_key_parts").trim().to_string(),
            tf_posted,
            skip_private: f.checked("skip_private"),
            modified_within_days: f.get("modified_within_days").trim().to_string(),
            src_options: options(f, "src_opt."),
            dst_options: options(f, "dst_opt."),
            create_missing: f.checked("create_missing"),
            propagate_deletes: f.checked("propagate_deletes"),
            // Not shown: on (the default), and the saved flow's is kept.
            register_missing_parent: f.get("register_missing_parent_shown").is_empty()
                || f.checked("register_missing_parent"),
            register_posted: !f.get("register_missing_parent_shown").is_empty(),
            has_lookup,
            initial_max_records: f.get("initial_max_records").trim().to_string(),
            schedule_on: f.checked("schedule_on"),
            cron: f.get("cron").trim().to_string(),
            timezone: f.get("timezone").trim().to_string(),
            skip_weekends: f.checked("skip_weekends"),
            skip_holidays: f.checked("skip_holidays"),
            enabled: f.checked("enabled"),
        }
    }

    /// The spec to save, starting from `base` (the saved flow) so hidden options survive.
    /// Form-level mistakes go to `errors`; the hub checks the rest when saving.
    pub fn to_spec(
        &self,
        lang: Lang,
        base: Option<&FlowSpec>,
        errors: &mut FieldErrors,
    ) -> FlowSpec {
        // A new flow starts from the API's defaults (so fields added later get theirs too).
        let mut spec = base.cloned().unwrap_or_else(|| {
            let blank = serde_json::json!({
                "name": "",
                "source": {"connection": "", "object": ""},
                "target": {"connection": "", "object": ""},
            });
            serde_json::from_value(blank).unwrap_or_else(|_| unreachable!("a blank flow parses"))
        });
        for (field, v) in [
            ("name", &self.name),
            ("src_conn", &self.src_conn),
            ("src_obj", &self.src_obj),
            ("dst_conn", &self.dst_conn),
            ("dst_obj", &self.dst_obj),
        ] {
            if v.is_empty() {
                errors.insert(field.into(), t(lang, "err.required"));
            }
        }
        spec.name = self.name.clone();
        spec.source = Endpoint {
            connection: self.src_conn.clone(),
            object: self.src_obj.clone(),
        };
        spec.target = Endpoint {
            connection: self.dst_conn.clone(),
            object: self.dst_obj.clone(),
        };
        spec.direction = parse_enum(&self.direction);
        spec.conflict = parse_enum(&self.conflict);
        let full = |r: &&Row| !r.a.is_empty() || !r.b.is_empty();
        if self
            .keys
            .iter()
            .filter(full)
            .any(|r| r.a.is_empty() || r.b.is_empty())
        {
            errors.insert("match_keys".into(), t(lang, "flow.err_row_half"));
        }
        spec.mapping = mapping_form::to_mapping(&self.mapping, self.tf_posted, base, lang, errors);
        spec.match_keys = self
            .keys
            .iter()
            .filter(|r| !r.a.is_empty() && !r.b.is_empty())
            .map(|r| MatchKeySpec {
                source: r.a.clone(),
                target: r.b.clone(),
                normalize: parse_enum::<Normalize>(&r.norm),
            })
            .collect();
        if !self.blank_key_parts.is_empty() {
            spec.options.blank_key_parts = parse_enum::<BlankKeyParts>(&self.blank_key_parts);
        }
        spec.filters.skip_private = self.skip_private;
        spec.filters.modified_within_days = positive(
            lang,
            "modified_within_days",
            &self.modified_within_days,
            errors,
        );
        spec.filters.source_options = self.src_options.clone();
        // The target's read options are shown for two-way flows only (one-way reads it to match).
        spec.filters.target_options = if spec.direction == hub_domain::Direction::TwoWay {
            self.dst_options.clone()
        } else {
            BTreeMap::new()
        };
        spec.options.create_missing = self.create_missing;
        spec.options.propagate_deletes = self.propagate_deletes;
        if self.register_posted {
            spec.options.register_missing_parent = self.register_missing_parent;
        }
        spec.options.initial_max_records = positive(
            lang,
            "initial_max_records",
            &self.initial_max_records,
            errors,
        );
        spec.schedule = if self.schedule_on {
            if self.cron.is_empty() {
                errors.insert("cron".into(), t(lang, "err.required"));
            }
            let missed = spec.schedule.as_ref().map(|s| s.missed).unwrap_or_default();
            Some(Schedule {
                cron: self.cron.clone(),
                timezone: if self.timezone.is_empty() {
                    hub_domain::DEFAULT_TIMEZONE.into()
                } else {
                    self.timezone.clone()
                },
                skip_weekends: self.skip_weekends,
                skip_holidays: self.skip_holidays,
                missed,
            })
        } else {
            None
        };
        spec.enabled = self.enabled;
        spec
    }
}

/// The chosen read options under `prefix`; an empty choice follows the connection's setting.
fn options(f: &Form, prefix: &str) -> BTreeMap<String, String> {
    f.0.iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?, v.trim())))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(
    lang: Lang,
    field: &str,
    v: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    if v.is_empty() {
        return None;
    }
    match v.parse::<T>() {
        Ok(n) if n > T::default() => Some(n),
        _ => {
            errors.insert(field.into(), t(lang, "err.positive"));
            None
        }
    }
}

/// The hub's field names (`schedule.cron`, `source.connection`, `mapping[2].to`) as the form's.
pub fn form_field(hub_field: &str) -> String {
    let f = hub_field;
    if f.starts_with("mapping") {
        return "mapping".into();
    }
    if f.starts_with("match_keys") {
        return "match_keys".into();
    }
    if let Some(k) = f.strip_prefix("filters.source_options.") {
        return format!("src_opt.{k}");
    }
    if let Some(k) = f.strip_prefix("filters.target_options.") {
        return format!("dst_opt.{k}");
    }
    match f {
        "schedule.cron" => "cron",
        "schedule.timezone" => "timezone",
        "source.connection" => "src_conn",
        "source.object" | "source" => "src_obj",
        "target.connection" => "dst_conn",
        "target.object" | "target" => "dst_obj",
        other => other,
    }
    .to_string()
}

/// A transform that looks its value up through another flow's links.
fn is_lookup(t: &serde_json::Value) -> bool {
    t.get("lookup").is_some() || t.get("lookup_reverse").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_domain::{ConflictPolicy, Direction};

    #[test]
    fn a_form_becomes_a_spec_and_back() {
        let body = "name=%E5%8F%96%E5%BC%95%E5%85%88&src_conn=a&src_obj=companies&dst_conn=b&dst_obj=accounts\
            &direction=two_way&conflict=newest_wins&map_from=name&map_to=Account_Name&map_from=&map_to=\
            &mk_source=name&mk_target=Account_Name&mk_norm=company_name&skip_private=on&modified_within_days=60\
            &create_missing=on&schedule_on=on&cron=30+9+*+*+1-5&timezone=Asia%2FTokyo&skip_holidays=on&enabled=on";
        let d = Draft::from_form(&Form::parse(body.as_bytes()));
        let mut errors = FieldErrors::new();
        let spec = d.to_spec(Lang::Ja, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(spec.direction, Direction::TwoWay);
        assert_eq!(spec.conflict, ConflictPolicy::NewestWins);
        assert_eq!(spec.mapping.len(), 1);
        assert_eq!(spec.match_keys[0].normalize, Normalize::CompanyName);
        assert_eq!(spec.filters.modified_within_days, Some(60));
        assert!(!spec.options.propagate_deletes);
        let s = spec.schedule.as_ref().unwrap();
        assert_eq!((s.cron.as_str(), s.skip_holidays), ("30 9 * * 1-5", true));
        let back = Draft::from_spec(&spec);
        assert_eq!(back.keys[0].norm, "company_name");
        assert_eq!(back.direction, "two_way");
    }

    /// Seed 004's 顧客自動登録 switch: shown for a mapping with a lookup, on by default, kept
    /// when the form did not show it.
    #[test]
    fn the_register_missing_parent_switch_follows_the_form() {
        let lookup = "name=x&src_conn=a&src_obj=Tasks&dst_conn=b&dst_obj=2\
            &map_from=What_Id&map_to=%E9%A1%A7%E5%AE%A2&map_tf=%7B%22lookup_reverse%22%3A%22f1%22%7D";
        let d = Draft::from_form(&Form::parse(lookup.as_bytes()));
        assert!(d.has_lookup && d.register_missing_parent);
        let spec = d.to_spec(Lang::Ja, None, &mut FieldErrors::new());
        assert!(spec.options.register_missing_parent, "on by default");
        let off = format!("{lookup}&register_missing_parent_shown=1");
        let d = Draft::from_form(&Form::parse(off.as_bytes()));
        let spec = d.to_spec(Lang::Ja, Some(&spec), &mut FieldErrors::new());
        assert!(!spec.options.register_missing_parent, "unticked");
        let back = Draft::from_spec(&spec);
        assert!(back.has_lookup && !back.register_missing_parent);
        let d = Draft::from_form(&Form::parse(
            b"name=x&src_conn=a&src_obj=1&dst_conn=b&dst_obj=2&map_from=a&map_to=b",
        ));
        assert!(!d.has_lookup);
        let kept = d.to_spec(Lang::Ja, Some(&spec), &mut FieldErrors::new());
        assert!(!kept.options.register_missing_parent, "not shown: kept");
    }

    /// Seed 004 in the editor: 担当者名 or else 会社名 into Last_Name, and what a blank match
    /// field does; both come back when the flow is edited again.
    #[test]
    fn transforms_and_the_blank_key_rule_are_edited_in_the_form() {
        let body = "name=x&src_conn=a&src_obj=1&dst_conn=b&dst_obj=Leads\
            &map_from=%E6%8B%85%E5%BD%93%E8%80%85%E5%90%8D&map_to=Last_Name\
            &map_tf=%7B%22coalesce%22%3A+%5B%22%E6%8B%85%E5%BD%93%E8%80%85%E5%90%8D%22%2C+%22%E4%BC%9A%E7%A4%BE%E5%90%8D%22%5D%7D\
            &map_from=%E4%BC%9A%E7%A4%BE%E5%90%8D&map_to=Company&map_tf=trim\
            &map_from=&map_to=&map_tf=&blank_key_parts=skip";
        let d = Draft::from_form(&Form::parse(body.as_bytes()));
        let mut errors = FieldErrors::new();
        let spec = d.to_spec(Lang::Ja, None, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            spec.mapping[0].transform,
            Some(serde_json::json!({"coalesce": ["担当者名", "会社名"]}))
        );
        assert_eq!(spec.mapping[1].transform, Some(serde_json::json!("trim")));
        assert_eq!(spec.options.blank_key_parts, BlankKeyParts::Skip);
        let back = Draft::from_spec(&spec);
        assert_eq!(
            (
                back.mapping[0].kind.as_str(),
                back.mapping[0].fields.as_str()
            ),
            ("coalesce", "会社名")
        );
        assert_eq!(back.mapping[1].kind, "trim");
        assert_eq!(back.blank_key_parts, "skip");

        // Emptied: no transform. A form without the rule keeps the saved one.
        let d = Draft::from_form(&Form::parse(
            b"name=x&src_conn=a&src_obj=1&dst_conn=b&dst_obj=Leads&map_from=a&map_to=b&map_tf=",
        ));
        let again = d.to_spec(Lang::Ja, Some(&spec), &mut FieldErrors::new());
        assert_eq!(again.mapping[0].transform, None);
        assert_eq!(again.options.blank_key_parts, BlankKeyParts::Skip);

        // Broken JSON is the mapping's error, in the page language.
        let d = Draft::from_form(&Form::parse(
            b"name=x&src_conn=a&src_obj=1&dst_conn=b&dst_obj=Leads&map_from=a&map_to=b&map_tf=%7Bcoalesce",
        ));
        let mut errors = FieldErrors::new();
        d.to_spec(Lang::En, None, &mut errors);
        assert_eq!(
            errors.get("mapping_row.0").map(String::as_str),
            Some("The transform's JSON cannot be read")
        );
    }

    #[test]
    fn read_options_are_kept_and_a_one_way_flow_drops_the_target_s() {
        let body = "name=x&src_conn=a&src_obj=events&dst_conn=b&dst_obj=Events&direction=one_way\
            &src_opt.events_window=today&dst_opt.events_window=past_month";
        let d = Draft::from_form(&Form::parse(body.as_bytes()));
        let spec = d.to_spec(Lang::Ja, None, &mut FieldErrors::new());
        assert_eq!(
            spec.filters
                .source_options
                .get("events_window")
                .map(String::as_str),
            Some("today")
        );
        assert!(spec.filters.target_options.is_empty());
        assert_eq!(
            Draft::from_spec(&spec).src_options,
            spec.filters.source_options
        );
        let followed = Draft::from_form(&Form::parse(b"src_opt.events_window=&direction=two_way"));
        assert!(
            followed.src_options.is_empty(),
            "an empty choice follows the connection"
        );
        assert_eq!(
            form_field("filters.source_options.events_window"),
            "src_opt.events_window"
        );
    }

    #[test]
    fn half_rows_and_bad_numbers_are_errors() {
        let d = Draft::from_form(&Form::parse(
            b"name=x&map_from=a&map_to=&modified_within_days=-3",
        ));
        let mut errors = FieldErrors::new();
        d.to_spec(Lang::Ja, None, &mut errors);
        assert!(errors.contains_key("mapping_row.0"), "{errors:?}");
        assert!(errors.contains_key("modified_within_days"));
        assert!(errors.contains_key("src_conn"));
        assert_eq!(form_field("schedule.cron"), "cron");
        assert_eq!(form_field("mapping[3].to"), "mapping");
    }

    #[test]
    fn schema_refusals_show_at_their_field_in_the_page_language() {
        let e = hub_core::HubError::refused(
            "invalid_mapping",
            "mapping[1].to",
            hub_messages::Message::new("refused.no_field")
                .with_local(
                    "side",
                    "送信先「取引先」(Accounts)",
                    "the target object 'Accounts'",
                )
                .with("field", "Street")
                .with("known", "Account_Name"),
        );
        for (lang, want) in [
            (
                Lang::Ja,
                "送信先「取引先」(Accounts)に項目「Street」はありません（項目: Account_Name）",
            ),
            (
                Lang::En,
                "the target object 'Accounts' has no field 'Street' (fields: Account_Name)",
            ),
        ] {
            let mut errors = FieldErrors::new();
            super::super::messages::put(&mut errors, lang, &e, &form_field);
            assert_eq!(errors.get("mapping").map(String::as_str), Some(want));
        }
        let unreachable = hub_core::HubError::refused(
            "connection_unreachable",
            "source.connection",
            hub_messages::Message::new("refused.connection_unreachable")
                .with_text("side", "side.source")
                .with("name", "kintone 本社")
                .with_local("detail", "接続できません", "cannot connect"),
        );
        let mut errors = FieldErrors::new();
        super::super::messages::put(&mut errors, Lang::Ja, &unreachable, &form_field);
        let shown = errors.get("src_conn").cloned().unwrap_or_default();
        assert!(
            shown.starts_with("送信元の接続「kintone 本社」から")
                && shown.contains("（接続できません）"),
            "{shown}"
        );
    }
}
