//! Picks the matching records in query order. Without `order by` (or ordered by `$id` only) it
//! walks the id index within the `$id` bounds of the query and stops early, so the official
//! clients' `$id > N order by $id asc limit 500` pages stay cheap on 100k records. Ordered by
//! `更新日時 asc, $id asc` it walks the app's (更新日時, id) index from the lower bound the query
//! puts on `更新日時`, so the hub's seek pages stay cheap on a million records; ordered by
//! `更新日時 desc, $id desc` it walks that index down from the upper bound.

use super::eval::{as_num, get, matches, Compiled, Field, Got, Kind, Pred};
use super::model::{App, FieldType, Record};
use super::query::Op;
use std::cmp::Ordering;
use std::ops::Bound;

/// `$id` bounds implied by the top-level conjunction, to narrow the id range walked.
fn id_bounds(p: Option<&Pred>) -> (Bound<u64>, Bound<u64>) {
    let mut lo = Bound::Unbounded;
    let mut hi = Bound::Unbounded;
    let items: Vec<&Pred> = match p {
        Some(Pred::And(v)) => v.iter().collect(),
        Some(p) => vec![p],
        None => vec![],
    };
    for p in items {
        if let Pred::Num(f, op, n) = p {
            if f.kind != Kind::Id || n.fract() != 0.0 || *n < 0.0 {
                continue;
            }
            let n = *n as u64;
            match op {
                Op::Gt => lo = tighter_lo(lo, Bound::Excluded(n)),
                Op::Ge => lo = tighter_lo(lo, Bound::Included(n)),
                Op::Lt => hi = tighter_hi(hi, Bound::Excluded(n)),
                Op::Le => hi = tighter_hi(hi, Bound::Included(n)),
                Op::Eq => {
                    lo = tighter_lo(lo, Bound::Included(n));
                    hi = tighter_hi(hi, Bound::Included(n));
                }
                Op::Ne => {}
            }
        }
    }
    (lo, hi)
}

fn lo_key(b: &Bound<u64>) -> u64 {
    match b {
        Bound::Unbounded => 0,
        Bound::Included(n) => *n,
        Bound::Excluded(n) => n.saturating_add(1),
    }
}

fn hi_key(b: &Bound<u64>) -> u64 {
    match b {
        Bound::Unbounded => u64::MAX,
        Bound::Included(n) => *n,
        Bound::Excluded(n) => n.saturating_sub(1),
    }
}

fn tighter_lo(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    if lo_key(&b) > lo_key(&a) {
        b
    } else {
        a
    }
}

fn tighter_hi(a: Bound<u64>, b: Bound<u64>) -> Bound<u64> {
    if hi_key(&b) < hi_key(&a) {
        b
    } else {
        a
    }
}

#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    None,
    Num(f64),
    Str(String),
}

fn sort_key(f: &Field, r: &Record) -> Key {
    let g = get(f, r);
    match (f.kind, &g) {
        (_, Got::Int(i)) => Key::Num(*i as f64),
        (Kind::Number, _) => as_num(&g).map(Key::Num).unwrap_or(Key::None),
        (_, Got::Str(s)) => Key::Str(s.to_string()),
        (_, Got::Owned(s)) => Key::Str(s.clone()),
        (_, Got::List(l)) => Key::Str(l.join(",")),
        (_, Got::None) => Key::None,
    }
}

/// Matching record ids in query order, `offset`/`limit` applied, and the total when asked.
pub struct Selection {
    pub ids: Vec<u64>,
    pub total: Option<u64>,
}

