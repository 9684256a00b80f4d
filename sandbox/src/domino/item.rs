//! Notes item values and how DAS writes and reads them as JSON (reference §2.3).

use super::assumed;
use super::http::{iso, parse_iso};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A Notes item value. Rich text keeps its plain text; readers and authors are name lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Item {
    Text(String),
    TextList(Vec<String>),
    Number(f64),
    NumberList(Vec<f64>),
    DateTime(DateTime<Utc>),
    DateTimeList(Vec<DateTime<Utc>>),
    RichText(String),
    Readers(Vec<String>),
    Authors(Vec<String>),
}

/// How items are written: `strongtype=true` and `multipart=false` of §2.3.
#[derive(Debug, Clone, Copy)]
pub struct ItemFormat {
    pub strongtype: bool,
    pub multipart: bool,
}

impl Default for ItemFormat {
    fn default() -> Self {
        ItemFormat {
            strongtype: false,
            multipart: true,
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

/// Rich text as the server's HTML: the text escaped, line breaks as `<br>`.
fn rich_html(s: &str) -> String {
    html_escape::encode_text(s).replace('\n', "<br>")
}

/// Plain text of an HTML fragment: tags dropped, `<br>` and `</p>` become line breaks.
fn html_text(s: &str) -> String {
    let s = s
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out)
        .trim_end()
        .to_string()
}

impl Item {
    pub fn text(s: impl Into<String>) -> Item {
        Item::Text(s.into())
    }

    pub fn render(&self, f: ItemFormat) -> Value {
        let date = |d: &DateTime<Utc>| -> Value {
            if f.strongtype {
                json!({"type": "datetime", "data": iso(*d)})
            } else {
                Value::String(iso(*d))
            }
        };
        match self {
            Item::Text(s) => Value::String(s.clone()),
            Item::TextList(v) | Item::Readers(v) | Item::Authors(v) => json!(v),
            Item::Number(n) => number(*n),
            Item::NumberList(v) => Value::Array(v.iter().map(|n| number(*n)).collect()),
            Item::DateTime(d) => date(d),
            Item::DateTimeList(v) => Value::Array(v.iter().map(date).collect()),
            Item::RichText(s) if f.multipart => json!({
                "type": "multipart",
                "content": [
                    {"contentType": "text/plain; charset=UTF-8", "data": s},
                    {"contentType": "text/html; charset=UTF-8", "data": rich_html(s)},
                ]
            }),
            Item::RichText(s) => json!({
                "type": "richtext",
                "contentType": "text/html",
                "data": rich_html(s),
            }),
        }
    }

    /// Reads a JSON value written by a client. `Err` when it has no Notes counterpart.
    pub fn from_json(v: &Value) -> Result<Item, String> {
        match v {
            Value::String(s) => Ok(Item::Text(s.clone())),
            Value::Number(n) => Ok(Item::Number(n.as_f64().unwrap_or(0.0))),
            Value::Bool(b) if assumed::BOOL_AS_NUMBER => Ok(Item::Number(u8::from(*b).into())),
            Value::Bool(b) => Ok(Item::Text(b.to_string())),
            Value::Null => Ok(Item::Text(String::new())),
            Value::Array(a) => {
                if a.iter().all(Value::is_number) && !a.is_empty() {
                    Ok(Item::NumberList(
                        a.iter().filter_map(Value::as_f64).collect(),
                    ))
                } else if a.iter().all(Value::is_string) {
                    Ok(Item::TextList(
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect(),
                    ))
                } else {
                    Err("an array must hold only strings or only numbers".into())
                }
            }
            Value::Object(o) => Self::from_typed(o),
        }
    }

    fn from_typed(o: &Map<String, Value>) -> Result<Item, String> {
        let kind = o.get("type").and_then(Value::as_str).unwrap_or("");
        let data = o.get("data");
        match kind {
            "datetime" => match data {
                Some(Value::String(s)) => parse_iso(s)
                    .map(Item::DateTime)
                    .ok_or_else(|| format!("invalid date {s}")),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| x.as_str().and_then(parse_iso))
                    .collect::<Option<Vec<_>>>()
                    .map(Item::DateTimeList)
                    .ok_or_else(|| "invalid date in list".to_string()),
                _ => Err("datetime without data".into()),
            },
            "richtext" => {
                let s = data.and_then(Value::as_str).unwrap_or("");
                let html = o
                    .get("contentType")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.contains("html"));
                Ok(Item::RichText(if html {
                    html_text(s)
                } else {
                    s.to_string()
                }))
            }
            "multipart" => {
                let parts = o
                    .get("content")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let part = |want: &str| {
                    parts.iter().find_map(|p| {
                        let ct = p.get("contentType").and_then(Value::as_str)?;
                        ct.starts_with(want)
                            .then(|| p.get("data").and_then(Value::as_str))
                            .flatten()
                            .map(str::to_string)
                    })
                };
                if let Some(t) = part("text/plain") {
                    Ok(Item::RichText(t))
                } else if let Some(h) = part("text/html") {
                    Ok(Item::RichText(html_text(&h)))
                } else {
                    Ok(Item::RichText(String::new()))
                }
            }
            other => Err(format!("unknown item type {other:?}")),
        }
    }

    /// The value as one string, for sorting, keys and full-text search.
    pub fn plain(&self) -> String {
        match self {
            Item::Text(s) | Item::RichText(s) => s.clone(),
            Item::TextList(v) | Item::Readers(v) | Item::Authors(v) => v.join(", "),
            Item::Number(n) => number(*n).to_string(),
            Item::NumberList(v) => v
                .iter()
                .map(|n| number(*n).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Item::DateTime(d) => iso(*d),
            Item::DateTimeList(v) => v.iter().map(|d| iso(*d)).collect::<Vec<_>>().join(", "),
        }
    }

    pub fn as_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            Item::DateTime(d) => Some(*d),
            Item::DateTimeList(v) => v.first().copied(),
            Item::Text(s) => parse_iso(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Item::Number(n) => Some(*n),
            Item::NumberList(v) => v.first().copied(),
            Item::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Vec<String> {
        match self {
            Item::TextList(v) | Item::Readers(v) | Item::Authors(v) => v.clone(),
            Item::Text(s) if s.is_empty() => Vec::new(),
            other => vec![other.plain()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_read_from_json_keep_their_notes_type() {
        let d = Item::from_json(&json!({"type":"datetime","data":"2024-05-01T00:00:00Z"}));
        assert!(matches!(d, Ok(Item::DateTime(_))));
        assert_eq!(
            Item::from_json(&json!(["a", "b"])),
            Ok(Item::TextList(vec!["a".into(), "b".into()]))
        );
        let html = json!({"type":"richtext","contentType":"text/html","data":"<p>a &amp; b</p>"});
        assert_eq!(Item::from_json(&html), Ok(Item::RichText("a & b".into())));
        assert!(Item::from_json(&json!([1, "x"])).is_err());
        let quoted = json!({"type":"richtext","contentType":"text/html","data":"<p>&quot;x&quot; &lt;y&gt;</p>"});
        assert_eq!(
            Item::from_json(&quoted),
            Ok(Item::RichText("\"x\" <y>".into()))
        );
        assert_eq!(Item::Number(3.0).render(ItemFormat::default()), json!(3));
    }

    #[test]
    fn rich_text_is_rendered_as_escaped_html_with_line_breaks() {
        let rich = Item::RichText("a<b> & \"c\"\nd".into());
        assert_eq!(
            rich.render(ItemFormat {
                strongtype: false,
                multipart: false
            })["data"],
            json!("a&lt;b&gt; &amp; \"c\"<br>d")
        );
    }
}
