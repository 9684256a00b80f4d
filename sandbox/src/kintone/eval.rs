//! Runs a parsed query against an app: checks field codes and operators per field type, turns
//! literals into typed bounds once, then filters and orders the records. Without `order by`
//! (or ordered by `$id` only) it walks the id index and stops early, so `$id > N … limit 500`
//! pages stay cheap on 100k records (see `select`).

use super::error::{KError, KResult};
use super::model::{App, FieldType, Record};
use super::query::{Expr, Lit, Op, Query};
use super::{assumed, time};
use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Id,
    Number,
    Text,
    LongText,
    Choice,
    User,
    /// Seconds since the epoch.
    Instant,
    /// Days since the common era.
    Day,
    /// Minutes since midnight.
    Clock,
}

#[derive(Debug, Clone)]
pub(super) struct Field {
    /// `None` for `$id`.
    pub(super) code: Option<String>,
    pub(super) ty: Option<FieldType>,
    pub(super) kind: Kind,
}

#[derive(Debug, Clone)]
pub(super) enum Pred {
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Num(Field, Op, f64),
    /// Value in [lo, hi) for `=`; see `range_match`.
    Range(Field, Op, i64, i64),
    Text(Field, bool, String),
    In(Field, bool, Vec<String>),
    Like(Field, bool, String),
    Empty(Field, bool),
}

pub struct Compiled {
    pub(super) filter: Option<Pred>,
    pub(super) order: Vec<(Field, bool)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

fn resolve(app: &App, code: &str) -> KResult<Field> {
    if code == "$id" {
        return Ok(Field {
            code: None,
            ty: None,
            kind: Kind::Id,
        });
    }
    let f = app
        .field(code)
        .ok_or_else(|| KError::query(format!("フィールドコード「{code}」は存在しません。")))?;
    let kind = match f.ty {
        FieldType::RecordNumber => Kind::Id,
        FieldType::Number => Kind::Number,
        FieldType::SingleLineText | FieldType::Link => Kind::Text,
        FieldType::MultiLineText | FieldType::RichText => Kind::LongText,
        FieldType::DropDown
        | FieldType::RadioButton
        | FieldType::CheckBox
        | FieldType::MultiSelect => Kind::Choice,
        FieldType::Creator | FieldType::Modifier | FieldType::UserSelect => Kind::User,
        FieldType::CreatedTime | FieldType::UpdatedTime | FieldType::Datetime => Kind::Instant,
        FieldType::Date => Kind::Day,
        FieldType::Time => Kind::Clock,
    };
    Ok(Field {
        code: Some(f.code.clone()),
        ty: Some(f.ty),
        kind,
    })
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Gt => ">",
        Op::Lt => "<",
        Op::Ge => ">=",
        Op::Le => "<=",
    }
}

fn bad_op(code: &str, op: &str) -> KError {
    KError::query(format!(
        "フィールド「{code}」に対して演算子「{op}」は使用できません。"
    ))
}

struct Ctx<'a> {
    now: DateTime<Utc>,
    login: &'a str,
}

pub fn compile(app: &App, q: &Query, now: DateTime<Utc>, login: &str) -> KResult<Compiled> {
    let ctx = Ctx { now, login };
    let filter = q.filter.as_ref().map(|e| pred(app, e, &ctx)).transpose()?;
    let mut order = Vec::new();
    for (code, desc) in &q.order {
        let f = resolve(app, code)?;
        if matches!(f.kind, Kind::LongText)
            || matches!(f.ty, Some(FieldType::CheckBox | FieldType::MultiSelect))
        {
            return Err(KError::query(format!(
                "フィールド「{code}」でソートすることはできません。"
            )));
        }
        order.push((f, *desc));
    }
    Ok(Compiled {
        filter,
        order,
        limit: q.limit,
        offset: q.offset,
    })
}

