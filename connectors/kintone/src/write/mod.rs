//! Writes: a batch of ops in as few calls as kintone allows. Entries are grouped by call kind
//! (see [`plan`]) into calls of 100 records, and calls are packed 20 to a bulkRequest; a batch
//! of ≤100 ops of one kind is one plain call, anything more one bulkRequest per 2,000 records.
//!
//! A multi-record call (and a whole bulkRequest) is all-or-nothing. When kintone refuses one
//! record, its error is reported on that op (kintone names it: `records[3].会社名.value`, or
//! the failing bulkRequest entry), and the others are sent again in the next round. A refusal
//! kintone does not pin to a record splits the call in halves until it does. After
//! [`assumed::MAX_WRITE_ROUNDS`] rounds the unsent ops get a retryable error (the hub retries).
//! Failures of the whole call (auth, 429, 5xx, network, quota) are not retried here: with
//! nothing written yet they fail the call, so the hub retries the batch with backoff.

mod plan;
mod result;

use connector_sdk::{ConnectorError, ErrorKind, WriteRequest, WriteResult};
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::assumed;
use crate::errors::ApiError;
use crate::form::Form;
use crate::http::Api;
use crate::manifest::{CALLS_PER_BULK, RECORDS_PER_CALL};
use plan::{method, payload, plan, Kind, Planned};
use result::{culprits, error_result, failure_result, success_results};

/// Ops of one call: same kind and lane. Lane 0 merges freely; a split call gets its own lanes.
#[derive(Debug, Clone)]
struct Call {
    kind: Kind,
    items: Vec<usize>,
}

pub fn write(
    api: &Api,
    form: &Form,
    req: &WriteRequest,
) -> Result<Vec<WriteResult>, ConnectorError> {
    let app = form.app.as_str();
    let mut results: Vec<Option<WriteResult>> = vec![None; req.ops.len()];
    let mut planned: Vec<Planned> = Vec::new();
    for (i, op) in req.ops.iter().enumerate() {
        match plan(form, i, op) {
            Ok(p) => planned.push(p),
            Err(e) => results[i] = Some(error_result(&op.op_id, op.id.clone(), e)),
        }
    }
    // (planned index, lane): lane 0 merges freely; the halves of a split call get their own.
    let mut queue: Vec<(usize, u32)> = (0..planned.len()).map(|i| (i, 0)).collect();
    let mut next_lane = 1u32;
    let mut written_any = false;
    let mut bulk_ok = true;

    for _round in 0..assumed::MAX_WRITE_ROUNDS {
        if queue.is_empty() {
            break;
        }
        let calls = group(&planned, &queue);
        queue.clear();
        let packs: Vec<Vec<Call>> = if bulk_ok {
            calls.chunks(CALLS_PER_BULK).map(<[Call]>::to_vec).collect()
        } else {
            calls.into_iter().map(|c| vec![c]).collect()
        };
        for (n, pack) in packs.iter().enumerate() {
            let (at, error) = match send(api, app, &planned, pack) {
                Ok(bodies) => {
                    written_any = true;
                    for (call, body) in pack.iter().zip(bodies) {
                        for (k, r) in success_results(req, &planned, &call.items, call.kind, &body)
                        {
                            results[k] = Some(r);
                        }
                    }
                    continue;
                }
                Err(Failed { at, error }) => (at, error),
            };
            let ce = error.to_connector(Some(app));
            let Some(at) = at.filter(|_| is_record_level(&ce)) else {
                // The request failed as a whole: nothing of this pack is written.
                if !written_any {
                    return Err(ce);
                }
                let unsent = packs[n..]
                    .iter()
                    .flatten()
                    .flat_map(|c| c.items.iter().copied())
                    .chain(queue.drain(..).map(|(p, _)| p));
                for p in unsent.collect::<Vec<_>>() {
                    let op = &req.ops[planned[p].op];
                    put(
                        &mut results,
                        &planned[p],
                        error_result(&op.op_id, planned[p].id.clone(), ce.clone()),
                    );
                }
                return Ok(finish(req, results));
            };
            if at.is_none() && pack.len() > 1 {
                // A bulkRequest refused without saying which call: plain calls from now on.
                bulk_ok = false;
            }
            for (j, call) in pack.iter().enumerate() {
                if Some(j) != at {
                    queue.extend(call.items.iter().map(|&p| (p, 0)));
                    continue;
                }
                if ce.kind == ErrorKind::PermissionDenied {
                    // The token lacks this kind of write: every op of the call has the error.
                    for &p in &call.items {
                        put(
                            &mut results,
                            &planned[p],
                            failure_result(&req.ops[planned[p].op], &planned[p], &ce),
                        );
                    }
                    continue;
                }
                let found = culprits(&error, app, &planned, &call.items);
                if found.is_empty() {
                    let half = call.items.len().div_ceil(2);
                    for (k, chunk) in call.items.chunks(half).enumerate() {
                        let lane = next_lane + k as u32;
                        queue.extend(chunk.iter().map(|&p| (p, lane)));
                    }
                    next_lane += 2;
                    continue;
                }
                for &p in &call.items {
                    match found.get(&p) {
                        Some(e) => put(
                            &mut results,
                            &planned[p],
                            failure_result(&req.ops[planned[p].op], &planned[p], e),
                        ),
                        None => queue.push((p, 0)),
                    }
                }
            }
        }
    }
    for (p, _) in queue {
        let op = &req.ops[planned[p].op];
        let e = ConnectorError::new(
            ErrorKind::Transient,
            "not written: other records in the same kintone request were refused",
        )
        .with_code("not_sent")
        .with_ja("同じリクエスト内の別のレコードがエラーになったため、書き込まれていません。再実行します");
        put(
            &mut results,
            &planned[p],
            error_result(&op.op_id, planned[p].id.clone(), e),
        );
    }
    Ok(finish(req, results))
}

