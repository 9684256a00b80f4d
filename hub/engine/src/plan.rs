//! The sans-IO heart of two-way sync: what each side read, its links and the partners found
//! by key go in; a plan of writes, deletes and the links to keep comes out. One function,
//! [`plan_side`], plans the changes of either side: the run calls it for A, then for B.
//!
//! A record is a change only when its content (in the shared space) differs from the
//! fingerprint the hub left on that side: a version alone never says "own write", since
//! whole-second (or coarser, or absent) stamps cannot tell an edit made in the same tick as
//! the hub's write.

use connector_sdk::{Fields, Record, WriteAction, WriteOp, WriteResult};
use std::collections::{HashMap, HashSet};

use crate::content::{fingerprint, same_content};
use crate::model::{Ambiguity, Config, Counts, Failure, Link, Report, SideId};
use crate::resolve::resolve;
use crate::traits::{Match, Shape};

/// A record that changed on its side since the hub last synced it.
#[derive(Debug, Clone)]
pub struct Change {
    pub rec: Record,
    /// The record in the shared space.
    pub space: Fields,
    pub link: Option<Link>,
}

/// One pair being synced: what both sides should end up with and what is known of each.
#[derive(Debug, Clone, Default)]
pub struct Pair {
    pub ids: [Option<String>; 2],
    pub versions: [Option<String>; 2],
    /// What each side will read back as once the plan is done (see the module doc).
    pub fingerprints: [Option<String>; 2],
    /// The agreed content, in the shared space.
    pub agreed: Fields,
    /// Which record failures name: A's id, or `target:ID` for a record met on B.
    pub label: String,
    /// Each side's own fields before the run, for undo.
    pub before: [Option<Fields>; 2],
    pub prior: Option<Link>,
    pub failed: bool,
    /// Planned writes not yet acknowledged: the pair is linked only when none is left.
    pub pending: usize,
    pub written: Vec<(SideId, WriteOp, WriteResult)>,
}

impl Pair {
    /// The link to keep once every write of the pair is acknowledged.
    pub fn link(&self) -> Option<Link> {
        if self.failed || self.pending > 0 {
            return None;
        }
        let [Some(a), Some(b)] = &self.ids else {
            return None;
        };
        Some(Link {
            ids: [a.clone(), b.clone()],
            fingerprints: self.fingerprints.clone(),
            versions: self.versions.clone(),
            synced: Some(self.agreed.clone()),
        })
    }
}

/// A write the plan makes on `side`, for `pairs[pair]`.
#[derive(Debug, Clone)]
pub struct Planned {
    pub side: SideId,
    pub pair: usize,
    pub op: WriteOp,
}

/// A linked record deleted on the other side: its partner on `side` is deleted.
#[derive(Debug, Clone)]
pub struct Delete {
    pub side: SideId,
    pub link: Link,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub pairs: Vec<Pair>,
    /// Indexed by [`SideId`].
    pub writes: [Vec<Planned>; 2],
    pub deletes: Vec<Delete>,
    /// Pairs changed on both sides since the last sync (`A-id ⇄ B-id`).
    pub conflicts: Vec<String>,
}

/// Both sides' shapes, by [`SideId`].
#[derive(Clone, Copy)]
pub struct Shapes<'a> {
    pub a: &'a dyn Shape,
    pub b: &'a dyn Shape,
}

impl Shapes<'_> {
    pub fn get(&self, side: SideId) -> &dyn Shape {
        match side {
            SideId::A => self.a,
            SideId::B => self.b,
        }
    }
}

pub(crate) fn op(
    op_id: String,
    action: WriteAction,
    id: Option<String>,
    fields: Fields,
) -> WriteOp {
    WriteOp {
        op_id,
        action,
        id,
        match_key: None,
        expected_version: None,
        fields,
    }
}

/// Sorts what `side` read: private records skipped, tombstones of linked records planned as
/// deletes on the other side, records whose content is what the hub left counted unchanged;
/// the rest are changes.
pub fn classify(
    side: SideId,
    recs: Vec<Record>,
    links: &HashMap<String, Link>,
    cfg: &Config,
    shape: &dyn Shape,
    plan: &mut Plan,
    counts: &mut Counts,
) -> Vec<Change> {
    let mut out = Vec::new();
    for rec in recs {
        let link = links.get(&rec.id).cloned();
        if rec.private && cfg.skip_private {
            counts.skipped += 1;
            continue;
        }
        if rec.deleted {
            match link {
                Some(link) if cfg.propagate_deletes => plan.deletes.push(Delete {
                    side: side.other(),
                    link,
                }),
                _ => counts.skipped += 1,
            }
            continue;
        }
        let space = shape.common(&rec);
        if let Some(l) = &link {
            if l.fingerprint(side) == Some(fingerprint(&space).as_str()) {
                counts.unchanged += 1;
                continue;
            }
        }
        out.push(Change { rec, space, link });
    }
    out
}

/// The changes of `from` that need a partner found by key on the other side.
pub fn unlinked(changes: &[Change]) -> impl Iterator<Item = &Change> {
    changes.iter().filter(|c| c.link.is_none())
}

/// What the planning of one side shares with the other's.
pub struct Planning<'a> {
    pub cfg: &'a Config,
    pub shapes: Shapes<'a>,
    pub plan: &'a mut Plan,
    pub report: &'a mut Report,
    /// Records of either side already taken as a partner by key in this run.
    pub claimed: HashSet<(SideId, String)>,
}