fn pred(app: &App, e: &Expr, ctx: &Ctx) -> KResult<Pred> {
    Ok(match e {
        Expr::And(v) => Pred::And(
            v.iter()
                .map(|e| pred(app, e, ctx))
                .collect::<KResult<_>>()?,
        ),
        Expr::Or(v) => Pred::Or(
            v.iter()
                .map(|e| pred(app, e, ctx))
                .collect::<KResult<_>>()?,
        ),
        Expr::Cmp { field, op, value } => {
            let f = resolve(app, field)?;
            match f.kind {
                Kind::Id | Kind::Number => {
                    let n = number(field, value)?;
                    Pred::Num(f, *op, n)
                }
                Kind::Text if matches!(op, Op::Eq | Op::Ne) => {
                    Pred::Text(f, *op == Op::Ne, text(value, ctx))
                }
                Kind::Instant | Kind::Day | Kind::Clock => {
                    let (lo, hi) = bounds(f.kind, field, value, ctx)?;
                    Pred::Range(f, *op, lo, hi)
                }
                _ => return Err(bad_op(field, op_name(*op))),
            }
        }
        Expr::In {
            field,
            negate,
            values,
        } => {
            let f = resolve(app, field)?;
            let name = if *negate { "not in" } else { "in" };
            match f.kind {
                Kind::Id | Kind::Number | Kind::Text | Kind::Choice | Kind::User => {}
                _ => return Err(bad_op(field, name)),
            }
            let vals = values.iter().map(|v| text(v, ctx)).collect();
            Pred::In(f, *negate, vals)
        }
        Expr::Like {
            field,
            negate,
            value,
        } => {
            let f = resolve(app, field)?;
            if !matches!(f.kind, Kind::Text | Kind::LongText) {
                return Err(bad_op(field, if *negate { "not like" } else { "like" }));
            }
            Pred::Like(f, *negate, fold(value))
        }
        Expr::Empty { field, negate } => {
            let f = resolve(app, field)?;
            if matches!(f.kind, Kind::Id | Kind::User)
                || matches!(f.ty, Some(FieldType::CreatedTime | FieldType::UpdatedTime))
            {
                return Err(bad_op(field, "is empty"));
            }
            Pred::Empty(f, *negate)
        }
    })
}

fn fold(s: &str) -> String {
    if assumed::LIKE_IGNORES_ASCII_CASE {
        s.to_ascii_lowercase()
    } else {
        s.to_string()
    }
}

fn text(v: &Lit, ctx: &Ctx) -> String {
    match v {
        Lit::Str(s) | Lit::Bare(s) => s.clone(),
        Lit::Func(name, _) if name == "LOGINUSER" => ctx.login.to_string(),
        Lit::Func(name, _) => format!("{name}()"),
    }
}

fn number(code: &str, v: &Lit) -> KResult<f64> {
    match v {
        Lit::Str(s) | Lit::Bare(s) => s.trim().parse().map_err(|_| {
            KError::query(format!("フィールド「{code}」には数値を指定してください。"))
        }),
        Lit::Func(..) => Err(KError::query(format!(
            "フィールド「{code}」には関数を指定できません。"
        ))),
    }
}

