//! The flow editor's mapping rows without code: each row picks a transform from a list
//! (そのまま, 固定値, 姓名の分割, 連結, 日付の書式, 値の変換表, the normalisers…) and fills the
//! inputs that transform needs; the rows become the flow's `mapping` (the transform JSON the
//! engine reads, `hub-core` `engine/transforms.rs`) and come back from it. A transform the list
//! does not offer (a lookup, a user map) stays editable as JSON (`json`).
//!
//! The target's required fields are listed with their state, and each one no row writes gets a
//! row of its own, so a value can be chosen or typed as a constant before saving.

use connector_sdk::ObjectSchema;
use hub_domain::{FieldMapping, FlowSpec};
use minijinja::{context, Value};
use serde::Serialize;
use serde_json::{json, Map, Value as Json};

use super::flow_draft::{Draft, Row};
use super::form::Form;
use super::i18n::{t, tf, Lang};
use super::messages::FieldErrors;

/// The transform choices, in the order the select shows them: (value, catalogue key).
pub const KINDS: [(&str, &str); 13] = [
    ("", "mapping.kind_copy"),
    ("constant", "mapping.kind_constant"),
    ("split_last", "mapping.kind_split_last"),
    ("split_first", "mapping.kind_split_first"),
    ("concat", "mapping.kind_concat"),
    ("coalesce", "mapping.kind_coalesce"),
    ("date_format", "mapping.kind_date_format"),
    ("map", "mapping.kind_map"),
    ("trim", "mapping.kind_trim"),
    ("nfkc", "mapping.kind_nfkc"),
    ("upper", "mapping.kind_upper"),
    ("lower", "mapping.kind_lower"),
    ("json", "mapping.kind_json"),
];

/// Names of the simple transforms (no parameters, a source value in).
const NAMED: [&str; 4] = ["trim", "nfkc", "upper", "lower"];

/// One mapping row as the form shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MapRow {
    /// Source field (for concat / coalesce: the first of the fields).
    pub from: String,
    pub to: String,
    /// One of [`KINDS`]' values.
    pub kind: String,
    pub constant: String,
    /// concat / coalesce: the fields after `from`, comma separated.
    pub fields: String,
    pub separator: String,
    pub date: String,
    /// 値の変換表: one `from=to` a line.
    pub table: String,
    pub default: String,
    /// `json`: the transform as written (a name or JSON).
    pub json: String,
    /// Added for a required target field no other row wrote.
    pub required: bool,
}

/// Why a row cannot be saved: the catalogue key, with the target field's name.
fn row_error(lang: Lang, key: &str, to: &str) -> String {
    tf(lang, key, &[("field", to)])
}