/// Plans the changes of side `from`. `others` holds the changes of the other side not yet
/// planned (a pair changed on both is planned once, here, and taken out); `matches` holds
/// the partner found by key for each unlinked change.
pub fn plan_side(
    p: &mut Planning<'_>,
    from: SideId,
    changes: Vec<Change>,
    others: &mut HashMap<String, Change>,
    matches: &mut HashMap<String, Match>,
) {
    for c in changes {
        let label = match from {
            SideId::A => c.rec.id.clone(),
            SideId::B => format!("target:{}", c.rec.id),
        };
        let Some((partner, image)) = partner(p, from, &c, &label, matches) else {
            continue;
        };
        let to = from.other();
        let mut pair = Pair {
            label,
            prior: c.link.clone(),
            ..Pair::default()
        };
        pair.ids[from.ix()] = Some(c.rec.id.clone());
        pair.versions[from.ix()] = c.rec.version.clone();
        pair.before[from.ix()] = Some(p.shapes.get(from).image(&c.rec));
        pair.before[to.ix()] = match &c.link {
            Some(l) => l.synced.as_ref().map(|s| p.shapes.get(to).own_fields(s)),
            None => image,
        };
        let i = p.plan.pairs.len();
        match partner {
            Some(id) => match others.remove(&id) {
                Some(oc) => both_changed(p, from, c, oc, &mut pair, i),
                None => {
                    pair.versions[to.ix()] = c.link.as_ref().and_then(|l| l.version(to)).cloned();
                    one_changed(p, from, c, Some(id), &mut pair, i);
                }
            },
            None if p.cfg.create_missing => one_changed(p, from, c, None, &mut pair, i),
            None => {
                p.report.counts.skipped += 1;
                continue;
            }
        }
        p.plan.pairs.push(pair);
    }
}

/// The partner of a change on the other side (its link's, else the one found by key) and
/// the partner's image; `None` when the change is skipped or fails here.
fn partner(
    p: &mut Planning<'_>,
    from: SideId,
    c: &Change,
    label: &str,
    matches: &mut HashMap<String, Match>,
) -> Option<(Option<String>, Option<Fields>)> {
    let to = from.other();
    if let Some(l) = &c.link {
        return Some((Some(l.id(to).to_string()), None));
    }
    let ambiguous = |found| Failure::Ambiguous {
        label: label.to_string(),
        from,
        found,
    };
    match matches.remove(&c.rec.id).unwrap_or(Match::None) {
        Match::None | Match::Free { .. } => Some((None, None)),
        // Two-way pairs by id: a key only the connector compares pairs nothing here.
        Match::NoKey | Match::Left | Match::OnWrite(_) => {
            p.report.counts.skipped += 1;
            None
        }
        Match::One { id, image } if p.claimed.insert((to, id.clone())) => Some((Some(id), image)),
        Match::One { id, .. } => {
            p.report.fail(ambiguous(Ambiguity::Taken(id)));
            None
        }
        Match::Several(ids) => {
            // Taken, so that no partner of the other side's pass pairs with it by chance.
            p.claimed.insert((from, c.rec.id.clone()));
            p.report.fail(ambiguous(Ambiguity::Several(ids)));
            None
        }
    }
}

fn push_write(p: &mut Planning<'_>, side: SideId, pair: &mut Pair, i: usize, op: WriteOp) {
    pair.pending += 1;
    p.plan.writes[side.ix()].push(Planned { side, pair: i, op });
}

fn op_id(side: SideId, i: usize) -> String {
    match side {
        SideId::A => format!("a{i}"),
        SideId::B => format!("b{i}"),
    }
}

/// Changed on `from` only: the partner (or a new record) takes `from`'s content.
fn one_changed(
    p: &mut Planning<'_>,
    from: SideId,
    c: Change,
    partner: Option<String>,
    pair: &mut Pair,
    i: usize,
) {
    let to = from.other();
    let shape = p.shapes.get(to);
    let action = match partner {
        Some(_) => WriteAction::Upsert,
        None => WriteAction::Create,
    };
    pair.ids[to.ix()] = partner.clone();
    pair.fingerprints[to.ix()] = Some(fingerprint(&shape.read_back(&c.space)));
    pair.fingerprints[from.ix()] = Some(fingerprint(&c.space));
    let w = op(op_id(to, i), action, partner, shape.own_fields(&c.space));
    push_write(p, to, pair, i, w);
    pair.agreed = c.space;
}

/// Changed on both sides (or met for the first time by key): the policy settles the content,
/// and each side whose content differs from it is written.
fn both_changed(
    p: &mut Planning<'_>,
    from: SideId,
    c: Change,
    oc: Change,
    pair: &mut Pair,
    i: usize,
) {
    let to = from.other();
    let (a, b) = match from {
        SideId::A => (&c, &oc),
        SideId::B => (&oc, &c),
    };
    if c.link.is_some() {
        p.plan
            .conflicts
            .push(format!("{} ⇄ {}", a.rec.id, b.rec.id));
    }
    let base = c.link.as_ref().and_then(|l| l.synced.as_ref());
    let agreed = resolve(p.cfg.policy, (&a.rec, &a.space), (&b.rec, &b.space), base);
    pair.ids[to.ix()] = Some(oc.rec.id.clone());
    pair.versions[to.ix()] = oc.rec.version.clone();
    pair.before[to.ix()] = Some(p.shapes.get(to).image(&oc.rec));
    for (side, ch) in [(SideId::B, b), (SideId::A, a)] {
        let shape = p.shapes.get(side);
        let new = shape.own_fields(&agreed);
        if same_content(&new, &shape.own_fields(&ch.space)) {
            pair.fingerprints[side.ix()] = Some(fingerprint(&ch.space));
        } else {
            pair.fingerprints[side.ix()] = Some(fingerprint(&shape.read_back(&agreed)));
            let w = op(
                op_id(side, i),
                WriteAction::Upsert,
                Some(ch.rec.id.clone()),
                new,
            );
            push_write(p, side, pair, i, w);
        }
    }
    pair.agreed = agreed;
}
