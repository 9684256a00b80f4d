//! The content both sides should hold after a record changed on both: the flow's policy.

use connector_sdk::{Fields, Record};

use crate::content::same_value;
use crate::model::Policy;

fn modified(r: &Record) -> i64 {
    r.modified_at
        .as_deref()
        .and_then(|m| chrono::DateTime::parse_from_rfc3339(m).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MIN)
}

/// `a` and `b` are A's and B's record with their content in the shared space; `base` is the
/// content last synced (none for a pair met for the first time).
pub fn resolve(
    policy: Policy,
    a: (&Record, &Fields),
    b: (&Record, &Fields),
    base: Option<&Fields>,
) -> Fields {
    // Stamps with coarse resolution tie often: a tie goes to the source.
    let a_newer = modified(a.0) >= modified(b.0);
    let (a, b) = (a.1, b.1);
    match policy {
        Policy::SourceWins => a.clone(),
        Policy::TargetWins => b.clone(),
        Policy::NewestWins if a_newer => a.clone(),
        Policy::NewestWins => b.clone(),
        Policy::FieldMerge => {
            let mut out = Fields::new();
            for (k, av) in a {
                let bv = b.get(k).unwrap_or(&serde_json::Value::Null);
                let basev = base.and_then(|b| b.get(k));
                let unchanged =
                    |v: &serde_json::Value| base.is_some() && same_value(basev, Some(v));
                // The target's value only if the source did not change this field (it is still
                // the base) or both changed it and the target is newer; otherwise the source's.
                let source_unchanged = unchanged(av) && !same_value(Some(av), Some(bv));
                let both_changed = !unchanged(av) && !unchanged(bv);
                let v = if source_unchanged || (both_changed && !a_newer) {
                    bv
                } else {
                    av
                };
                out.insert(k.clone(), v.clone());
            }
            out
        }
    }
}