fn list(text: &str) -> Vec<String> {
    text.split([',', '、', '，'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl MapRow {
    /// A saved rule as the row that edits it.
    pub fn from_mapping(m: &FieldMapping) -> MapRow {
        let mut r = MapRow {
            from: m.from.clone(),
            to: m.to.clone(),
            ..Default::default()
        };
        let json_row = |mut r: MapRow, t: &Json| {
            r.kind = "json".into();
            r.json = as_text(t);
            r
        };
        let Some(t) = m.transform.as_ref().filter(|t| !t.is_null()) else {
            return r;
        };
        match t {
            Json::String(s) if s.is_empty() || s == "copy" => r,
            Json::String(s) if NAMED.contains(&s.as_str()) => {
                r.kind = s.clone();
                r
            }
            Json::Object(o) if o.len() == 1 && o.get("constant").is_some_and(Json::is_string) => {
                r.kind = "constant".into();
                r.constant = as_text(&o["constant"]);
                r
            }
            Json::Object(o) if o.len() == 1 && o.contains_key("split_name") => {
                match o["split_name"].as_str() {
                    Some("last") => r.kind = "split_last".into(),
                    Some("first") => r.kind = "split_first".into(),
                    _ => return json_row(r, t),
                }
                r
            }
            Json::Object(o) if o.contains_key("concat") || o.contains_key("coalesce") => {
                let key = if o.contains_key("concat") {
                    "concat"
                } else {
                    "coalesce"
                };
                let fields: Option<Vec<String>> = o[key]
                    .as_array()
                    .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect());
                let separator = o.get("separator");
                let fits = match (key, separator) {
                    ("concat", Some(s)) => s.is_string() && o.len() == 2,
                    (_, None) => o.len() == 1,
                    _ => false,
                };
                match fields {
                    Some(f) if !f.is_empty() && fits => {
                        r.kind = key.into();
                        r.from = f[0].clone();
                        r.fields = f[1..].join(", ");
                        r.separator = separator
                            .map(as_text)
                            .unwrap_or_else(|| if key == "concat" { " " } else { "" }.into());
                        r
                    }
                    _ => json_row(r, t),
                }
            }
            Json::Object(o)
                if o.len() == 1 && o.get("date_format").is_some_and(Json::is_string) =>
            {
                r.kind = "date_format".into();
                r.date = as_text(&o["date_format"]);
                r
            }
            Json::Object(o)
                if o.get("map").is_some_and(Json::is_object)
                    && o.keys().all(|k| k == "map" || k == "default") =>
            {
                let map = o["map"].as_object().cloned().unwrap_or_default();
                if map.values().any(|v| v.is_object() || v.is_array()) {
                    return json_row(r, t);
                }
                r.kind = "map".into();
                r.table = map
                    .iter()
                    .map(|(k, v)| format!("{k}={}", as_text(v)))
                    .collect::<Vec<_>>()
                    .join("\n");
                r.default = o.get("default").map(as_text).unwrap_or_default();
                r
            }
            other => json_row(r, other),
        }
    }

    /// Whether the row's transform reads its source field (a constant does not).
    fn reads_source(&self) -> bool {
        match self.kind.as_str() {
            "constant" => false,
            "json" => !["constant", "concat", "coalesce"]
                .iter()
                .any(|k| self.json.contains(&format!("\"{k}\""))),
            _ => true,
        }
    }

    /// A row left as it was offered (nothing chosen, nothing typed).
    pub fn is_blank(&self) -> bool {
        self.from.is_empty()
            && self.to.is_empty()
            && self.constant.trim().is_empty()
            && self.fields.trim().is_empty()
            && self.table.trim().is_empty()
            && self.json.trim().is_empty()
    }

    /// The transform the row describes, or the catalogue key of what is missing.
    pub fn transform(&self) -> Result<Option<Json>, &'static str> {
        Ok(match self.kind.as_str() {
            "" | "copy" => None,
            k if NAMED.contains(&k) => Some(Json::String(k.to_string())),
            "constant" => {
                if self.constant.trim().is_empty() {
                    return Err("mapping.err_constant");
                }
                Some(json!({"constant": self.constant.trim()}))
            }
            "split_last" => Some(json!({"split_name": "last"})),
            "split_first" => Some(json!({"split_name": "first"})),
            "concat" | "coalesce" => {
                let mut fields = vec![self.from.clone()];
                fields.extend(list(&self.fields));
                if fields.len() < 2 {
                    return Err("mapping.err_fields");
                }
                if self.kind == "concat" {
                    Some(json!({"concat": fields, "separator": self.separator}))
                } else {
                    Some(json!({"coalesce": fields}))
                }
            }
            "date_format" => {
                if self.date.trim().is_empty() {
                    return Err("mapping.err_date");
                }
                Some(json!({"date_format": self.date.trim()}))
            }
            "map" => {
                let mut map = Map::new();
                for line in self.table.lines().filter(|l| !l.trim().is_empty()) {
                    let Some((k, v)) = line.split_once(['=', '\t']) else {
                        return Err("mapping.err_table_line");
                    };
                    map.insert(k.trim().to_string(), Json::String(v.trim().to_string()));
                }
                if map.is_empty() {
                    return Err("mapping.err_table");
                }
                let mut o = Map::new();
                o.insert("map".into(), Json::Object(map));
                if !self.default.trim().is_empty() {
                    o.insert("default".into(), Json::String(self.default.trim().into()));
                }
                Some(Json::Object(o))
            }
            _ => {
                let text = self.json.trim();
                if text.is_empty() {
                    None
                } else if text.starts_with(['{', '[', '"']) {
                    Some(serde_json::from_str(text).map_err(|_| "flow.err_transform_json")?)
                } else {
                    Some(Json::String(text.to_string()))
                }
            }
        })
    }
}

/// The posted rows (`map_from`, `map_to`, `map_kind` and each transform's inputs, one of each
/// a row), and whether the form carried transform inputs at all.
pub fn rows_from_form(f: &Form) -> (Vec<MapRow>, bool) {
    let col = |name: &str| f.all(name);
    let (from, to, kind, json) = (
        col("map_from"),
        col("map_to"),
        col("map_kind"),
        col("map_tf"),
    );
    let (constant, fields, sep, date, table, default, req) = (
        col("map_const"),
        col("map_fields"),
        col("map_sep"),
        col("map_date"),
        col("map_table"),
        col("map_default"),
        col("map_req"),
    );
    let at = |v: &[&str], i: usize| v.get(i).map(|s| s.to_string()).unwrap_or_default();
    let rows = from
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let json_text = at(&json, i).trim().to_string();
            // A form of before the list (or a client posting only `map_tf`): the text decides.
            let kind = if kind.is_empty() {
                if json_text.is_empty() {
                    String::new()
                } else {
                    "json".into()
                }
            } else {
                at(&kind, i)
            };
            MapRow {
                from: a.trim().to_string(),
                to: at(&to, i).trim().to_string(),
                kind,
                constant: at(&constant, i),
                fields: at(&fields, i),
                separator: at(&sep, i),
                date: at(&date, i),
                table: at(&table, i),
                default: at(&default, i),
                json: json_text,
                required: at(&req, i) == "1",
            }
        })
        .collect();
    (rows, !kind.is_empty() || !json.is_empty())
}

