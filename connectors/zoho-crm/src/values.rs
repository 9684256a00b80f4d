//! Field values between Zoho's JSON and the SDK's: numbers as decimal strings, lookups as the
//! related id (with the name beside it in `Field.name`), and back again on write.

use connector_sdk::Fields;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

use crate::metadata::{is_lookup_type, FieldMeta, NAME_SUFFIX};

/// A Zoho record's fields for the SDK: `id` and `$`-meta keys left out.
pub fn from_zoho(record: &Map<String, Value>) -> Fields {
    let mut out = Fields::new();
    for (k, v) in record {
        if k == "id" || k.starts_with('$') {
            continue;
        }
        match v {
            Value::Number(n) => {
                out.insert(k.clone(), Value::String(n.to_string()));
            }
            Value::Object(o) if o.contains_key("id") => {
                let id = match o.get("id") {
                    Some(Value::Number(n)) => Value::String(n.to_string()),
                    Some(other) => other.clone(),
                    None => Value::Null,
                };
                out.insert(k.clone(), id);
                if let Some(name) = o.get("name") {
                    out.insert(format!("{k}{NAME_SUFFIX}"), name.clone());
                }
                // A user (Owner) comes with its email: user mappings may name users by it.
                if let Some(email) = o.get("email").filter(|e| e.is_string()) {
                    out.insert(format!("{k}{EMAIL_SUFFIX}"), email.clone());
                }
            }
            other => {
                out.insert(k.clone(), other.clone());
            }
        }
    }
    out
}

/// Suffix of the derived, read-only field beside a user reference with the user's email.
pub const EMAIL_SUFFIX: &str = ".email";

/// The SDK's fields as a Zoho record body, typed by the module's metadata. Derived `.name`
/// fields are dropped; fields the metadata does not know are sent unchanged (Zoho names them
/// in its answer if it refuses them).
pub fn to_zoho(fields: &Fields, meta: &[FieldMeta]) -> Map<String, Value> {
    let by_name: HashMap<&str, &FieldMeta> =
        meta.iter().map(|f| (f.api_name.as_str(), f)).collect();
    let mut out = Map::new();
    for (k, v) in fields {
        if let Some(base) = k
            .strip_suffix(NAME_SUFFIX)
            .or_else(|| k.strip_suffix(EMAIL_SUFFIX))
        {
            if by_name.get(base).is_some_and(|f| f.is_lookup()) {
                continue;
            }
        }
        let value = match by_name.get(k.as_str()) {
            Some(f) => convert(v, &f.data_type),
            None => v.clone(),
        };
        out.insert(k.clone(), value);
    }
    out
}

fn convert(v: &Value, data_type: &str) -> Value {
    match (data_type, v) {
        (_, Value::Null) => Value::Null,
        ("integer" | "bigint", Value::String(s)) if s.trim().is_empty() => Value::Null,
        ("integer" | "bigint", Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(|n| Value::Number(n.into()))
            .unwrap_or_else(|_| v.clone()),
        ("double" | "currency" | "decimal" | "percent", Value::String(s))
            if s.trim().is_empty() =>
        {
            Value::Null
        }
        ("double" | "currency" | "decimal" | "percent", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .unwrap_or_else(|| v.clone()),
        ("boolean", Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" | "" => Value::Bool(false),
            _ => v.clone(),
        },
        ("multiselectpicklist", Value::String(s)) => Value::Array(
            s.split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        (t, Value::String(s)) if is_lookup_type(t) => {
            if s.trim().is_empty() {
                Value::Null
            } else {
                serde_json::json!({ "id": s.trim() })
            }
        }
        (t, Value::Number(n)) if is_lookup_type(t) => serde_json::json!({ "id": n.to_string() }),
        _ => v.clone(),
    }
}

/// A value as text for search criteria and comparisons.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Object(o) => o.get("id").map(as_text).unwrap_or_default(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(name: &str, t: &str) -> FieldMeta {
        FieldMeta {
            api_name: name.into(),
            label: name.into(),
            data_type: t.into(),
            required: false,
            unique: false,
            read_only: false,
            options: vec![],
            lookup_module: None,
        }
    }

    #[test]
    fn lookups_flatten_and_numbers_become_strings() {
        let rec = json!({"id": "1", "$currency_symbol": "¥", "Annual_Revenue": 1200000,
                         "Account_Name": {"id": "55", "name": "株式会社サンプル"}});
        let f = from_zoho(rec.as_object().unwrap());
        assert_eq!(f["Annual_Revenue"], json!("1200000"));
        assert_eq!(f["Account_Name"], json!("55"));
        assert_eq!(f["Account_Name.name"], json!("株式会社サンプル"));
        let owned =
            json!({"id": "2", "Owner": {"id": "9", "name": "佐藤", "email": "sato@example.jp"}});
        let f = from_zoho(owned.as_object().unwrap());
        assert_eq!(
            (&f["Owner"], &f["Owner.email"]),
            (&json!("9"), &json!("sato@example.jp"))
        );
        assert!(!f.contains_key("id") && !f.contains_key("$currency_symbol"));
    }

    #[test]
    fn writes_are_typed_by_metadata() {
        let m = vec![
            meta("Annual_Revenue", "currency"),
            meta("Employees", "integer"),
            meta("Account_Name", "lookup"),
            meta("Email_Opt_Out", "boolean"),
        ];
        let fields = json!({"Annual_Revenue": "1200.5", "Employees": "12", "Account_Name": "55",
                            "Account_Name.name": "x", "Email_Opt_Out": "true", "Custom": "y"});
        let z = to_zoho(fields.as_object().unwrap(), &m);
        assert_eq!(z["Annual_Revenue"], json!(1200.5));
        assert_eq!(z["Employees"], json!(12));
        assert_eq!(z["Account_Name"], json!({"id": "55"}));
        assert_eq!(z["Email_Opt_Out"], json!(true));
        assert_eq!(z["Custom"], json!("y"));
        assert!(!z.contains_key("Account_Name.name"));
    }
}
