//! How a run names its records to a person (issue 20 point 3): each side's title field and
//! record page (the object's `title_field` / `record_url`, as its connector lists them), the
//! titles of the records a side read, and the field and value a refusal names. A run error or
//! warning then shows 「株式会社サンプル」 with its id linked to the record's page, not `10`.

use connector_sdk::{Record, WriteOp, WriteResult};
use hub_domain::{Flow, RunError, RunWarning};
use hub_engine::{Failure, SideId};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

use crate::Hub;

/// Most titles one side keeps in a preview (it names every change it lists): past it, further
/// records are shown by id alone.
const MAX_TITLES: usize = 200_000;
/// Titles a run keeps, of the records read last: a record fails within a flush of its read
/// (a few thousand records), and a run of a million records keeps its memory bounded.
const RUN_TITLES: usize = 20_000;

/// What one side of a run knows to name its records.
#[derive(Debug, Default)]
pub(crate) struct SideNames {
    pub title_field: Option<String>,
    pub record_url: Option<String>,
    /// Record id → (when it was read, its title), for the records this side read.
    titles: HashMap<String, (u64, String)>,
    /// Set for a run: only the titles of the last this many records read are kept.
    pub window: Option<usize>,
    /// (when, id) in the order titles were kept (with a window).
    order: VecDeque<(u64, String)>,
    read: u64,
    /// Op id → (field, value sent) of the writes this side refused naming a field.
    refused: HashMap<String, (String, String)>,
}

impl SideNames {
    /// Adds the title field to the fields a read asks for (`None`: all of them).
    pub fn widen(&self, fields: &mut Option<Vec<String>>) {
        if let (Some(list), Some(t)) = (fields.as_mut(), &self.title_field) {
            if !list.contains(t) {
                list.push(t.clone());
            }
        }
    }

    /// Keeps the titles of records read.
    pub fn note(&mut self, records: &[Record]) {
        let Some(field) = &self.title_field else {
            return;
        };
        for r in records {
            if self.window.is_none() && self.titles.len() >= MAX_TITLES {
                return;
            }
            if let Some(t) = r.fields.get(field).and_then(text) {
                self.read += 1;
                self.titles.insert(r.id.clone(), (self.read, t));
                let Some(window) = self.window else {
                    continue;
                };
                self.order.push_back((self.read, r.id.clone()));
                while self.order.len() > window {
                    let Some((when, old)) = self.order.pop_front() else {
                        break;
                    };
                    // A record read again since keeps its title.
                    if self.titles.get(&old).is_some_and(|(w, _)| *w == when) {
                        self.titles.remove(&old);
                    }
                }
            }
        }
    }

    /// Keeps the value sent for the field each refusal names.
    pub fn note_refused(&mut self, ops: &[WriteOp], results: &[WriteResult]) {
        for r in results {
            let Some(field) = r.error.as_ref().and_then(|e| e.field.as_ref()) else {
                continue;
            };
            let sent = ops.iter().find(|o| o.op_id == r.op_id);
            let value = sent.and_then(|o| o.fields.get(field)).and_then(text);
            if let Some(value) = value {
                self.refused
                    .insert(r.op_id.clone(), (field.clone(), value.to_string()));
            }
        }
    }

    pub fn title(&self, id: &str) -> Option<String> {
        self.titles.get(id).map(|(_, t)| t.clone())
    }

    fn link(&self, id: &str) -> Option<String> {
        connector_sdk::schema::record_link(self.record_url.as_deref()?, id)
    }
}

