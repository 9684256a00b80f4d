//! A manifest setting of kind `column_layout` (奉行 CSV's 取込フォーマット) edited as a table of
//! columns — object id, column header, field id, order — instead of JSON. The stored value stays
//! the JSON text the connector reads, `{"object": {"header": "field", …}, …}` in column order;
//! an object written in the long form (`{"name", "key", "columns": {…}, "types"}`) keeps its
//! other keys and gets its `columns` replaced. A stored text that is not such JSON is shown as
//! it is, in a text box, so nothing is lost.

use minijinja::{context, Value};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Value as Json;

use super::form::Form;
use super::i18n::{tf, Lang};
use super::messages::FieldErrors;

/// One column as the table shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ColumnRow {
    pub object: String,
    pub header: String,
    pub field: String,
    pub order: String,
}

/// JSON with objects kept in the order written (the columns' order is the file's).
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Map(Vec<(String, Node)>),
    Other(Json),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Text(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Other(Json::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Other(Json::from(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Other(Json::from(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Other(Json::from(v)))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Other(Json::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element::<Json>()? {
                    out.push(v);
                }
                Ok(Node::Other(Json::Array(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, Node>()? {
                    out.push((k, v));
                }
                Ok(Node::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn write(&self, out: &mut String) {
        let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        match self {
            Node::Text(s) => out.push_str(&quoted(s)),
            Node::Other(v) => out.push_str(&v.to_string()),
            Node::Map(m) => {
                out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&quoted(k));
                    out.push_str(": ");
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn parse(text: &str) -> Option<Vec<(String, Node)>> {
    match serde_json::from_str::<Node>(text).ok()? {
        Node::Map(objects) => Some(objects),
        _ => None,
    }
}

/// The columns of an object's spec: the long form's `columns`, else the spec itself.
fn columns_of(spec: &Node) -> Option<&Vec<(String, Node)>> {
    match spec.get("columns") {
        Some(Node::Map(cols)) => Some(cols),
        Some(_) => None,
        None => match spec {
            Node::Map(cols) => Some(cols),
            _ => None,
        },
    }
}

/// The stored text as rows, or `None` when it is not a layout the table can show (then the
/// page shows the text itself). Empty text is no rows.
pub fn rows(text: &str) -> Option<Vec<ColumnRow>> {
    if text.trim().is_empty() {
        return Some(vec![]);
    }
    let mut out = Vec::new();
    for (object, spec) in parse(text)? {
        for (i, (header, field)) in columns_of(&spec)?.iter().enumerate() {
            let Node::Text(field) = field else {
                return None;
            };
            out.push(ColumnRow {
                object: object.clone(),
                header: header.clone(),
                field: field.clone(),
                order: (i + 1).to_string(),
            });
        }
    }
    Some(out)
}

/// The rows posted under `name` (`<name>.object`, `.header`, `.field`, `.order`, one of each a
/// row) as the text to store, keeping what `stored` says besides the columns. A row with neither
/// header nor field is dropped; a half row is an error at `name`.
pub fn read(lang: Lang, form: &Form, name: &str, stored: &str, errors: &mut FieldErrors) -> String {
    collect(lang, form, name, stored, Some(errors))
}

/// The rows posted under `name` as typed, half rows too, to show them again after a refusal.
pub fn typed(form: &Form, name: &str, stored: &str) -> String {
    collect(Lang::Ja, form, name, stored, None)
}

fn collect(
    lang: Lang,
    form: &Form,
    name: &str,
    stored: &str,
    mut errors: Option<&mut FieldErrors>,
) -> String {
    let col = |part: &str| form.all(&format!("{name}.{part}"));
    let (objects, headers, fields, orders) =
        (col("object"), col("header"), col("field"), col("order"));
    let at = |v: &[&str], i: usize| v.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut rows: Vec<(String, f64, usize, String, String)> = Vec::new();
    for i in 0..headers.len().max(fields.len()) {
        let (object, header, field) = (at(&objects, i), at(&headers, i), at(&fields, i));
        if header.is_empty() && field.is_empty() {
            continue;
        }
        if object.is_empty() || header.is_empty() || field.is_empty() {
            if let Some(errors) = errors.as_deref_mut() {
                errors.insert(
                    name.to_string(),
                    tf(lang, "columns.err_half", &[("row", &(i + 1).to_string())]),
                );
                continue;
            }
        }
        let order = at(&orders, i).parse::<f64>().unwrap_or(f64::MAX);
        rows.push((object, order, i, header, field));
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut objects: Vec<String> = Vec::new();
    for r in &rows {
        if !objects.contains(&r.0) {
            objects.push(r.0.clone());
        }
    }
    let before = parse(stored).unwrap_or_default();
    let mut out = Vec::new();
    for object in objects {
        let mut mine: Vec<&(String, f64, usize, String, String)> =
            rows.iter().filter(|r| r.0 == object).collect();
        mine.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)));
        let columns = Node::Map(
            mine.iter()
                .map(|r| (r.3.clone(), Node::Text(r.4.clone())))
                .collect(),
        );
        let long = before
            .iter()
            .find(|(o, _)| *o == object)
            .and_then(|(_, spec)| match spec {
                Node::Map(m) if spec.get("columns").is_some() => Some(m.clone()),
                _ => None,
            });
        let spec = match long {
            Some(mut m) => {
                for (k, v) in m.iter_mut() {
                    if k == "columns" {
                        *v = columns.clone();
                    }
                }
                Node::Map(m)
            }
            None => columns,
        };
        out.push((object, spec));
    }
    let mut text = String::new();
    Node::Map(out).write(&mut text);
    text
}

/// What the table's template needs: the rows (with an empty one to fill in), or `None` to show
/// the stored text as it is.
pub fn table(value: &str) -> Option<Value> {
    let mut rows = rows(value)?;
    // The new row belongs to the last object, as the next column usually does.
    let blank = ColumnRow {
        object: rows.last().map(|r| r.object.clone()).unwrap_or_default(),
        order: (rows
            .iter()
            .filter(|r| Some(&r.object) == rows.last().map(|l| &l.object))
            .count()
            + 1)
        .to_string(),
        ..Default::default()
    };
    rows.push(blank.clone());
    Some(context! { rows => rows, blank => blank })
}

#[cfg(test)]
#[path = "column_layout_tests.rs"]
mod tests;
