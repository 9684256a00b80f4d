//! Records as a person knows them (issue 20 point 3): a record's title with its id linked to its
//! page in its own system, the value a refusal names, and a preview's changes before → after.

use hub_core::engine::{Plan, PlannedChange};
use hub_domain::RunError;
use minijinja::{context, Value};

use super::error_list::PER_PAGE;
use super::i18n::{t, tf, Lang};

/// A link only to a web page: a connector's `record_url` is not trusted to be one.
pub fn safe_url(url: Option<&str>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
}

/// 項目「X」の値「Y」 of a refusal naming a field, else nothing.
pub fn refused(lang: Lang, e: &RunError) -> Option<String> {
    let field = e.field.as_deref()?;
    let value = e.value.as_deref().unwrap_or("");
    Some(tf(
        lang,
        "run.refused_value",
        &[("field", field), ("value", value)],
    ))
}

/// The record cell of a run error: `title` (or none: the id is shown alone), `id`, `url`.
pub fn record_cell(e: &RunError) -> Value {
    context! {
        id => e.record.clone(),
        title => e.title.clone(),
        url => safe_url(e.url.as_deref()),
    }
}

fn action_key(action: &str) -> &'static str {
    match action {
        "create" => "preview.create",
        "update" => "preview.update",
        "delete" => "preview.delete",
        _ => "preview.create_or_update",
    }
}

fn change_row(lang: Lang, c: &PlannedChange) -> Value {
    let side = match c.side.as_str() {
        "source" => t(lang, "run.side_source"),
        _ => t(lang, "run.side_target"),
    };
    let fields: Vec<Value> = (c.fields.iter())
        .map(|f| {
            context! {
                field => f.field.clone(),
                before => f.before.clone(),
                after => f.after.clone().unwrap_or_else(|| t(lang, "preview.empty")),
            }
        })
        .collect();
    context! {
        record => c.record.clone(),
        title => c.title.clone(),
        side => side,
        action => t(lang, action_key(c.action)),
        creates => c.action == "create",
        fields => fields,
    }
}

/// A preview's changes as its page lists them: sorted by title (untitled last, by id), the first
/// [`PER_PAGE`] shown, with how many there are.
pub fn preview_changes(lang: Lang, plan: &Plan) -> (Vec<Value>, Option<String>) {
    let mut changes: Vec<&PlannedChange> = plan.changes.iter().collect();
    changes.sort_by(|a, b| {
        // Named records first, by name; then the others by id.
        let key = |c: &PlannedChange| (c.title.is_none(), c.title.clone());
        key(a).cmp(&key(b)).then_with(|| a.record.cmp(&b.record))
    });
    let total = changes.len();
    let rows = changes
        .into_iter()
        .take(PER_PAGE)
        .map(|c| change_row(lang, c))
        .collect();
    let note = (total > PER_PAGE).then(|| {
        tf(
            lang,
            "preview.shown",
            &[
                ("shown", &PER_PAGE.to_string()),
                ("total", &total.to_string()),
            ],
        )
    });
    (rows, note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hub_core::engine::FieldChange;

    fn change(record: &str, title: Option<&str>) -> PlannedChange {
        PlannedChange {
            record: record.into(),
            title: title.map(str::to_string),
            side: "target".into(),
            action: "update",
            target_id: Some("1".into()),
            fields: vec![FieldChange {
                field: "phone".into(),
                before: Some("03".into()),
                after: Some("06".into()),
            }],
        }
    }

    #[test]
    fn a_long_preview_is_sorted_by_title_and_shows_a_page_with_the_total() {
        let mut plan = Plan::default();
        plan.changes.push(change("2", Some("二号商事")));
        plan.changes.push(change("1", Some("一号商事")));
        for i in 0..60 {
            plan.changes.push(change(&format!("x{i:02}"), None));
        }
        let (rows, note) = preview_changes(Lang::Ja, &plan);
        assert_eq!(rows.len(), PER_PAGE);
        let titles: Vec<String> = rows
            .iter()
            .map(|r| r.get_attr("record").unwrap().to_string())
            .collect();
        assert_eq!(&titles[..2], ["1", "2"], "{titles:?}");
        assert_eq!(note.as_deref(), Some("先頭 50 件を表示（全 62 件）"));
    }

    #[test]
    fn only_web_pages_are_linked() {
        assert_eq!(safe_url(Some("javascript:alert(1)")), None);
        assert_eq!(
            safe_url(Some("https://crm.zoho.jp/crm/tab/Accounts/1")).as_deref(),
            Some("https://crm.zoho.jp/crm/tab/Accounts/1")
        );
    }
}