/// The error key of row `i` (`mapping_row.3`): the template shows it in the row.
pub fn error_key(i: usize) -> String {
    format!("mapping_row.{i}")
}

/// The rows as the flow's mapping; a row that cannot be saved gets its error in its row.
/// Without transform inputs in the form (`posted`), a row keeps the transform `base` has on the
/// same pair.
pub fn to_mapping(
    rows: &[MapRow],
    posted: bool,
    base: Option<&FlowSpec>,
    lang: Lang,
    errors: &mut FieldErrors,
) -> Vec<FieldMapping> {
    let mut out = Vec::new();
    let before = errors.len();
    for (i, r) in rows.iter().enumerate() {
        if r.is_blank() {
            continue;
        }
        let field = if r.to.is_empty() { &r.from } else { &r.to };
        if r.to.is_empty() {
            errors.insert(
                error_key(i),
                row_error(lang, "mapping.err_no_target", field),
            );
            continue;
        }
        let transform = if posted {
            match r.transform() {
                Ok(t) => t,
                Err(key) => {
                    errors.insert(error_key(i), row_error(lang, key, field));
                    continue;
                }
            }
        } else {
            base.and_then(|b| {
                b.mapping
                    .iter()
                    .find(|m| m.from == r.from && m.to == r.to)
                    .and_then(|m| m.transform.clone())
            })
        };
        if r.from.is_empty() && r.reads_source() {
            let key = if r.required {
                "mapping.err_required_empty"
            } else {
                "mapping.err_no_source"
            };
            errors.insert(error_key(i), row_error(lang, key, field));
            continue;
        }
        out.push(FieldMapping {
            from: r.from.clone(),
            to: r.to.clone(),
            transform,
        });
    }
    if errors.len() > before {
        // Above the table too, so it is seen from the top of the page.
        errors
            .entry("mapping".into())
            .or_insert_with(|| t(lang, "mapping.err_rows"));
    }
    out
}

