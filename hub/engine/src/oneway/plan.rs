//! The sans-IO heart of one-way sync: a page of source records, their links, their content
//! and the partners found on the target go in; the target writes come out, and after the
//! writes, the links and failures their results say ([`settle`]).
//!
//! A source record is a change only when its content (in the shared space) differs from the
//! fingerprint the hub left on its link: a version alone never says "unchanged".

use connector_sdk::{
    ErrorKind, Fields, MatchKey, Record, WriteAction, WriteOp, WriteOutcome, WriteResult,
};
use std::collections::HashMap;

use crate::content::fingerprint;
use crate::model::{Ambiguity, Failure, Link, Report, SideId};
use crate::traits::{Commit, Match, Shape, Written};

/// The flow's one-way options the engine obeys.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A tombstone of a linked record deletes its target record.
    pub propagate_deletes: bool,
    /// A record with no partner is created on the target (else skipped).
    pub create_missing: bool,
    /// Private records never leave their system.
    pub skip_private: bool,
    /// The run retries earlier failures only: it moves no cursor, so it reads on past a
    /// failure that may pass (an ordinary run stops there, to read it again next time).
    pub retry: bool,
}

/// A source record's content in the shared space as the caller prepared it: `None` takes the
/// source side's [`Shape::common`]; an error fails the record.
pub type Content = Option<Result<Fields, Box<Failure>>>;

/// A source record that changed since the hub last synced it.
#[derive(Debug, Clone)]
pub struct Change {
    pub rec: Record,
    /// The record in the shared space.
    pub content: Fields,
    pub fingerprint: String,
    pub link: Option<Link>,
}

/// A source record to act on, in the order read.
#[derive(Debug, Clone)]
pub enum Item {
    /// A tombstone of a linked record: its target record is deleted.
    Delete(Planned),
    Change(Change),
}

/// One write the plan makes on the target for one source record.
#[derive(Debug, Clone)]
pub struct Planned {
    pub op: WriteOp,
    /// The source record's id (failures and undo name it).
    pub label: String,
    pub version: Option<String>,
    /// The content written (shared space) and its fingerprint: the link keeps both.
    pub content: Fields,
    pub fingerprint: String,
    pub link: Option<Link>,
    /// The target's fields before the run, for undo, when known.
    pub before: Option<Fields>,
}

/// What a run keeps across its pages: target records and keys already taken by a source
/// record, so two source records never share one target record.
#[derive(Debug, Default)]
pub struct Claims {
    targets: HashMap<String, String>,
    keys: HashMap<String, String>,
}

fn op(op_id: &str, action: WriteAction, id: Option<String>, fields: Fields) -> WriteOp {
    WriteOp {
        op_id: op_id.to_string(),
        action,
        id,
        match_key: None,
        expected_version: None,
        fields,
    }
}

/// Sorts a page of source records: private records skipped, tombstones of linked records
/// planned as deletes, records the caller refused failed, records whose content is what the
/// hub left counted unchanged; the rest are changes. `contents` runs along `recs`.
pub fn classify(
    recs: Vec<Record>,
    contents: Vec<Content>,
    links: &HashMap<String, Link>,
    opts: &Options,
    shape: &dyn Shape,
    report: &mut Report,
) -> Vec<Item> {
    let mut out = Vec::new();
    let contents = contents.into_iter().chain(std::iter::repeat_with(|| None));
    for (rec, content) in recs.into_iter().zip(contents) {
        let link = links.get(&rec.id).cloned();
        if rec.private && opts.skip_private {
            report.counts.skipped += 1;
            continue;
        }
        if rec.deleted {
            match link {
                Some(l) if opts.propagate_deletes => out.push(Item::Delete(delete(rec, l))),
                _ => report.counts.skipped += 1,
            }
            continue;
        }
        let content = match content.unwrap_or_else(|| Ok(shape.common(&rec))) {
            Ok(c) => c,
            Err(f) => {
                report.fail(*f);
                continue;
            }
        };
        let fp = fingerprint(&content);
        if link.as_ref().and_then(|l| l.fingerprint(SideId::A)) == Some(fp.as_str()) {
            report.counts.unchanged += 1;
            continue;
        }
        out.push(Item::Change(Change {
            rec,
            content,
            fingerprint: fp,
            link,
        }));
    }
    out
}

fn delete(rec: Record, link: Link) -> Planned {
    let target = link.id(SideId::B).to_string();
    Planned {
        op: op(&rec.id, WriteAction::Delete, Some(target), Fields::new()),
        label: rec.id,
        version: rec.version,
        content: Fields::new(),
        fingerprint: String::new(),
        before: link.synced.clone(),
        link: Some(link),
    }
}

/// The changes that need a partner found on the target.
pub fn unlinked(items: &[Item]) -> impl Iterator<Item = &Change> {
    items.iter().filter_map(|i| match i {
        Item::Change(c) if c.link.is_none() => Some(c),
        _ => None,
    })
}

/// Plans the page's writes, in the order read. `matches` holds the partner found for each
/// unlinked change (by source id).
pub fn plan_page(
    items: Vec<Item>,
    matches: &mut HashMap<String, Match>,
    claims: &mut Claims,
    opts: &Options,
    report: &mut Report,
) -> Vec<Planned> {
    let mut out = Vec::new();
    for item in items {
        let c = match item {
            Item::Delete(p) => {
                out.push(p);
                continue;
            }
            Item::Change(c) => c,
        };
        let Some(t) = target_of(&c, matches, claims, opts, report) else {
            continue;
        };
        let mut w = op(&c.rec.id, t.action, t.id, c.content.clone());
        w.match_key = t.key;
        out.push(Planned {
            op: w,
            label: c.rec.id,
            version: c.rec.version,
            content: c.content,
            fingerprint: c.fingerprint,
            link: c.link,
            before: t.before,
        });
    }
    out
}