/// A value as a person reads it (`None`: empty).
pub(crate) fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::Null => return None,
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// The flow's two objects' naming, `[source, target]`, as their connectors last listed them
/// (kept by `Hub::list_objects`: saving a flow lists both sides). A run never lists objects
/// itself (a Zoho listing reads every module's fields): an object never listed, or a store
/// that cannot answer, leaves that side's records named by id, and the run goes on.
/// A run (not a preview) keeps the titles of only the records read last ([`RUN_TITLES`]).
pub(crate) async fn sides(hub: &Hub, flow: &Flow, preview: bool) -> [SideNames; 2] {
    let spec = &flow.spec;
    let window = (!preview).then_some(RUN_TITLES);
    let blank = || SideNames {
        window,
        ..SideNames::default()
    };
    let mut out = [blank(), blank()];
    for (slot, ep) in out.iter_mut().zip([&spec.source, &spec.target]) {
        match hub.store.object_name(&ep.connection, &ep.object).await {
            Ok(Some((title_field, record_url))) => {
                *slot = SideNames {
                    title_field,
                    record_url,
                    ..blank()
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(connection = %ep.connection, error = %e, "objects' naming unreadable: records named by id")
            }
        }
    }
    out
}

fn ix(side: SideId) -> usize {
    match side {
        SideId::A => 0,
        SideId::B => 1,
    }
}

/// The record a failure is about: the side that holds it and its id there. Two-way labels a
/// record of side B `target:ID`; every other label is a source record's id.
fn whose(f: &Failure, e: &RunError) -> (SideId, String) {
    if let Failure::Unreadable { side, .. } = f {
        return (*side, e.record.clone());
    }
    match e.record.strip_prefix("target:") {
        Some(id) => (SideId::B, id.to_string()),
        None => (SideId::A, e.record.clone()),
    }
}

/// Names the run's errors (one per failure, in order): title, record page, refused value.
pub(crate) fn name_errors(failures: &[Failure], errors: &mut [RunError], sides: &[&SideNames; 2]) {
    for (f, e) in failures.iter().zip(errors.iter_mut()) {
        let (side, id) = whose(f, e);
        let names = sides[ix(side)];
        e.title = names.title(&id);
        e.url = names.link(&id);
        if let Failure::Refused {
            side: wrote,
            result,
            ..
        } = f
        {
            if let Some((field, value)) = sides[ix(*wrote)].refused.get(&result.op_id) {
                e.field = Some(field.clone());
                e.value = Some(value.clone());
            }
        }
    }
}

/// Names the run's warnings by the titles their side read.
pub(crate) fn name_warnings(warnings: &mut [RunWarning], sides: &[&SideNames; 2]) {
    for w in warnings {
        let side = if w.side == "target" { 1 } else { 0 };
        w.title = sides[side].title(&w.record);
    }
}

/// Names a preview's changes by the titles read (the record's label, as for errors), else by
/// the title field among the values to be written.
pub(crate) fn name_plan(plan: &mut super::Plan, sides: [&SideNames; 2]) {
    for c in &mut plan.changes {
        let (side, id) = match c.record.strip_prefix("target:") {
            Some(id) => (1, id),
            None => (0, c.record.as_str()),
        };
        let written = if c.side == "target" { 1 } else { 0 };
        c.title = sides[side].title(id).or_else(|| {
            let title_field = sides[written].title_field.as_ref()?;
            (c.fields.iter())
                .find(|f| &f.field == title_field)
                .and_then(|f| f.after.clone())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FieldChange, Plan};
    use super::*;
    use connector_sdk::{ConnectorError, ErrorKind, WriteAction, WriteOutcome};
    use hub_domain::RunCounts;
    use serde_json::json;

    fn fields(v: Value) -> connector_sdk::Fields {
        v.as_object().cloned().unwrap_or_default()
    }

    fn op(id: Option<&str>, f: Value) -> WriteOp {
        WriteOp {
            op_id: "7".into(),
            action: WriteAction::Upsert,
            id: id.map(str::to_string),
            match_key: None,
            expected_version: None,
            fields: fields(f),
        }
    }

    fn names() -> SideNames {
        SideNames {
            title_field: Some("会社名".into()),
            record_url: Some("https://x.cybozu.com/k/3/show#record={id}".into()),
            ..SideNames::default()
        }
    }

    #[test]
    fn a_preview_shows_only_what_an_update_changes_before_and_after() {
        let before = fields(json!({"会社名": "サンプル商事", "電話": "03-0000-0000"}));
        let w = op(
            Some("5"),
            json!({"会社名": "サンプル商事", "電話": "06-1111-2222"}),
        );
        assert_eq!(
            FieldChange::of(&w, Some(&before)),
            vec![FieldChange {
                field: "電話".into(),
                before: Some("03-0000-0000".into()),
                after: Some("06-1111-2222".into()),
            }]
        );
        let mut plan = Plan::default();
        let mut counts = RunCounts::default();
        plan.record_over(("10", "target"), &w, Some(&before), &mut counts);
        plan.record(
            "11",
            "target",
            &op(None, json!({"会社名": "新規商事"})),
            &mut counts,
        );
        let mut a = names();
        a.note(&[connector_sdk::Record {
            id: "10".into(),
            fields: fields(json!({"会社名": "サンプル商事"})),
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
        }]);
        name_plan(&mut plan, [&a, &names()]);
        assert_eq!(plan.changes[0].title.as_deref(), Some("サンプル商事"));
        assert_eq!(plan.changes[0].fields.len(), 1);
        // A record not read by title (a create) is named by the title it will be given.
        assert_eq!(plan.changes[1].title.as_deref(), Some("新規商事"));
        assert_eq!(plan.changes[1].fields[0].before, None);
    }

    #[test]
    fn a_run_keeps_the_titles_of_the_records_read_last_only() {
        let rec = |id: usize| connector_sdk::Record {
            id: id.to_string(),
            fields: fields(json!({"会社名": format!("商事{id}")})),
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
        };
        let mut a = SideNames {
            window: Some(3),
            ..names()
        };
        a.note(&[rec(1), rec(2), rec(3)]);
        a.note(&[rec(1), rec(4), rec(5)]);
        assert_eq!(a.title("1").as_deref(), Some("商事1"), "read again: kept");
        assert_eq!(a.title("2"), None, "read before the last three");
        assert_eq!(a.title("5").as_deref(), Some("商事5"));
        assert_eq!(a.titles.len(), 3);
    }

    #[test]
    fn a_refused_record_is_named_by_its_title_link_and_refused_value() {
        let mut a = names();
        a.note(&[connector_sdk::Record {
            id: "10".into(),
            fields: fields(json!({"会社名": "株式会社サンプル"})),
            version: None,
            modified_at: None,
            private: false,
            deleted: false,
        }]);
        let mut b = SideNames::default();
        let sent = op(None, json!({"Email": "sample@"}));
        let result = WriteResult {
            op_id: "7".into(),
            outcome: WriteOutcome::Error,
            id: None,
            version: None,
            modified_at: None,
            error: Some(ConnectorError::new(ErrorKind::InvalidData, "bad").with_field("Email")),
        };
        b.note_refused(std::slice::from_ref(&sent), std::slice::from_ref(&result));
        let failure = Failure::Refused {
            label: "10".into(),
            side: SideId::B,
            result,
        };
        let mut errors = vec![RunError {
            record: "10".into(),
            side: "target".into(),
            ..Default::default()
        }];
        name_errors(&[failure], &mut errors, &[&a, &b]);
        let e = &errors[0];
        assert_eq!(e.title.as_deref(), Some("株式会社サンプル"));
        assert_eq!(
            e.url.as_deref(),
            Some("https://x.cybozu.com/k/3/show#record=10")
        );
        assert_eq!(
            (e.field.as_deref(), e.value.as_deref()),
            (Some("Email"), Some("sample@"))
        );
    }
}