fn put(results: &mut [Option<WriteResult>], p: &Planned, r: WriteResult) {
    results[p.op] = Some(r);
}

fn finish(req: &WriteRequest, results: Vec<Option<WriteResult>>) -> Vec<WriteResult> {
    results
        .into_iter()
        .zip(&req.ops)
        .map(|(r, op)| {
            r.unwrap_or_else(|| {
                error_result(
                    &op.op_id,
                    op.id.clone(),
                    ConnectorError::new(ErrorKind::Internal, "no result for this op"),
                )
            })
        })
        .collect()
}

/// Errors about the records of a call, not the connection: the rest may go again.
fn is_record_level(e: &ConnectorError) -> bool {
    matches!(
        e.kind,
        ErrorKind::InvalidData
            | ErrorKind::Conflict
            | ErrorKind::NotFound
            | ErrorKind::PermissionDenied
    )
}

/// Queue entries as calls: by kind (creates, updates, upserts, deletes), lane, then ≤100.
fn group(planned: &[Planned], queue: &[(usize, u32)]) -> Vec<Call> {
    let mut by: BTreeMap<(Kind, u32), Vec<usize>> = BTreeMap::new();
    for &(p, lane) in queue {
        by.entry((planned[p].kind, lane)).or_default().push(p);
    }
    let mut calls = Vec::new();
    for ((kind, _), items) in by {
        for chunk in items.chunks(RECORDS_PER_CALL) {
            calls.push(Call {
                kind,
                items: chunk.to_vec(),
            });
        }
    }
    calls
}

struct Failed {
    /// `None` for failures of the request as a whole (auth, 429, network…); `Some(None)` when
    /// kintone refused the records but did not say which call of a bulkRequest.
    at: Option<Option<usize>>,
    error: ApiError,
}

/// One HTTP call for a pack: the plain call for one, a bulkRequest for several. Answers each
/// call's result body in order.
fn send(api: &Api, app: &str, planned: &[Planned], pack: &[Call]) -> Result<Vec<Value>, Failed> {
    let body_of = |c: &Call| {
        let entries: Vec<&Value> = c.items.iter().map(|&p| &planned[p].entry).collect();
        payload(app, c.kind, &entries)
    };
    if let [call] = pack {
        let body = body_of(call);
        let answer = match call.kind {
            Kind::Create => api.post("records", &body),
            Kind::Update | Kind::Upsert => api.put("records", &body),
            Kind::Delete => api.delete("records", &body),
        };
        return answer.map(|a| vec![a.body]).map_err(|error| Failed {
            at: matches!(error, ApiError::Kintone { .. }).then_some(Some(0)),
            error,
        });
    }
    let requests: Vec<Value> = pack
        .iter()
        .map(|c| {
            json!({
                "method": method(c.kind),
                "api": api.api_path("records"),
                "payload": body_of(c),
            })
        })
        .collect();
    match api.post("bulkRequest", &json!({ "requests": requests })) {
        Ok(a) => {
            let results = a
                .body
                .get("results")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            // Some proxies answer 200 with the failure inside `results`.
            if let Some(j) = results.iter().position(|r| r.get("code").is_some()) {
                return Err(Failed {
                    at: Some(Some(j)),
                    error: ApiError::kintone(400, None, results[j].clone()),
                });
            }
            Ok((0..pack.len())
                .map(|j| results.get(j).cloned().unwrap_or(Value::Null))
                .collect())
        }
        Err(error) => {
            let ApiError::Kintone { status, body, .. } = &error else {
                return Err(Failed { at: None, error });
            };
            if let Some(results) = body.get("results").and_then(Value::as_array) {
                if let Some(j) = results.iter().position(|r| r.get("code").is_some()) {
                    return Err(Failed {
                        at: Some(Some(j)),
                        error: ApiError::kintone(*status, None, results[j].clone()),
                    });
                }
            }
            Err(Failed {
                at: Some(result::bulk_index(&error)),
                error,
            })
        }
    }
}