pub fn select(
    app: &App,
    c: &Compiled,
    offset: u64,
    limit: Option<u64>,
    want_total: bool,
) -> Selection {
    let keep = |r: &&Record| c.filter.as_ref().is_none_or(|p| matches(p, r));
    let (lo, hi) = id_bounds(c.filter.as_ref());
    if lo_key(&lo) > hi_key(&hi) {
        return Selection {
            ids: vec![],
            total: want_total.then_some(0),
        };
    }
    let range = app.records.range((lo, hi)).map(|(_, r)| r);
    let by_id = match c.order.as_slice() {
        [] => Some(true),
        [(f, desc)] if f.kind == Kind::Id => Some(*desc),
        _ => None,
    };
    if let Some(desc) = by_id {
        let it: Box<dyn Iterator<Item = &Record>> = if desc {
            Box::new(range.rev())
        } else {
            Box::new(range)
        };
        return take_in_order(it.filter(keep), offset, limit, want_total);
    }
    if let [(u, false), (i, false)] = c.order.as_slice() {
        if u.ty == Some(FieldType::UpdatedTime) && i.kind == Kind::Id {
            let from = updated_lower_bound(c.filter.as_ref()).unwrap_or(i64::MIN);
            let it = app
                .by_updated
                .range((from, 0)..)
                .filter(|(_, id)| in_bounds(*id, &lo, &hi))
                .filter_map(|(_, id)| app.records.get(id));
            return take_in_order(it.filter(keep), offset, limit, want_total);
        }
    }
    if let [(u, true), (i, true)] = c.order.as_slice() {
        if u.ty == Some(FieldType::UpdatedTime) && i.kind == Kind::Id {
            // Newest first: from the upper bound the query puts on `更新日時` down.
            let to = updated_upper_bound(c.filter.as_ref()).unwrap_or(i64::MAX);
            let from = updated_lower_bound(c.filter.as_ref()).unwrap_or(i64::MIN);
            let it = app
                .by_updated
                .range(..=(to, u64::MAX))
                .rev()
                .take_while(|(t, _)| *t >= from)
                .filter(|(_, id)| in_bounds(*id, &lo, &hi))
                .filter_map(|(_, id)| app.records.get(id));
            return take_in_order(it.filter(keep), offset, limit, want_total);
        }
    }
    // $id descending first, so a stable sort leaves ties in that order.
    let mut rows: Vec<(Vec<Key>, u64)> = range
        .rev()
        .filter(keep)
        .map(|r| (c.order.iter().map(|(f, _)| sort_key(f, r)).collect(), r.id))
        .collect();
    rows.sort_by(|a, b| {
        for (i, (_, desc)) in c.order.iter().enumerate() {
            let o = a.0[i].partial_cmp(&b.0[i]).unwrap_or(Ordering::Equal);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    let total = rows.len() as u64;
    let ids = rows
        .into_iter()
        .skip(offset as usize)
        .take(limit.map(|l| l as usize).unwrap_or(usize::MAX))
        .map(|(_, id)| id)
        .collect();
    Selection {
        ids,
        total: want_total.then_some(total),
    }
}

fn take_in_order<'a>(
    it: impl Iterator<Item = &'a Record>,
    offset: u64,
    limit: Option<u64>,
    want_total: bool,
) -> Selection {
    let mut ids = Vec::new();
    let mut seen = 0u64;
    let end = limit.map(|l| offset.saturating_add(l)).unwrap_or(u64::MAX);
    for r in it {
        if seen >= offset && seen < end {
            ids.push(r.id);
        }
        seen += 1;
        if seen >= end && !want_total {
            break;
        }
    }
    Selection {
        ids,
        total: want_total.then_some(seen),
    }
}

fn in_bounds(id: u64, lo: &Bound<u64>, hi: &Bound<u64>) -> bool {
    id >= lo_key(lo) && id <= hi_key(hi)
}

/// The least `更新日時` (seconds) a matching record can have, when the filter implies one.
fn updated_lower_bound(p: Option<&Pred>) -> Option<i64> {
    match p? {
        Pred::Range(f, op, lo, hi) if f.ty == Some(FieldType::UpdatedTime) => match op {
            Op::Eq | Op::Ge => Some(*lo),
            Op::Gt => Some(*hi),
            _ => None,
        },
        Pred::And(v) => v.iter().filter_map(|p| updated_lower_bound(Some(p))).max(),
        Pred::Or(v) => v
            .iter()
            .map(|p| updated_lower_bound(Some(p)))
            .collect::<Option<Vec<i64>>>()?
            .into_iter()
            .min(),
        _ => None,
    }
}

/// The greatest `更新日時` (seconds) a matching record can have, when the filter implies one.
fn updated_upper_bound(p: Option<&Pred>) -> Option<i64> {
    match p? {
        Pred::Range(f, op, lo, hi) if f.ty == Some(FieldType::UpdatedTime) => match op {
            Op::Eq | Op::Le => Some(*hi - 1),
            Op::Lt => Some(*lo - 1),
            _ => None,
        },
        Pred::And(v) => v.iter().filter_map(|p| updated_upper_bound(Some(p))).min(),
        Pred::Or(v) => v
            .iter()
            .map(|p| updated_upper_bound(Some(p)))
            .collect::<Option<Vec<i64>>>()?
            .into_iter()
            .max(),
        _ => None,
    }
}
