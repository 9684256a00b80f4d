//! One two-way run over two [`RecordSide`]s and a [`Ledger`]: read each side's changes, plan
//! (sans-IO, [`crate::plan`]), write the plan, commit. Every step that touches a side is one
//! generic function called for A and for B.
//!
//! Durability: links and cursors move only in [`Ledger::commit`], after the writes they
//! describe were acknowledged. A run that stops on an error commits the pairs whose writes
//! were all acknowledged (never a cursor), so a later run does not create them again.

use connector_sdk::{Fields, Record, WriteAction, WriteOutcome};
use std::collections::{HashMap, HashSet};

use crate::error::EngineError;
use crate::model::{Config, Failure, Report, SideId};
use crate::plan::{self, op, Change, Plan, Planned, Planning, Shapes};
use crate::traits::{Commit, Ledger, Match, RecordSide, Written};

/// What was read and decided, before anything is written: a preview shows it, a run
/// executes it with [`execute`].
pub struct Prepared {
    pub plan: Plan,
    /// Where each side's reads ended (`[A, B]`), saved when the run's writes all pass.
    pub next: [Option<String>; 2],
}

/// Reads every page of `side` from its ledger cursor.
async fn read_all<S: RecordSide, L: Ledger>(
    s: &mut S,
    id: SideId,
    ledger: &mut L,
    report: &mut Report,
) -> Result<(Vec<Record>, Option<String>), EngineError> {
    let mut cursor = ledger.cursor(id).await?;
    let mut out = Vec::new();
    loop {
        let page = s.read_page(cursor.clone()).await?;
        for issue in page.issues {
            report.fail(Failure::Unreadable { side: id, issue });
        }
        out.extend(page.records);
        if page.next_cursor.is_some() {
            cursor = page.next_cursor;
        }
        if !page.has_more {
            return Ok((out, cursor));
        }
    }
}

/// The records of `side` this run owns, with their links.
async fn changes_of<S: RecordSide, L: Ledger>(
    s: &mut S,
    id: SideId,
    ledger: &mut L,
    cfg: &Config,
    plan: &mut Plan,
    report: &mut Report,
) -> Result<(Vec<Change>, Option<String>), EngineError> {
    let (recs, next) = read_all(s, id, ledger, report).await?;
    report.counts.read += recs.len() as i64;
    let ids: Vec<String> = recs.iter().map(|r| r.id.clone()).collect();
    let links = ledger.links(id, &ids).await?;
    let recs: Vec<Record> = recs
        .into_iter()
        .filter(|r| {
            let partner = links.get(&r.id).map(|l| l.id(id.other()));
            let keep = ledger.in_scope(id, &r.id, partner);
            if !keep {
                report.counts.read -= 1;
            }
            keep
        })
        .collect();
    let changes = plan::classify(id, recs, &links, cfg, &*s, plan, &mut report.counts);
    Ok((changes, next))
}

/// The partners found on `s` by key for the unlinked changes of the other side.
async fn find_matches<S: RecordSide>(
    s: &mut S,
    changes: &[Change],
) -> Result<HashMap<String, Match>, EngineError> {
    let mut out = HashMap::new();
    for c in plan::unlinked(changes) {
        out.insert(c.rec.id.clone(), s.find_match(&c.rec).await?);
    }
    Ok(out)
}

/// Reads both sides and plans the run. Writes nothing.
pub async fn prepare<A: RecordSide, B: RecordSide, L: Ledger>(
    a: &mut A,
    b: &mut B,
    ledger: &mut L,
    cfg: &Config,
    report: &mut Report,
) -> Result<Prepared, EngineError> {
    let mut plan = Plan::default();
    let (changes_a, next_a) = changes_of(a, SideId::A, ledger, cfg, &mut plan, report).await?;
    let (changes_b, next_b) = changes_of(b, SideId::B, ledger, cfg, &mut plan, report).await?;
    let mut rest_b: HashMap<String, Change> = changes_b
        .into_iter()
        .map(|c| (c.rec.id.clone(), c))
        .collect();
    let mut matches_a = find_matches(b, &changes_a).await?;
    // The planning is plain code between the reads: nothing of it is held across an await.
    let claimed = {
        let mut p = Planning {
            cfg,
            shapes: Shapes { a: &*a, b: &*b },
            plan: &mut plan,
            report,
            claimed: HashSet::new(),
        };
        plan::plan_side(&mut p, SideId::A, changes_a, &mut rest_b, &mut matches_a);
        p.claimed
    };
    // B's changes left are those paired with no change of A.
    let changes_b: Vec<Change> = rest_b.into_values().collect();
    let mut matches_b = find_matches(a, &changes_b).await?;
    {
        let mut p = Planning {
            cfg,
            shapes: Shapes { a: &*a, b: &*b },
            plan: &mut plan,
            report,
            claimed,
        };
        plan::plan_side(
            &mut p,
            SideId::B,
            changes_b,
            &mut HashMap::new(),
            &mut matches_b,
        );
    }
    Ok(Prepared {
        plan,
        next: [next_a, next_b],
    })
}

