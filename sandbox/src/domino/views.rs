//! Views and their entries (reference §2.2): selection, sorting, keys, paging, `Content-Range`
//! and the `systemcolumns` mask.

use super::http::{iso, new_unid, DasError};
use super::model::{Database, Document, Item, User};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Column {
    /// Programmatic name: the key of the value in each entry.
    pub name: String,
    pub title: String,
    /// The item the column shows.
    pub item: String,
    /// Only sortable columns may be named in `sortcolumn` (§2.2).
    pub sortable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViewDef {
    pub name: String,
    pub unid: String,
    pub folder: bool,
    pub private: bool,
    /// *Allow Domino Data Service operations* (§4).
    pub das_enabled: bool,
    /// Selection formula, reduced to `SELECT Form = "…"`.
    pub form: String,
    pub columns: Vec<Column>,
    pub modified: DateTime<Utc>,
}

impl ViewDef {
    pub fn new(name: &str, form: &str, columns: Vec<Column>, at: DateTime<Utc>) -> Self {
        ViewDef {
            name: name.to_string(),
            unid: new_unid(),
            folder: false,
            private: false,
            das_enabled: true,
            form: form.to_string(),
            columns,
            modified: at,
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// One range of entries: `start` (0-based) and `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub start: usize,
    pub count: usize,
}

fn int_param(q: &HashMap<String, String>, name: &str) -> Result<Option<usize>, DasError> {
    match q.get(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map(Some)
            .map_err(|_| DasError::invalid_param(name, v)),
    }
}

/// `Range: items=a-b`.
fn parse_range(h: &str) -> Option<Paging> {
    let rest = h.trim().strip_prefix("items=")?;
    let (a, b) = rest.split_once('-')?;
    let a: usize = a.trim().parse().ok()?;
    let b: usize = b.trim().parse().ok()?;
    (b >= a).then_some(Paging {
        start: a,
        count: b - a + 1,
    })
}

/// start/count (default 0/10), or ps/page/si, overridden by a `Range` header; a count above
/// `max` is refused with DAS's own message.
pub fn paging(
    q: &HashMap<String, String>,
    range: Option<&str>,
    max: usize,
) -> Result<Paging, DasError> {
    let p = if let Some(p) = range.and_then(parse_range) {
        p
    } else if let Some(ps) = int_param(q, "ps")? {
        let page = int_param(q, "page")?.unwrap_or(0);
        let si = int_param(q, "si")?.unwrap_or(0);
        Paging {
            start: page.saturating_mul(ps).saturating_add(si),
            count: ps,
        }
    } else {
        Paging {
            start: int_param(q, "start")?.unwrap_or(0),
            count: int_param(q, "count")?.unwrap_or(10),
        }
    };
    if p.count > max {
        return Err(DasError::bad_request(format!(
            "Limit exceeded.  Cannot read more than {max} entries."
        )));
    }
    Ok(p)
}

/// `items {start}-{last}/{total}`; `None` when the view is empty, the start is past the end,
/// or nothing was asked for.
pub fn content_range(p: Paging, total: usize) -> Option<String> {
    if total == 0 || p.start >= total || p.count == 0 {
        return None;
    }
    let last = (p.start + p.count - 1).min(total - 1);
    Some(format!("items {}-{}/{}", p.start, last, total))
}

/// `systemcolumns`, hex (`0x…`) or decimal.
pub fn system_columns(q: &HashMap<String, String>) -> Result<u32, DasError> {
    match q.get("systemcolumns") {
        None => Ok(super::assumed::DEFAULT_SYSTEM_COLUMNS),
        Some(v) => {
            let t = v.trim();
            let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u32::from_str_radix(h, 16),
                None => t.parse::<u32>(),
            };
            parsed.map_err(|_| DasError::invalid_param("systemcolumns", v))
        }
    }
}

#[derive(Debug, PartialEq, PartialOrd)]
enum SortKey {
    Missing,
    Num(f64),
    Time(DateTime<Utc>),
    Text(String),
}

fn sort_key(item: Option<&Item>) -> SortKey {
    match item {
        None => SortKey::Missing,
        Some(Item::Number(n)) => SortKey::Num(*n),
        Some(Item::DateTime(d)) => SortKey::Time(*d),
        Some(i) if i.plain().is_empty() => SortKey::Missing,
        Some(i) => SortKey::Text(i.plain().to_lowercase()),
    }
}

fn compare(a: &SortKey, b: &SortKey) -> Ordering {
    a.partial_cmp(b).unwrap_or(Ordering::Equal)
}

/// What a view request asked for besides paging.
#[derive(Debug, Default)]
pub struct Selection {
    pub sortcolumn: Option<String>,
    pub descending: bool,
    pub keys: Option<String>,
    pub keys_exact: bool,
    pub startkeys: Option<String>,
    pub search: Option<String>,
}

impl Selection {
    pub fn from_query(q: &HashMap<String, String>) -> Self {
        let flag = |n: &str| q.get(n).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        Selection {
            sortcolumn: q.get("sortcolumn").cloned(),
            descending: q
                .get("sortorder")
                .is_some_and(|v| v.eq_ignore_ascii_case("descending")),
            keys: q.get("keys").cloned(),
            keys_exact: flag("keysexactmatch"),
            startkeys: q.get("startkeys").cloned(),
            search: q.get("search").filter(|s| !s.is_empty()).cloned(),
        }
    }
}

/// Whether any item of the document contains the query (a stand-in for full-text search).
pub fn matches_search(doc: &Document, query: &str) -> bool {
    let q = query.trim_matches('"').to_lowercase();
    doc.items
        .iter()
        .filter(|(k, _)| !k.starts_with('$'))
        .any(|(_, v)| v.plain().to_lowercase().contains(&q))
}

/// The view's documents as `user` sees them, in view order.
pub fn select<'a>(
    db: &'a Database,
    view: &ViewDef,
    user: &User,
    sel: &Selection,
) -> Vec<&'a Document> {
    let mut docs: Vec<&Document> = db
        .docs
        .values()
        .filter(|d| d.form().is_some_and(|f| f.eq_ignore_ascii_case(&view.form)))
        .filter(|d| d.readable_by(user))
        .collect();
    // A sort column that is not sortable by design is ignored (§2.2).
    let by = sel
        .sortcolumn
        .as_deref()
        .and_then(|c| view.column(c))
        .filter(|c| c.sortable);
    let order: Vec<&Column> = match by {
        Some(c) => vec![c],
        None => view.columns.iter().filter(|c| c.sortable).collect(),
    };
    docs.sort_by(|a, b| {
        for c in &order {
            let o = compare(&sort_key(a.get(&c.item)), &sort_key(b.get(&c.item)));
            if o != Ordering::Equal {
                return o;
            }
        }
        a.noteid.cmp(&b.noteid)
    });
    if by.is_some() && sel.descending {
        docs.reverse();
    }
    let key_item = order.first().map(|c| c.item.clone());
    if let (Some(keys), Some(item)) = (&sel.keys, &key_item) {
        let k = keys.to_lowercase();
        docs.retain(|d| {
            let v = d.text(item).unwrap_or_default().to_lowercase();
            if sel.keys_exact {
                v == k
            } else {
                v.starts_with(&k)
            }
        });
    }
    if let (Some(start), Some(item)) = (&sel.startkeys, &key_item) {
        let k = start.to_lowercase();
        let from = docs
            .iter()
            .position(|d| {
                let v = d.text(item).unwrap_or_default().to_lowercase();
                if sel.descending {
                    v <= k
                } else {
                    v >= k
                }
            })
            .unwrap_or(docs.len());
        docs.drain(..from);
    }
    if let Some(q) = &sel.search {
        docs.retain(|d| matches_search(d, q));
    }
    docs
}