/// Whether a row writes `field` with a value (a source field, or a transform that needs none).
fn fills(r: &MapRow, field: &str) -> bool {
    r.to == field && (!r.from.is_empty() || !r.reads_source())
}

/// The target's required fields (writable ones, when records are created): each with its
/// state; every one no row names gets a row (`required`) after the filled rows.
pub fn required_fields(
    lang: Lang,
    rows: &mut Vec<MapRow>,
    target: Option<&ObjectSchema>,
    create_missing: bool,
) -> Vec<Value> {
    let Some(o) = target.filter(|_| create_missing) else {
        return vec![];
    };
    let mut out = Vec::new();
    for f in o.fields.iter().filter(|f| f.required && !f.read_only) {
        let mut named = false;
        for r in rows.iter_mut().filter(|r| r.to == f.id) {
            r.required = true;
            named = true;
        }
        if !named {
            // Before the empty rows at the end, so the rows above keep their places.
            let at = rows
                .iter()
                .rposition(|r| !r.is_blank())
                .map_or(0, |i| i + 1);
            rows.insert(
                at,
                MapRow {
                    to: f.id.clone(),
                    required: true,
                    ..Default::default()
                },
            );
        }
        let label = if f.label.is_empty() || f.label == f.id {
            f.id.clone()
        } else {
            format!("{} ({})", f.label, f.id)
        };
        let mapped = rows.iter().any(|r| fills(r, &f.id));
        out.push(context! {
            id => f.id.clone(),
            label => label,
            mapped => mapped,
            state => t(lang, if mapped { "mapping.state_mapped" } else { "mapping.state_unmapped" }),
        });
    }
    out
}

/// Pairs fields that have the same code on both sides, and proposes the first pair whose
/// target field is unique as the match key (the user can change both before saving).
pub fn suggest(d: &mut Draft, src: &[ObjectSchema], dst: &[ObjectSchema]) {
    let (Some(so), Some(to)) = (
        src.iter().find(|o| o.id == d.src_obj),
        dst.iter().find(|o| o.id == d.dst_obj),
    ) else {
        return;
    };
    if d.mapping
        .iter()
        .all(|r| r.from.is_empty() && r.to.is_empty())
    {
        d.mapping = so
            .fields
            .iter()
            .filter_map(|f| {
                to.fields
                    .iter()
                    .find(|g| {
                        !g.read_only
                            && (g.id == f.id || (!f.label.is_empty() && g.label == f.label))
                    })
                    .map(|g| MapRow {
                        from: f.id.clone(),
                        to: g.id.clone(),
                        ..Default::default()
                    })
            })
            .collect();
    }
    if d.keys.iter().all(|r| r.a.is_empty() && r.b.is_empty()) {
        let unique = d
            .mapping
            .iter()
            .find(|r| {
                r.kind.is_empty() && !r.from.is_empty() && to.field(&r.to).is_some_and(|g| g.unique)
            })
            .cloned();
        d.keys = unique
            .map(|r| Row {
                a: r.from,
                b: r.to,
                norm: "nfkc".into(),
            })
            .into_iter()
            .collect();
    }
}

/// The transform select's options.
pub fn kind_choices(lang: Lang) -> Vec<Value> {
    KINDS
        .iter()
        .map(|(v, k)| context! { value => *v, label => t(lang, k) })
        .collect()
}

/// Whether a row looks its value up through another flow (the 顧客自動登録 switch is shown).
pub fn has_lookup(rows: &[MapRow]) -> bool {
    rows.iter()
        .any(|r| r.kind == "json" && r.json.contains("\"lookup"))
}

#[cfg(test)]
#[path = "mapping_form_tests.rs"]
mod tests;