/// A day range [from, to) for a date literal or a date function.
fn day_range(v: &Lit, ctx: &Ctx) -> Option<(NaiveDate, NaiveDate)> {
    let today = time::today(ctx.now);
    let one = |d: NaiveDate| Some((d, d + Duration::days(1)));
    match v {
        Lit::Str(s) | Lit::Bare(s) => time::parse_date(s).and_then(one),
        Lit::Func(name, args) => match name.as_str() {
            "TODAY" => one(today),
            "YESTERDAY" => one(today - Duration::days(1)),
            "TOMORROW" => one(today + Duration::days(1)),
            "FROM_TODAY" => {
                let n: i64 = args.first()?.parse().ok()?;
                let unit = args.get(1).map(|u| u.to_ascii_uppercase());
                let d = match unit.as_deref().unwrap_or("DAYS") {
                    "DAYS" => today + Duration::days(n),
                    "WEEKS" => today + Duration::weeks(n),
                    "MONTHS" => add_months(today, n)?,
                    "YEARS" => add_months(today, n * 12)?,
                    _ => return None,
                };
                one(d)
            }
            "THIS_WEEK" => {
                let start = today - Duration::days(today.weekday().num_days_from_sunday() as i64);
                Some((start, start + Duration::days(7)))
            }
            "THIS_MONTH" => month(today, 0),
            "LAST_MONTH" => month(today, -1),
            "NEXT_MONTH" => month(today, 1),
            "THIS_YEAR" => {
                let s = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
                Some((s, NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)?))
            }
            _ => None,
        },
    }
}

fn add_months(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    if n >= 0 {
        d.checked_add_months(Months::new(n as u32))
    } else {
        d.checked_sub_months(Months::new((-n) as u32))
    }
}

fn month(today: NaiveDate, delta: i64) -> Option<(NaiveDate, NaiveDate)> {
    let first = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)?;
    let s = add_months(first, delta)?;
    Some((s, add_months(s, 1)?))
}

fn bounds(kind: Kind, code: &str, v: &Lit, ctx: &Ctx) -> KResult<(i64, i64)> {
    let bad = || {
        KError::query(format!(
            "フィールド「{code}」に指定した日時の形式が正しくありません。"
        ))
    };
    match kind {
        Kind::Instant => {
            if let Lit::Func(n, _) = v {
                if n == "NOW" {
                    let t = time::truncate(ctx.now).timestamp();
                    return Ok((t, t + assumed::TIME_PRECISION_SECS));
                }
            }
            if let Lit::Str(s) | Lit::Bare(s) = v {
                if let Some(t) = time::parse_datetime(s) {
                    let t = t.timestamp();
                    return Ok((t, t + 1));
                }
            }
            let (a, b) = day_range(v, ctx).ok_or_else(bad)?;
            Ok((
                time::day_start(a).timestamp(),
                time::day_start(b).timestamp(),
            ))
        }
        Kind::Day => {
            let (a, b) = match v {
                Lit::Func(n, _) if n == "NOW" => day_range(&Lit::Func("TODAY".into(), vec![]), ctx),
                _ => day_range(v, ctx),
            }
            .ok_or_else(bad)?;
            Ok((days(a), days(b)))
        }
        _ => match v {
            Lit::Str(s) | Lit::Bare(s) => {
                let t = time::parse_time(s).ok_or_else(bad)?;
                let m = minutes(t);
                Ok((m, m + 1))
            }
            Lit::Func(..) => Err(bad()),
        },
    }
}

fn days(d: NaiveDate) -> i64 {
    d.num_days_from_ce() as i64
}

fn minutes(t: chrono::NaiveTime) -> i64 {
    use chrono::Timelike;
    (t.hour() * 60 + t.minute()) as i64
}

/// A record's value of a field, in the field's comparable form.
pub(super) enum Got<'a> {
    Int(i64),
    Str(&'a str),
    Owned(String),
    List(Vec<&'a str>),
    None,
}

pub(super) fn get<'a>(f: &Field, r: &'a Record) -> Got<'a> {
    let Some(code) = &f.code else {
        return Got::Int(r.id as i64);
    };
    match f.ty {
        Some(FieldType::RecordNumber) => Got::Int(r.id as i64),
        Some(FieldType::CreatedTime) => Got::Int(r.created_at.timestamp()),
        Some(FieldType::UpdatedTime) => Got::Int(r.updated_at.timestamp()),
        Some(FieldType::Creator) => Got::Str(&r.creator),
        Some(FieldType::Modifier) => Got::Str(&r.modifier),
        _ => match r.values.get(code) {
            Some(Value::String(s)) if s.is_empty() => Got::None,
            Some(Value::String(s)) => match f.kind {
                Kind::Instant => time::parse_datetime(s)
                    .map(|t| Got::Int(t.timestamp()))
                    .unwrap_or(Got::None),
                Kind::Day => time::parse_date(s)
                    .map(|d| Got::Int(days(d)))
                    .unwrap_or(Got::None),
                Kind::Clock => time::parse_time(s)
                    .map(|t| Got::Int(minutes(t)))
                    .unwrap_or(Got::None),
                _ => Got::Str(s),
            },
            Some(Value::Array(a)) if !a.is_empty() => {
                Got::List(a.iter().filter_map(|v| v.as_str()).collect())
            }
            Some(Value::Number(n)) => Got::Owned(n.to_string()),
            _ => Got::None,
        },
    }
}

