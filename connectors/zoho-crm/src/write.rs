//! Writes, at most 100 records per API call: known id → PUT update; match key → POST upsert
//! with `duplicate_check_fields`; create → POST insert; update-only by match key → search, then
//! PUT (or a per-op `not_found`); delete → DELETE `?ids=`. One result per op, in order.

use connector_sdk::{
    ConnectorError, ErrorKind, Fields, WriteAction, WriteOp, WriteOutcome, WriteRequest,
    WriteResult,
};
use reqwest::Method;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use crate::errors::{many_matches, no_match, record_error};
use crate::http::{Answer, Api};
use crate::manifest::WRITE_BATCH_SIZE;
use crate::metadata::{FieldCache, FieldMeta};
use crate::values::{as_text, to_zoho};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Insert,
    Upsert,
    Update,
    Delete,
}

pub fn write(
    api: &Api,
    cache: &FieldCache,
    req: &WriteRequest,
) -> Result<Vec<WriteResult>, ConnectorError> {
    let module = req.object.as_str();
    let meta = if req.ops.iter().any(|o| o.action != WriteAction::Delete) {
        cache.fields(api, module)?.to_vec()
    } else {
        Vec::new()
    };
    let mut w = Writer {
        api,
        module,
        meta,
        ops: &req.ops,
        results: vec![None; req.ops.len()],
        wrote_any: false,
    };

    let mut inserts = Vec::new();
    let mut upserts: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut updates: Vec<(usize, String)> = Vec::new();
    let mut deletes: Vec<(usize, String)> = Vec::new();
    let mut to_find: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, op) in req.ops.iter().enumerate() {
        let id = op.id.clone().filter(|s| !s.is_empty());
        let key = op
            .match_key
            .as_ref()
            .filter(|k| !as_text(&k.value).is_empty());
        match (op.action, id, key) {
            (WriteAction::Create, _, _) => inserts.push(i),
            (WriteAction::Delete, Some(id), _) => deletes.push((i, id)),
            (WriteAction::Upsert | WriteAction::Update, Some(id), _) => updates.push((i, id)),
            (WriteAction::Upsert, None, Some(k)) => {
                upserts.entry(k.field.clone()).or_default().push(i)
            }
            (WriteAction::Upsert, None, None) => inserts.push(i),
            (WriteAction::Update | WriteAction::Delete, None, Some(k)) => to_find
                .entry((k.field.clone(), as_text(&k.value)))
                .or_default()
                .push(i),
            (WriteAction::Update | WriteAction::Delete, None, None) => {
                w.set_error(
                    i,
                    ConnectorError::new(
                        ErrorKind::InvalidData,
                        "neither an id nor a match key: nothing says which record to change",
                    )
                    .with_ja("更新・削除するレコードを特定できません(ID も照合キーもありません)"),
                );
            }
        }
    }

    for ((field, value), idxs) in to_find {
        match w.guard(&idxs, |api| find(api, module, &field, &value))? {
            None => {}
            Some(ids) if ids.len() == 1 => {
                for &i in &idxs {
                    let target = (i, ids[0].clone());
                    match req.ops[i].action {
                        WriteAction::Delete => deletes.push(target),
                        _ => updates.push(target),
                    }
                }
            }
            Some(ids) => {
                for &i in &idxs {
                    let e = if ids.is_empty() {
                        no_match(&field, &value)
                    } else {
                        many_matches(&field, &value, ids.len())
                    };
                    w.set_error(i, e);
                }
            }
        }
    }
    updates.sort();
    deletes.sort();

    for chunk in inserts.chunks(WRITE_BATCH_SIZE as usize) {
        let body =
            json!({ "data": chunk.iter().map(|&i| w.body(i, None, None)).collect::<Vec<_>>() });
        w.send(chunk, Call::Insert, Method::POST, module, &[], Some(&body))?;
    }
    for (field, idxs) in &upserts {
        for chunk in idxs.chunks(WRITE_BATCH_SIZE as usize) {
            let data: Vec<Value> = chunk
                .iter()
                .map(|&i| w.body(i, None, Some(field)))
                .collect();
            let body = json!({ "data": data, "duplicate_check_fields": [field] });
            w.send(
                chunk,
                Call::Upsert,
                Method::POST,
                &format!("{module}/upsert"),
                &[],
                Some(&body),
            )?;
        }
    }
    for chunk in updates.chunks(WRITE_BATCH_SIZE as usize) {
        let idxs: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
        let data: Vec<Value> = chunk
            .iter()
            .map(|(i, id)| w.body(*i, Some(id), None))
            .collect();
        w.send(
            &idxs,
            Call::Update,
            Method::PUT,
            module,
            &[],
            Some(&json!({ "data": data })),
        )?;
    }
    for chunk in deletes.chunks(WRITE_BATCH_SIZE as usize) {
        let idxs: Vec<usize> = chunk.iter().map(|(i, _)| *i).collect();
        let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
        w.send(
            &idxs,
            Call::Delete,
            Method::DELETE,
            module,
            &[("ids", ids.join(","))],
            None,
        )?;
        for (i, id) in chunk {
            if let Some(r) = w.results[*i].as_mut() {
                r.id.get_or_insert_with(|| id.clone());
            }
        }
    }

    Ok(w.finish())
}

