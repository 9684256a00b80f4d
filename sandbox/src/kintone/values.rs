//! A record write checked and turned into the stored record (reference §3, §7): value shapes per
//! field type, options, required and unique fields, lookups copying their mapped fields, and the
//! system fields kept up to date. Errors use the keys kintone uses, e.g.
//! `records[3].会社名.value`.

use super::assumed;
use super::auth::Caller;
use super::error::{KError, KResult};
use super::model::{App, FieldDef, FieldType, Lookup, Record, Store, Values};
use super::time;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What one record write needs besides its input.
pub struct WriteCtx<'a> {
    pub store: &'a Store,
    pub caller: &'a Caller,
    pub now: DateTime<Utc>,
}

/// The empty value of a field in its wire shape.
pub fn empty_value(ty: FieldType) -> Value {
    match ty {
        FieldType::CheckBox | FieldType::MultiSelect | FieldType::UserSelect => json!([]),
        FieldType::DropDown | FieldType::Date | FieldType::Time => Value::Null,
        _ => Value::String(String::new()),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err("文字列を指定してください。".into()),
    }
}

fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let digits = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    match s.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(s),
    }
}

/// An input value in the field's stored shape, or the message of why not.
pub fn convert(def: &FieldDef, v: &Value) -> Result<Value, String> {
    match def.ty {
        FieldType::SingleLineText
        | FieldType::MultiLineText
        | FieldType::RichText
        | FieldType::Link => text(v).map(Value::String),
        FieldType::Number => {
            let s = text(v)?.trim().to_string();
            if s.is_empty() || is_decimal(&s) {
                Ok(Value::String(s))
            } else {
                Err("数字でなければなりません。".into())
            }
        }
        FieldType::DropDown | FieldType::RadioButton => {
            let s = text(v)?;
            if s.is_empty() {
                return Ok(if def.ty == FieldType::RadioButton {
                    def.default_value.clone()
                } else {
                    Value::Null
                });
            }
            if def.options.contains(&s) {
                Ok(Value::String(s))
            } else {
                Err(format!("「{s}」は選択肢にありません。"))
            }
        }
        FieldType::CheckBox | FieldType::MultiSelect => {
            let items = match v {
                Value::Null => return Ok(json!([])),
                Value::Array(a) => a,
                _ => return Err("配列を指定してください。".into()),
            };
            let mut out = Vec::new();
            for i in items {
                let s = text(i)?;
                if !def.options.contains(&s) {
                    return Err(format!("「{s}」は選択肢にありません。"));
                }
                out.push(Value::String(s));
            }
            Ok(Value::Array(out))
        }
        // Stored as login names; the caller checks that each user exists.
        FieldType::UserSelect => {
            let items = match v {
                Value::Null => return Ok(json!([])),
                Value::Array(a) => a,
                _ => return Err("配列を指定してください。".into()),
            };
            let mut out = Vec::new();
            for i in items {
                match i.get("code").and_then(Value::as_str) {
                    Some(c) if !c.is_empty() => out.push(Value::String(c.to_string())),
                    _ => return Err("ユーザーのコードを指定してください。".into()),
                }
            }
            Ok(Value::Array(out))
        }
        FieldType::Date => {
            let s = text(v)?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            time::parse_date(&s)
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| "日付の形式が正しくありません（YYYY-MM-DD）。".into())
        }
        FieldType::Time => {
            let s = text(v)?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            time::parse_time(&s)
                .map(|t| Value::String(t.format("%H:%M").to_string()))
                .ok_or_else(|| "時刻の形式が正しくありません（HH:MM）。".into())
        }
        FieldType::Datetime => {
            let s = text(v)?;
            if s.trim().is_empty() {
                return Ok(Value::String(String::new()));
            }
            datetime_input(&s)
                .map(|t| Value::String(time::fmt(time::truncate(t))))
                .ok_or_else(|| "日時の形式が正しくありません。".into())
        }
        // System fields are handled by the caller.
        _ => Ok(v.clone()),
    }
}