pub(super) fn as_num(g: &Got) -> Option<f64> {
    match g {
        Got::Int(i) => Some(*i as f64),
        Got::Str(s) => s.trim().parse().ok(),
        Got::Owned(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn cmp_match(o: Ordering, op: Op) -> bool {
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Lt => o == Ordering::Less,
        Op::Ge => o != Ordering::Less,
        Op::Le => o != Ordering::Greater,
    }
}

fn range_match(v: i64, op: Op, lo: i64, hi: i64) -> bool {
    match op {
        Op::Eq => v >= lo && v < hi,
        Op::Ne => !(v >= lo && v < hi),
        Op::Gt => v >= hi,
        Op::Ge => v >= lo,
        Op::Lt => v < lo,
        Op::Le => v < hi,
    }
}

pub(super) fn matches(p: &Pred, r: &Record) -> bool {
    let empty_ok = assumed::NOT_EQUAL_MATCHES_EMPTY;
    match p {
        Pred::And(v) => v.iter().all(|p| matches(p, r)),
        Pred::Or(v) => v.iter().any(|p| matches(p, r)),
        Pred::Num(f, op, n) => match as_num(&get(f, r)) {
            Some(x) => x.partial_cmp(n).is_some_and(|o| cmp_match(o, *op)),
            None => *op == Op::Ne && empty_ok,
        },
        Pred::Range(f, op, lo, hi) => match get(f, r) {
            Got::Int(v) => range_match(v, *op, *lo, *hi),
            _ => *op == Op::Ne && empty_ok,
        },
        Pred::Text(f, negate, s) => match get(f, r) {
            Got::Str(v) => (v == s) != *negate,
            Got::Owned(v) => (v == *s) != *negate,
            _ => {
                if s.is_empty() {
                    !*negate
                } else {
                    *negate && empty_ok
                }
            }
        },
        Pred::In(f, negate, vals) => {
            let hit = match get(f, r) {
                Got::Int(i) => vals.iter().any(|v| v.trim().parse::<i64>().ok() == Some(i)),
                Got::Str(s) if f.kind == Kind::Number => {
                    let x: Option<f64> = s.trim().parse().ok();
                    vals.iter()
                        .any(|v| x.is_some() && v.trim().parse::<f64>().ok() == x)
                }
                Got::Str(s) => vals.iter().any(|v| v == s),
                Got::Owned(s) => vals.contains(&s),
                Got::List(l) => l.iter().any(|x| vals.iter().any(|v| v == x)),
                Got::None => vals.iter().any(|v| v.is_empty()),
            };
            if *negate {
                !hit && (empty_ok || !matches!(get(f, r), Got::None))
            } else {
                hit
            }
        }
        Pred::Like(f, negate, needle) => {
            let hit = match get(f, r) {
                Got::Str(s) => fold(s).contains(needle.as_str()),
                Got::Owned(s) => fold(&s).contains(needle.as_str()),
                _ => needle.is_empty(),
            };
            hit != *negate
        }
        Pred::Empty(f, negate) => matches!(get(f, r), Got::None) != *negate,
    }
}