struct Writer<'a> {
    api: &'a Api<'a>,
    module: &'a str,
    meta: Vec<FieldMeta>,
    ops: &'a [WriteOp],
    results: Vec<Option<WriteResult>>,
    wrote_any: bool,
}

impl Writer<'_> {
    fn set_error(&mut self, i: usize, e: ConnectorError) {
        self.results[i] = Some(WriteResult {
            op_id: self.ops[i].op_id.clone(),
            outcome: WriteOutcome::Error,
            id: self.ops[i].id.clone(),
            version: None,
            modified_at: None,
            error: Some(e),
        });
    }

    /// A whole-call failure fails the whole write while nothing is written yet (the hub then
    /// retries or refreshes); after a write it becomes these ops' error, so what was written
    /// is still reported.
    fn guard<T>(
        &mut self,
        idxs: &[usize],
        f: impl FnOnce(&Api) -> Result<T, ConnectorError>,
    ) -> Result<Option<T>, ConnectorError> {
        match f(self.api) {
            Ok(v) => Ok(Some(v)),
            Err(e) if !self.wrote_any => Err(e),
            Err(e) => {
                for &i in idxs {
                    self.set_error(i, e.clone());
                }
                Ok(None)
            }
        }
    }

    fn body(&self, i: usize, id: Option<&str>, match_field: Option<&str>) -> Value {
        let op = &self.ops[i];
        let mut fields: Fields = op.fields.clone();
        if let (Some(f), Some(k)) = (match_field, op.match_key.as_ref()) {
            fields
                .entry(f.to_string())
                .or_insert_with(|| k.value.clone());
        }
        let mut rec: Map<String, Value> = to_zoho(&fields, &self.meta);
        if let Some(id) = id {
            rec.insert("id".into(), Value::String(id.to_string()));
        }
        Value::Object(rec)
    }

    fn send(
        &mut self,
        idxs: &[usize],
        call: Call,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(), ConnectorError> {
        let Some(answer) = self.guard(idxs, |api| api.send_json(method, path, query, body))? else {
            return Ok(());
        };
        self.wrote_any = true;
        self.take(idxs, call, &answer);
        Ok(())
    }

    /// `data[]` holds one entry per input, in order.
    fn take(&mut self, idxs: &[usize], call: Call, answer: &Answer) {
        let empty = Vec::new();
        let data = answer
            .body
            .get("data")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        for (k, &i) in idxs.iter().enumerate() {
            let Some(entry) = data.get(k) else { continue };
            let ok = entry.get("status").and_then(Value::as_str) == Some("success")
                || entry.get("code").and_then(Value::as_str) == Some("SUCCESS");
            if !ok {
                self.set_error(i, record_error(entry));
                continue;
            }
            let outcome = match call {
                Call::Insert => WriteOutcome::Created,
                Call::Update => WriteOutcome::Updated,
                Call::Delete => WriteOutcome::Deleted,
                Call::Upsert => match entry.get("action").and_then(Value::as_str) {
                    Some("insert") => WriteOutcome::Created,
                    _ => WriteOutcome::Updated,
                },
            };
            let details = entry.get("details");
            let detail = |k: &str| {
                details
                    .and_then(|d| d.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let stamp = detail("Modified_Time");
            self.results[i] = Some(WriteResult {
                op_id: self.ops[i].op_id.clone(),
                outcome,
                id: detail("id").or_else(|| self.ops[i].id.clone()),
                // See `assumed::record_version`: a write's answer carries no content to version.
                version: None,
                modified_at: stamp,
                error: None,
            });
        }
    }

    fn finish(self) -> Vec<WriteResult> {
        let module = self.module;
        self.results
            .into_iter()
            .zip(self.ops)
            .map(|(r, op)| {
                r.unwrap_or_else(|| WriteResult {
                    op_id: op.op_id.clone(),
                    outcome: WriteOutcome::Error,
                    id: op.id.clone(),
                    version: None,
                    modified_at: None,
                    error: Some(
                        ConnectorError::new(
                            ErrorKind::Internal,
                            format!("Zoho CRM gave no result for this record of {module}"),
                        )
                        .with_code("no_result")
                        .with_ja("Zoho CRM からこのレコードの結果が返りませんでした"),
                    ),
                })
            })
            .collect()
    }
}

/// Escapes what the criteria syntax reserves (reference §5).
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '(' | ')' | ',') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The ids of the records whose `field` equals `value` (exact matches preferred over the
/// search's own, case-insensitive ones).
fn find(api: &Api, module: &str, field: &str, value: &str) -> Result<Vec<String>, ConnectorError> {
    let query = [
        ("criteria", format!("({field}:equals:{})", escape(value))),
        ("fields", field.to_string()),
        ("per_page", "200".to_string()),
    ];
    let answer = api.get(&format!("{module}/search"), &query, None)?;
    let data: Vec<&Map<String, Value>> = answer
        .body
        .get("data")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let value_of = |r: &Map<String, Value>| r.get(field).map(as_text).unwrap_or_default();
    let exact: Vec<_> = data.iter().filter(|r| value_of(r) == value).collect();
    let chosen: Vec<_> = if exact.is_empty() {
        data.iter().collect()
    } else {
        exact
    };
    Ok(chosen
        .iter()
        .filter_map(|r| r.get("id").map(as_text))
        .filter(|id| !id.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn criteria_values_are_escaped() {
        assert_eq!(escape("(株)サンプル, 東京"), "\\(株\\)サンプル\\, 東京");
    }
}
