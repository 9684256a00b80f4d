//! Single documents of the Data service (reference §2.1, §2.3): fetching one with its `$`
//! items and typed dates, and turning it into a record of a view's object.

use chrono::{DateTime, Utc};
use connector_sdk::{ConnectorError, Record};
use serde_json::{Map, Value};

use crate::http::Api;
use crate::objects::DocObject;
use crate::privacy;
use crate::values::{from_item, item, parse_time};

/// `api/data/documents/unid/{unid}` as path segments.
pub fn path(unid: &str) -> [&str; 5] {
    ["api", "data", "documents", "unid", unid]
}

/// The document with every item (`$` ones too, for the privacy check) and typed dates, or
/// `None` when it does not exist (or this user may not read it).
pub fn fetch(api: &Api, unid: &str) -> Result<Option<Map<String, Value>>, ConnectorError> {
    let query = [
        ("hidden", "true".to_string()),
        ("strongtype", "true".to_string()),
        ("markread", "false".to_string()),
    ];
    let answer = api.get(&path(unid), &query)?;
    if answer.status == 404 {
        return Ok(None);
    }
    let answer = answer.ok(&format!("reading document {unid}"))?;
    Ok(answer.body.as_object().cloned())
}

/// Only the document's form (a small answer), or `None` when it is gone.
pub fn form_of(api: &Api, unid: &str) -> Result<Option<String>, ConnectorError> {
    let query = [
        ("fields", "Form".to_string()),
        ("markread", "false".to_string()),
    ];
    let answer = api.get(&path(unid), &query)?;
    if answer.status == 404 {
        return Ok(None);
    }
    let body = answer.ok(&format!("reading document {unid}"))?.body;
    Ok(body
        .get("@form")
        .or_else(|| body.get("Form"))
        .map(crate::values::text_of))
}

pub fn unid(doc: &Map<String, Value>) -> Option<String> {
    doc.get("@unid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn modified(doc: &Map<String, Value>) -> Option<DateTime<Utc>> {
    doc.get("@modified")
        .map(crate::values::text_of)
        .and_then(|s| parse_time(&s))
}

/// Whether the document is of the object's form (a view may show others).
pub fn is_of(obj: &DocObject, doc: &Map<String, Value>) -> bool {
    doc.get("@form")
        .or_else(|| item(doc, "Form"))
        .map(crate::values::text_of)
        .is_some_and(|f| f.eq_ignore_ascii_case(obj.form))
}

/// The record of a document: its UNID, `@modified` as version, the privacy flag, and the
/// object's fields (only `wanted` ones when the hub named them); empty items are `null`.
pub fn record(
    obj: &DocObject,
    doc: &Map<String, Value>,
    wanted: Option<&[String]>,
) -> Option<Record> {
    let id = unid(doc)?;
    let stamp = modified(doc).map(crate::values::iso);
    let mut fields = Map::new();
    for f in obj.fields {
        if wanted.is_some_and(|w| !w.iter().any(|x| x.eq_ignore_ascii_case(f.id))) {
            continue;
        }
        fields.insert(f.id.to_string(), from_item(item(doc, f.id), f.ty));
    }
    Some(Record {
        id,
        version: stamp.clone(),
        modified_at: stamp,
        private: privacy::document(doc),
        deleted: false,
        fields,
    })
}

/// The UNID at the end of a `Location` (`…/documents/unid/{UNID}`).
pub fn id_from_location(location: &str) -> Option<String> {
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    let id = id.split(['?', '#']).next()?;
    (!id.is_empty()).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_locations() {
        assert_eq!(
            id_from_location("http://h/mail/t.nsf/api/data/documents/unid/ABC123").as_deref(),
            Some("ABC123")
        );
        assert_eq!(id_from_location("").as_deref(), None);
    }
}