/// How a change reaches the target.
struct Target {
    action: WriteAction,
    id: Option<String>,
    key: Option<MatchKey>,
    before: Option<Fields>,
}

fn create() -> Target {
    Target {
        action: WriteAction::Create,
        id: None,
        key: None,
        before: None,
    }
}

/// The change's target record (its link's, or the one found), or `None` when the change is
/// skipped or fails here.
fn target_of(
    c: &Change,
    matches: &mut HashMap<String, Match>,
    claims: &mut Claims,
    opts: &Options,
    report: &mut Report,
) -> Option<Target> {
    if let Some(l) = &c.link {
        return Some(Target {
            action: WriteAction::Upsert,
            id: Some(l.id(SideId::B).to_string()),
            key: None,
            before: l.synced.clone(),
        });
    }
    let label = &c.rec.id;
    let ambiguous = |found| Failure::Ambiguous {
        label: label.clone(),
        from: SideId::A,
        found,
    };
    let skip = |report: &mut Report| {
        report.counts.skipped += 1;
        None
    };
    match matches.remove(label).unwrap_or(Match::None) {
        Match::None if opts.create_missing => Some(create()),
        Match::None | Match::NoKey | Match::Left => skip(report),
        Match::OnWrite(key) => Some(Target {
            action: match opts.create_missing {
                true => WriteAction::Upsert,
                false => WriteAction::Update,
            },
            key: Some(key),
            ..create()
        }),
        Match::One { id, image } => {
            if let Some(other) = claims.targets.get(&id) {
                let other = other.clone();
                report.fail(ambiguous(Ambiguity::SharedTarget { target: id, other }));
                return None;
            }
            claims.targets.insert(id.clone(), label.clone());
            Some(Target {
                action: WriteAction::Upsert,
                id: Some(id),
                key: None,
                before: image,
            })
        }
        Match::Several(ids) => {
            report.fail(ambiguous(Ambiguity::Several(ids)));
            None
        }
        Match::Free { key } => {
            if let Some(other) = claims.keys.get(&key) {
                let other = other.clone();
                report.fail(ambiguous(Ambiguity::SameKey { other }));
                return None;
            }
            if !opts.create_missing {
                return skip(report);
            }
            claims.keys.insert(key, label.clone());
            Some(create())
        }
    }
}

/// What the target answered for a batch: counts, the links to keep (or drop) and the writes
/// kept for undo go into `commit`, refusals into the report. Answers whether a record failed
/// for a reason that may pass.
pub fn settle(
    batch: &[Planned],
    results: Vec<WriteResult>,
    commit: &mut Commit,
    report: &mut Report,
) -> bool {
    let by_op: HashMap<String, WriteResult> =
        results.into_iter().map(|r| (r.op_id.clone(), r)).collect();
    let mut may_pass = false;
    for p in batch {
        let Some(r) = by_op.get(&p.op.op_id) else {
            report.fail(Failure::NoResult {
                label: p.label.clone(),
                side: SideId::B,
            });
            continue;
        };
        commit.written.push(Written {
            side: SideId::B,
            label: p.label.clone(),
            op: p.op.clone(),
            result: r.clone(),
            before: p.before.clone(),
            prior: p.link.clone(),
        });
        let c = &mut report.counts;
        if p.op.action == WriteAction::Delete && already_gone(r) {
            // Deleted by a run that died before it committed: the goal is reached.
            c.unchanged += 1;
            commit.unlink.push(p.label.clone());
            continue;
        }
        match r.outcome {
            WriteOutcome::Created | WriteOutcome::Updated | WriteOutcome::Unchanged => {
                match r.outcome {
                    WriteOutcome::Created => c.created += 1,
                    WriteOutcome::Updated => c.updated += 1,
                    _ => c.unchanged += 1,
                }
                commit.links.push(link(p, r));
            }
            WriteOutcome::Deleted => {
                c.updated += 1;
                commit.unlink.push(p.label.clone());
            }
            WriteOutcome::Conflict | WriteOutcome::Error => {
                let f = Failure::Refused {
                    label: p.label.clone(),
                    side: SideId::B,
                    result: r.clone(),
                };
                may_pass |= f.may_pass();
                report.fail(f);
            }
        }
    }
    may_pass
}

/// The side answers that the record to delete is not there.
fn already_gone(r: &WriteResult) -> bool {
    r.outcome == WriteOutcome::Error
        && (r.error.as_ref()).is_some_and(|e| e.kind == ErrorKind::NotFound)
}

/// The link of an acknowledged write: both sides hold the content written.
fn link(p: &Planned, r: &WriteResult) -> Link {
    let target =
        r.id.clone()
            .or_else(|| p.link.as_ref().map(|l| l.id(SideId::B).to_string()));
    Link {
        ids: [p.label.clone(), target.unwrap_or_default()],
        fingerprints: [Some(p.fingerprint.clone()), Some(p.fingerprint.clone())],
        versions: [p.version.clone(), r.version.clone()],
        synced: Some(p.content.clone()),
    }
}
