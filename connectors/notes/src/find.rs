//! Finding a document by a match key (an upsert without a known id): a sorted column of the
//! view is looked up with `sortcolumn` + `keys` (§2.2); any other item with the view's
//! full-text `search`, each hit read and compared. Exact matches are preferred over the
//! server's own case-insensitive ones.

use connector_sdk::ConnectorError;
use serde_json::Value;

use crate::docs;
use crate::http::Api;
use crate::objects::DocObject;
use crate::values::{from_item, item, normalize, text_of};

/// The UNIDs of the object's documents whose `field` equals `value`.
pub fn find(
    api: &Api,
    obj: &DocObject,
    field: &str,
    value: &Value,
) -> Result<Vec<String>, ConnectorError> {
    let spec = obj
        .field(field)
        .ok_or_else(|| crate::errors::unknown_field(obj.id, field))?;
    let wanted = normalize(field, value, spec.ty);
    let wanted_text = text_of(&wanted);
    let column = obj
        .key_columns
        .iter()
        .find(|c| c.eq_ignore_ascii_case(spec.id));
    let query: Vec<(&str, String)> = match column {
        Some(c) => vec![
            ("sortcolumn", c.to_string()),
            ("keys", wanted_text.clone()),
            ("keysexactmatch", "true".to_string()),
            ("count", crate::assumed::MAX_COUNT.to_string()),
            ("entrycount", "false".to_string()),
        ],
        None => vec![
            ("search", format!("\"{}\"", wanted_text.replace('"', " "))),
            ("count", crate::assumed::MAX_COUNT.to_string()),
            ("entrycount", "false".to_string()),
        ],
    };
    let answer = api
        .get(&["api", "data", "collections", "name", obj.view], &query)?
        .ok(&format!("looking up {field} in view {}", obj.view))?;
    let unids: Vec<String> = answer
        .body
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.get("@unid").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut exact = Vec::new();
    let mut loose = Vec::new();
    for unid in unids {
        let Some(doc) = docs::fetch(api, &unid)? else {
            continue;
        };
        if !docs::is_of(obj, &doc) {
            continue;
        }
        let have = text_of(&from_item(item(&doc, spec.id), spec.ty));
        if have == wanted_text {
            exact.push(unid);
        } else if have.trim().to_lowercase() == wanted_text.trim().to_lowercase() {
            loose.push(unid);
        }
    }
    Ok(if exact.is_empty() { loose } else { exact })
}