/// One view entry with the system columns of `mask` and the view's column values.
pub fn entry(
    db_href: &str,
    view: &ViewDef,
    doc: &Document,
    position: usize,
    siblings: usize,
    mask: u32,
) -> Value {
    let mut m = Map::new();
    let bit = |b: u32| mask & b != 0;
    if bit(0x800) {
        m.insert(
            "@href".into(),
            json!(format!(
                "{db_href}/api/data/collections/name/{}/unid/{}",
                view.name, doc.unid
            )),
        );
        m.insert(
            "@link".into(),
            json!({"rel": "document", "href": format!("{db_href}/api/data/documents/unid/{}", doc.unid)}),
        );
    }
    if bit(0x4) {
        m.insert("@entryid".into(), json!(format!("{position}-{}", doc.unid)));
        m.insert("@position".into(), json!(position.to_string()));
    }
    if bit(0x2) {
        m.insert("@unid".into(), json!(doc.unid));
    }
    if bit(0x1) {
        m.insert("@noteid".into(), json!(format!("{:X}", doc.noteid)));
    }
    if bit(0x8) {
        m.insert("@read".into(), json!(true));
    }
    if bit(0x10) {
        m.insert("@siblings".into(), json!(siblings));
    }
    if bit(0x20) {
        m.insert("@descendants".into(), json!(0));
    }
    if bit(0x40) {
        m.insert("@children".into(), json!(0));
    }
    if bit(0x80) {
        m.insert("@indent".into(), json!(0));
    }
    if bit(0x100) {
        m.insert("@form".into(), json!(doc.form().unwrap_or_default()));
    }
    if bit(0x200) {
        m.insert("@category".into(), json!(false));
    }
    if bit(0x400) {
        m.insert("@response".into(), json!(doc.parent.is_some()));
    }
    for c in &view.columns {
        let v = match doc.get(&c.item) {
            Some(Item::RichText(s)) => json!(s),
            Some(i) => i.render(Default::default()),
            None => json!(""),
        };
        m.insert(c.name.clone(), v);
    }
    Value::Object(m)
}

