//! Content, not versions: how the engine compares and fingerprints field sets. Systems spell
//! "no value" differently — kintone answers `""` or `[]` for an empty field, Zoho `null` once it
//! has cleared it — so every blank is one content, and a blank read back is the blank written.

use connector_sdk::Fields;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A stable hash of fields (keys sorted by the JSON map), so equal content ⇒ equal print.
/// Blanks hash alike (see [`same_value`]).
pub fn fingerprint(fields: &Fields) -> String {
    let canonical: Fields = fields
        .iter()
        .map(|(k, v)| (k.clone(), if is_blank(v) { Value::Null } else { v.clone() }))
        .collect();
    let canonical = serde_json::to_string(&canonical).unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// `null`, `""` and `[]`.
pub fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Two values are the same content: equal, or both blank (a missing field is blank).
pub fn same_value(a: Option<&Value>, b: Option<&Value>) -> bool {
    let blank = |v: Option<&Value>| v.is_none_or(is_blank);
    a == b || (blank(a) && blank(b))
}

/// Two field sets hold the same content, field by field as [`same_value`] compares.
pub fn same_content(a: &Fields, b: &Fields) -> bool {
    a.keys()
        .chain(b.keys())
        .all(|k| same_value(a.get(k), b.get(k)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn blanks_are_one_content_and_one_print() {
        let a = fields(json!({"x": "", "y": [], "z": 1}));
        let b = fields(json!({"x": null, "z": 1}));
        assert!(same_content(&a, &b));
        let b_full = fields(json!({"x": null, "y": null, "z": 1}));
        assert_eq!(fingerprint(&a), fingerprint(&b_full));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&fields(json!({"x": "", "y": [], "z": 2})))
        );
    }
}