/// With an offset, or UTC when there is none.
fn datetime_input(s: &str) -> Option<DateTime<Utc>> {
    time::parse_datetime(s).or_else(|| time::parse_datetime(&format!("{}Z", s.trim())))
}

/// Checks one record write and returns the record to store. `existing` is the current record
/// for an update; `id` the id the record gets (its own on update).
pub fn build(
    ctx: &WriteCtx,
    app: &App,
    existing: Option<&Record>,
    input: Option<&Value>,
    prefix: &str,
    id: u64,
) -> KResult<Record> {
    let empty = Map::new();
    let input = match input {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(o)) => o,
        Some(_) => {
            return Err(KError::invalid(
                prefix,
                "レコードの形式が正しくありません。",
            ))
        }
    };
    let adding = existing.is_none();
    let mut values = match existing {
        Some(r) => r.values.clone(),
        None => app
            .fields
            .iter()
            .filter(|f| !f.ty.is_system())
            .map(|f| {
                let d = convert(f, &f.default_value).unwrap_or_else(|_| empty_value(f.ty));
                (Arc::from(f.code.as_str()), d)
            })
            .collect(),
    };
    let now = time::truncate(ctx.now);
    let mut rec = Record {
        id,
        revision: existing.map(|r| r.revision + 1).unwrap_or(1),
        created_at: existing.map(|r| r.created_at).unwrap_or(now),
        updated_at: now,
        creator: existing
            .map(|r| r.creator.clone())
            .unwrap_or_else(|| ctx.caller.code().to_string()),
        modifier: ctx.caller.code().to_string(),
        values: Default::default(),
    };
    let mut errors = Map::new();
    let mut err = |code: &str, msg: String| {
        errors.insert(
            format!("{prefix}.{code}.value"),
            json!({ "messages": [msg] }),
        );
    };
    let mut touched = Vec::new();
    for (code, fv) in input {
        let Some(def) = app.field(code) else {
            if assumed::IGNORE_UNKNOWN_FIELDS {
                continue;
            }
            err(code, "存在しないフィールドです。".into());
            continue;
        };
        let Some(v) = fv.as_object().and_then(|o| o.get("value")) else {
            err(code, "値を {\"value\": …} の形で指定してください。".into());
            continue;
        };
        if def.ty.is_system() {
            // Creation metadata may be set when adding (data migration); otherwise ignored.
            if adding {
                set_system(&mut rec, def.ty, v, ctx.store).unwrap_or_else(|m| err(code, m));
            }
            continue;
        }
        match convert(def, v) {
            Ok(c) if def.ty == FieldType::UserSelect && unknown_user(ctx.store, &c).is_some() => {
                let who = unknown_user(ctx.store, &c).unwrap_or_default();
                err(
                    code,
                    format!("指定したユーザー（コード：{who}）が見つかりません。"),
                );
            }
            Ok(c) => {
                values.insert(code, c);
                touched.push(code.clone());
            }
            Err(m) => err(code, m),
        }
    }
    for def in app.fields.iter().filter(|f| f.lookup.is_some()) {
        if let Some(lk) = &def.lookup {
            if adding && !is_empty(values.get(&def.code).unwrap_or(&Value::Null))
                || touched.contains(&def.code)
            {
                apply_lookup(ctx, app, def, lk, &mut values)?;
            }
        }
    }
    for def in &app.fields {
        if def.ty.is_system() {
            continue;
        }
        let v = values.get(&def.code).cloned().unwrap_or(Value::Null);
        if def.required && is_empty(&v) && (adding || touched.contains(&def.code)) {
            err(&def.code, "必須です。".into());
        }
        if def.unique {
            if let Some(s) = v.as_str().filter(|s| !s.trim().is_empty()) {
                if app
                    .find_unique(&def.code, s)
                    .is_some_and(|other| other != id)
                {
                    err(&def.code, "値がほかのレコードと重複しています。".into());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(KError::invalid_all(errors));
    }
    rec.values = values;
    Ok(rec)
}

/// The first login name of a USER_SELECT value that is no user of the domain.
fn unknown_user(store: &Store, v: &Value) -> Option<String> {
    v.as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|c| !store.users.iter().any(|u| u.code == *c))
        .map(str::to_string)
}

fn set_system(rec: &mut Record, ty: FieldType, v: &Value, store: &Store) -> Result<(), String> {
    match ty {
        FieldType::CreatedTime | FieldType::UpdatedTime => {
            let Some(s) = v.as_str().filter(|s| !s.is_empty()) else {
                return Ok(());
            };
            let t = datetime_input(s).ok_or("日時の形式が正しくありません。")?;
            let t = time::truncate(t);
            if ty == FieldType::CreatedTime {
                rec.created_at = t;
            } else {
                rec.updated_at = t;
            }
        }
        FieldType::Creator | FieldType::Modifier => {
            let Some(code) = v.get("code").and_then(|c| c.as_str()) else {
                return Ok(());
            };
            if !store.users.iter().any(|u| u.code == code) {
                return Err(format!("ユーザー「{code}」が見つかりません。"));
            }
            if ty == FieldType::Creator {
                rec.creator = code.to_string();
            } else {
                rec.modifier = code.to_string();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Sets the lookup's mapped fields from the related record its key value names; clears them
/// when the key is empty.
fn apply_lookup(
    ctx: &WriteCtx,
    app: &App,
    def: &FieldDef,
    lk: &Lookup,
    values: &mut Values,
) -> KResult<()> {
    let key = values
        .get(&def.code)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .trim()
        .to_string();
    let mapped = |values: &mut Values, src: Option<(&App, &Record)>| {
        for (to, from) in &lk.field_mappings {
            let Some(to_def) = app.field(to) else {
                continue;
            };
            let v = match src {
                None => empty_value(to_def.ty),
                Some((rel, r)) => match rel.field(from).map(|f| f.ty) {
                    Some(FieldType::RecordNumber) => Value::String(r.id.to_string()),
                    _ => r
                        .values
                        .get(from)
                        .cloned()
                        .unwrap_or_else(|| empty_value(to_def.ty)),
                },
            };
            values.insert(to, v);
        }
    };
    if key.is_empty() {
        mapped(values, None);
        return Ok(());
    }
    let no_match = || {
        KError::of(
            assumed::LOOKUP_NO_MATCH,
            format!(
                "フィールド「{}」の値「{key}」が、ルックアップの参照先のフィールドにないか、またはアプリやフィールドの閲覧権限がありません。",
                def.code
            ),
        )
    };
    if !ctx.caller.can_view(ctx.store, lk.related_app) {
        return Err(no_match());
    }
    let rel = ctx.store.apps.get(&lk.related_app).ok_or_else(no_match)?;
    let id = match rel.field(&lk.related_key_field).map(|f| f.ty) {
        Some(FieldType::RecordNumber) => key.parse::<u64>().ok(),
        _ => rel.find_unique(&lk.related_key_field, &key),
    };
    let r = id.and_then(|i| rel.records.get(&i)).ok_or_else(no_match)?;
    mapped(values, Some((rel, r)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_decimal_strings() {
        let f = FieldDef::new("売上高", FieldType::Number);
        assert_eq!(convert(&f, &json!(1200)), Ok(json!("1200")));
        assert_eq!(convert(&f, &json!("-12.50")), Ok(json!("-12.50")));
        assert_eq!(convert(&f, &json!("")), Ok(json!("")));
        assert!(convert(&f, &json!("12a")).is_err());
        assert!(convert(&f, &json!("1.")).is_err());
    }

    #[test]
    fn datetimes_are_stored_in_utc() {
        let f = FieldDef::new("日時", FieldType::Datetime);
        assert_eq!(
            convert(&f, &json!("2024-04-01T09:30:45+09:00")),
            Ok(json!("2024-04-01T00:30:00Z"))
        );
        assert_eq!(
            convert(&f, &json!("2024-04-01T09:30")),
            Ok(json!("2024-04-01T09:30:00Z"))
        );
    }
}