/// `GET …/collections`: views and folders.
pub fn collection_info(db_href: &str, v: &ViewDef) -> Value {
    json!({
        "@title": v.name,
        "@folder": v.folder,
        "@private": v.private,
        "@modified": iso(v.modified),
        "@unid": v.unid,
        "@href": format!("{db_href}/api/data/collections/unid/{}", v.unid),
    })
}

/// `GET …/collections/name/{view}/design`.
pub fn design(v: &ViewDef) -> Value {
    Value::Array(
        v.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                json!({
                    "@columnnumber": i,
                    "@name": c.name,
                    "@title": c.title,
                    "@width": 10,
                    "@alignment": 0,
                    "@headeralignment": 0,
                    "@hidden": false,
                    "@response": false,
                    "@twistie": false,
                    "@field": true,
                    "@category": false,
                    "@sortcategorize": false,
                    "@sorted": c.sortable,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn paging_follows_start_count_ps_page_and_range() {
        assert_eq!(
            paging(&q(&[]), None, 100).ok(),
            Some(Paging {
                start: 0,
                count: 10
            })
        );
        assert_eq!(
            paging(&q(&[("ps", "5"), ("page", "2"), ("si", "1")]), None, 100).ok(),
            Some(Paging {
                start: 11,
                count: 5
            })
        );
        assert_eq!(
            paging(&q(&[("start", "3")]), Some("items=0-24"), 100).ok(),
            Some(Paging {
                start: 0,
                count: 25
            })
        );
        assert!(paging(&q(&[("count", "101")]), None, 100).is_err());
        assert!(paging(&q(&[("count", "x")]), None, 100).is_err());
    }

    #[test]
    fn content_range_is_omitted_past_the_end() {
        let p = |start, count| Paging { start, count };
        assert_eq!(content_range(p(0, 10), 25).as_deref(), Some("items 0-9/25"));
        assert_eq!(
            content_range(p(20, 10), 25).as_deref(),
            Some("items 20-24/25")
        );
        assert_eq!(content_range(p(25, 10), 25), None);
        assert_eq!(content_range(p(0, 10), 0), None);
    }

    #[test]
    fn systemcolumns_accepts_hex_and_decimal() {
        assert_eq!(
            system_columns(&q(&[("systemcolumns", "0x802")])).ok(),
            Some(0x802)
        );
        assert_eq!(system_columns(&q(&[("systemcolumns", "2")])).ok(), Some(2));
        assert!(system_columns(&q(&[("systemcolumns", "zz")])).is_err());
    }
}
