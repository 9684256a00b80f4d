//! kintone's answers to write calls as per-op results: what was created or updated (with the
//! new id and revision), and which record a refused call was refused for.

use connector_sdk::{ConnectorError, ErrorKind, WriteOp, WriteOutcome, WriteRequest, WriteResult};
use serde_json::Value;
use std::collections::BTreeMap;

use super::plan::{Kind, Planned};
use crate::errors::{error_entries, request_index, ApiError};

pub fn error_result(op_id: &str, id: Option<String>, e: ConnectorError) -> WriteResult {
    WriteResult {
        op_id: op_id.to_string(),
        outcome: if e.kind == ErrorKind::Conflict {
            WriteOutcome::Conflict
        } else {
            WriteOutcome::Error
        },
        id,
        version: None,
        modified_at: None,
        error: Some(e),
    }
}

/// The result of an op kintone refused. Deleting a record that is already gone is done.
pub fn failure_result(op: &WriteOp, p: &Planned, e: &ConnectorError) -> WriteResult {
    if p.kind == Kind::Delete && e.kind == ErrorKind::NotFound {
        return WriteResult {
            op_id: op.op_id.clone(),
            outcome: WriteOutcome::Deleted,
            id: p.id.clone(),
            version: None,
            modified_at: None,
            error: None,
        };
    }
    error_result(&op.op_id, p.id.clone(), e.clone())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Results of a call that succeeded: `{ids, revisions}` for POST, `{records:[{id, revision,
/// operation}]}` for PUT, `{}` for DELETE. Answers (op index, result).
pub fn success_results(
    req: &WriteRequest,
    planned: &[Planned],
    items: &[usize],
    kind: Kind,
    body: &Value,
) -> Vec<(usize, WriteResult)> {
    items
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let pl = &planned[p];
            let op = &req.ops[pl.op];
            let (outcome, id, version) = match kind {
                Kind::Create => (
                    WriteOutcome::Created,
                    text(body.get("ids").and_then(|a| a.get(i))),
                    text(body.get("revisions").and_then(|a| a.get(i))),
                ),
                Kind::Update | Kind::Upsert => {
                    let r = body.get("records").and_then(|a| a.get(i));
                    let inserted = r.and_then(|r| r.get("operation")).and_then(Value::as_str)
                        == Some("INSERT");
                    (
                        if inserted {
                            WriteOutcome::Created
                        } else {
                            WriteOutcome::Updated
                        },
                        text(r.and_then(|r| r.get("id"))).or_else(|| pl.id.clone()),
                        text(r.and_then(|r| r.get("revision"))),
                    )
                }
                Kind::Delete => (WriteOutcome::Deleted, pl.id.clone(), None),
            };
            (
                pl.op,
                WriteResult {
                    op_id: op.op_id.clone(),
                    outcome,
                    id,
                    version,
                    modified_at: None,
                    error: None,
                },
            )
        })
        .collect()
}

/// The records of a refused call that kintone blamed, by planned index, each with its own
/// error (field and kintone's message). Empty when kintone did not say.
pub fn culprits(
    error: &ApiError,
    app: &str,
    planned: &[Planned],
    items: &[usize],
) -> BTreeMap<usize, ConnectorError> {
    let mut out = BTreeMap::new();
    let ApiError::Kintone {
        errors, message, ..
    } = error
    else {
        return out;
    };
    let base = error.to_connector(Some(app));
    for (index, field, said) in error_entries(errors) {
        let Some(&p) = index.and_then(|i| items.get(i)) else {
            continue;
        };
        let mut e = base.clone();
        if let Some(f) = field {
            e.message = format!("field {f}: {said}");
            e.message_ja = Some(format!("フィールド「{f}」: {said}"));
            e.field = Some(f);
        }
        out.insert(p, e);
    }
    if out.is_empty() && items.len() == 1 {
        out.insert(items[0], base.clone());
    }
    if out.is_empty() {
        // kintone names the record in some messages: "(id: 12)", "(会社名: 株式会社X)".
        for &p in items {
            if names(message, &planned[p]) {
                out.insert(p, base.clone());
            }
        }
    }
    out
}

fn names(message: &str, p: &Planned) -> bool {
    let mut needles: Vec<String> = Vec::new();
    if let Some(id) = &p.id {
        needles.extend(["id: ", "id:", "ID: ", "ID:", "id："].map(|pre| format!("{pre}{id}")));
    }
    if let Some(k) = p.entry.get("updateKey") {
        let field = k.get("field").and_then(Value::as_str).unwrap_or_default();
        if let Some(v) = text(k.get("value")) {
            needles.extend([format!("{field}: {v}"), format!("{field}：{v}")]);
        }
    }
    needles.iter().any(|n| mentions(message, n))
}

/// `needle` occurs in `hay` not followed by a letter or digit ("id: 1" is not in "id: 12").
fn mentions(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| {
        !hay[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
    })
}

/// Which entry of a bulkRequest a top-level error names (`requests[1]…`).
pub fn bulk_index(error: &ApiError) -> Option<usize> {
    match error {
        ApiError::Kintone { errors, .. } => request_index(errors),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(op: usize, id: Option<&str>) -> Planned {
        Planned {
            op,
            kind: Kind::Update,
            entry: json!({}),
            id: id.map(str::to_string),
        }
    }

    #[test]
    fn culprit_from_error_key_or_message() {
        let planned = vec![p(0, Some("1")), p(1, Some("12")), p(2, Some("13"))];
        let e = ApiError::kintone(
            400,
            None,
            json!({"code":"CB_VA01","message":"x","errors":{"records[1].会社名.value":{"messages":["必須です。"]}}}),
        );
        let found = culprits(&e, "1", &planned, &[0, 1, 2]);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert_eq!(found[&1].field.as_deref(), Some("会社名"));

        let e = ApiError::kintone(
            409,
            None,
            json!({"code":"GAIA_CO02","message":"リビジョンが一致しません。(id: 12)"}),
        );
        let found = culprits(&e, "1", &planned, &[0, 1, 2]);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![1]);
        assert_eq!(found[&1].kind, ErrorKind::Conflict);

        let e = ApiError::kintone(400, None, json!({"code":"GAIA_RE20","message":"none"}));
        assert!(culprits(&e, "1", &planned, &[0, 1]).is_empty());
        let mut keyed = planned.clone();
        keyed[0].entry = json!({"updateKey": {"field": "会社名", "value": "株式会社X"}});
        keyed[1].entry = json!({"updateKey": {"field": "会社名", "value": "株式会社XY"}});
        let e = ApiError::kintone(
            400,
            None,
            json!({"code":"GAIA_RE20","message":"updateKeyに指定した値（会社名: 株式会社X）のレコードが見つかりません。"}),
        );
        let found = culprits(&e, "1", &keyed, &[1, 0]);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![0]);
        assert_eq!(found[&0].kind, ErrorKind::NotFound);
        assert_eq!(culprits(&e, "1", &planned, &[2]).len(), 1);
    }
}