/// Writes the plan's ops for `side` in batches, as many at once as the side takes, noting ids,
/// versions and failures on the pairs. Answers whether a record failed for a reason that may
/// pass; a failed call is answered after every other batch was noted.
async fn write_side<S: RecordSide>(
    s: &mut S,
    side: SideId,
    ops: Vec<Planned>,
    plan: &mut Plan,
    report: &mut Report,
) -> Result<bool, EngineError> {
    let (mut may_pass, mut failed) = (false, None);
    let chunks: Vec<&[Planned]> = ops.chunks(s.batch_size().max(1)).collect();
    let batches = chunks
        .iter()
        .map(|c| c.iter().map(|w| w.op.clone()).collect())
        .collect();
    let outcomes = s.write_batches(batches).await;
    for (chunk, outcome) in chunks.into_iter().zip(outcomes) {
        let results = match outcome {
            Ok(r) => r,
            // What the other batches wrote is noted all the same: the caller commits it.
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        for (w, r) in chunk.iter().zip(results) {
            let pair = &mut plan.pairs[w.pair];
            let c = &mut report.counts;
            match r.outcome {
                WriteOutcome::Created => c.created += 1,
                WriteOutcome::Updated => c.updated += 1,
                WriteOutcome::Unchanged => c.unchanged += 1,
                _ => {
                    pair.failed = true;
                    let f = Failure::Refused {
                        label: pair.label.clone(),
                        side,
                        result: r,
                    };
                    may_pass |= f.may_pass();
                    report.fail(f);
                    continue;
                }
            }
            pair.pending -= 1;
            let ix = side.ix();
            pair.ids[ix] = r.id.clone().or(pair.ids[ix].take());
            pair.versions[ix] = r.version.clone().or(pair.versions[ix].take());
            pair.written.push((side, w.op.clone(), r));
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(may_pass),
    }
}

/// Deletes the partners of deleted linked records on `side`.
async fn delete_side<S: RecordSide>(
    s: &mut S,
    side: SideId,
    plan: &Plan,
    commit: &mut Commit,
    report: &mut Report,
) -> Result<(), EngineError> {
    for d in plan.deletes.iter().filter(|d| d.side == side) {
        let del = op(
            "d".into(),
            WriteAction::Delete,
            Some(d.link.id(side).to_string()),
            Fields::new(),
        );
        let results = s.write_batch(vec![del.clone()]).await?;
        let label = d.link.id(SideId::A).to_string();
        match results.into_iter().next() {
            Some(r) if r.outcome == WriteOutcome::Deleted => {
                report.counts.updated += 1;
                commit.unlink.push(label.clone());
                commit.written.push(Written {
                    side,
                    label,
                    op: del,
                    result: r,
                    before: d.link.synced.as_ref().map(|c| s.own_fields(c)),
                    prior: Some(d.link.clone()),
                });
            }
            _ => report.fail(Failure::NotDeleted { label, side }),
        }
    }
    Ok(())
}

/// The links and undo rows of the pairs as far as their writes went.
fn pairs_commit(plan: &Plan, commit: &mut Commit) {
    for p in &plan.pairs {
        // Every acknowledged write is kept for undo, also in a pair that failed elsewhere.
        for (side, op, result) in &p.written {
            commit.written.push(Written {
                side: *side,
                label: p.label.clone(),
                op: op.clone(),
                result: result.clone(),
                before: p.before[side.ix()].clone(),
                prior: p.prior.clone(),
            });
        }
        commit.links.extend(p.link());
    }
}

/// Writes the plan (B first, then A, then deletes) and commits. On an error, what was
/// acknowledged is still committed (without cursors) before the error is returned.
pub async fn execute<A: RecordSide, B: RecordSide, L: Ledger>(
    a: &mut A,
    b: &mut B,
    ledger: &mut L,
    prepared: Prepared,
    report: &mut Report,
) -> Result<(), EngineError> {
    let Prepared { mut plan, next } = prepared;
    let [to_a, to_b] = std::mem::take(&mut plan.writes);
    let mut commit = Commit::default();
    let steps = async {
        let mut may_pass = write_side(b, SideId::B, to_b, &mut plan, report).await?;
        may_pass |= write_side(a, SideId::A, to_a, &mut plan, report).await?;
        delete_side(b, SideId::B, &plan, &mut commit, report).await?;
        delete_side(a, SideId::A, &plan, &mut commit, report).await?;
        Ok::<bool, EngineError>(may_pass)
    };
    let outcome = steps.await;
    pairs_commit(&plan, &mut commit);
    match outcome {
        Ok(may_pass) => {
            if !may_pass {
                let cursors = [SideId::A, SideId::B].into_iter().zip(next);
                commit.cursors = cursors.filter_map(|(s, c)| Some((s, c?))).collect();
            }
            ledger.commit(commit).await
        }
        Err(e) => {
            // The error is the run's; a failed commit here only means a later run redoes more.
            let _ = ledger.commit(commit).await;
            Err(e)
        }
    }
}

/// One two-way run: [`prepare`], then [`execute`].
pub async fn run<A: RecordSide, B: RecordSide, L: Ledger>(
    a: &mut A,
    b: &mut B,
    ledger: &mut L,
    cfg: &Config,
    report: &mut Report,
) -> Result<(), EngineError> {
    let prepared = prepare(a, b, ledger, cfg, report).await?;
    let done = execute(a, b, ledger, prepared, report).await;
    let settled = ledger.settle().await;
    done.and(settled)
}
