//! Which entries are private and must never leave Notes (reference §7): "Mark Private"
//! (`OrgConfidential = "1"`), a non-public calendar class, or any Readers item. The document
//! must be read with `hidden=true`, or its `$` items are not seen.

use serde_json::{Map, Value};

use crate::assumed;
use crate::values::{item, text_of};

fn is_one(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(is_one),
        other => text_of(other).trim() == "1",
    }
}

fn holds_a_name(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(holds_a_name),
        other => !text_of(other).trim().is_empty(),
    }
}

/// A document is private when marked so or restricted by a Readers item.
pub fn document(doc: &Map<String, Value>) -> bool {
    if item(doc, assumed::ORG_CONFIDENTIAL).is_some_and(is_one) {
        return true;
    }
    doc.iter().any(|(k, v)| {
        !k.starts_with('@')
            && k.to_ascii_lowercase().ends_with(assumed::READERS_SUFFIX)
            && holds_a_name(v)
    })
}

/// A calendar event is private unless its class is `public` (absent means public).
pub fn event_class(ev: &Map<String, Value>) -> bool {
    ev.get("class")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.trim().eq_ignore_ascii_case("public"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_marker_makes_an_entry_private() {
        assert!(document(&m(json!({"OrgConfidential": "1"}))));
        assert!(document(&m(json!({"$Readers": ["CN=A/O=B"]}))));
        assert!(document(&m(json!({"DocReaders": "[HR]"}))));
        assert!(!document(&m(
            json!({"$Readers": [""], "OrgConfidential": ""})
        )));
        assert!(!document(&m(
            json!({"LastName": "山田", "$PublicAccess": "1"})
        )));
        assert!(event_class(&m(json!({"class": "confidential"}))));
        assert!(!event_class(&m(json!({"class": "public"}))));
        assert!(!event_class(&m(json!({}))));
    }
}
