//! App metadata (reference §8): `app.json`, `apps.json` (password auth only) and
//! `app/form/fields.json` with field properties, including the lookup definition.

use super::assumed;
use super::auth::{Caller, Perm};
use super::error::{KError, KResult};
use super::model::{App, FieldDef, FieldType, Store};
use super::params::{as_id, Params};
use super::records::Env;
use super::time;
use serde_json::{json, Map, Value};

const APPS_LIMIT_MAX: u64 = 100;

fn app_json(store: &Store, a: &App) -> Value {
    let user = |code: &str| json!({"code": code, "name": store.user_name(code)});
    let admin = store.users.first().map(|u| u.code.as_str()).unwrap_or("");
    json!({
        "appId": a.id.to_string(),
        "code": a.code,
        "name": a.name,
        "description": a.description,
        "spaceId": a.space_id.map(|s| s.to_string()),
        "threadId": a.thread_id.map(|s| s.to_string()),
        "createdAt": time::fmt(a.created_at),
        "creator": user(admin),
        "modifiedAt": time::fmt(a.modified_at),
        "modifier": user(admin),
    })
}

pub fn get_app(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    let id = p.id("id")?;
    let a = env.caller.app(store, id, env.space, Perm::View)?;
    Ok(app_json(store, a))
}

pub fn get_apps(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    if let Caller::Tokens(_) = env.caller {
        return Err(KError::of(
            assumed::TOKEN_NO_PERMISSION,
            "このAPIはAPIトークン認証では実行できません。",
        ));
    }
    let ids: Vec<u64> = p.array("ids").iter().filter_map(as_id).collect();
    let codes = p.strings("codes");
    let space_ids: Vec<u64> = p.array("spaceIds").iter().filter_map(as_id).collect();
    let name = p.str("name").unwrap_or_default();
    let limit = p.opt_id("limit")?.unwrap_or(APPS_LIMIT_MAX);
    if !(1..=APPS_LIMIT_MAX).contains(&limit) {
        return Err(KError::invalid(
            "limit",
            format!("1以上{APPS_LIMIT_MAX}以下の値を指定してください。"),
        ));
    }
    let offset = p.opt_id("offset")?.unwrap_or(0);
    let apps: Vec<Value> = store
        .apps
        .values()
        .filter(|a| ids.is_empty() || ids.contains(&a.id))
        .filter(|a| codes.is_empty() || codes.contains(&a.code))
        .filter(|a| space_ids.is_empty() || a.space_id.is_some_and(|s| space_ids.contains(&s)))
        .filter(|a| name.is_empty() || a.name.contains(&name))
        .skip(offset as usize)
        .take(limit as usize)
        .map(|a| app_json(store, a))
        .collect();
    Ok(json!({ "apps": apps }))
}

fn options(f: &FieldDef) -> Value {
    let mut m = Map::new();
    for (i, o) in f.options.iter().enumerate() {
        m.insert(o.clone(), json!({"label": o, "index": i.to_string()}));
    }
    Value::Object(m)
}

/// One entry of `properties`, with the attributes the field type has.
pub fn property(store: &Store, f: &FieldDef) -> Value {
    let mut p = json!({
        "type": f.ty.wire(),
        "code": f.code,
        "label": f.label,
        "noLabel": false,
    });
    if f.ty.is_system() {
        return p;
    }
    p["required"] = json!(f.required);
    match f.ty {
        FieldType::SingleLineText | FieldType::Link | FieldType::Number => {
            p["unique"] = json!(f.unique);
            p["defaultValue"] = f.default_value.clone();
            p["minLength"] = json!("");
            p["maxLength"] = json!("");
        }
        FieldType::DropDown
        | FieldType::RadioButton
        | FieldType::CheckBox
        | FieldType::MultiSelect => {
            p["options"] = options(f);
            p["defaultValue"] = f.default_value.clone();
            if matches!(f.ty, FieldType::RadioButton | FieldType::CheckBox) {
                p["align"] = json!("HORIZONTAL");
            }
        }
        FieldType::Date | FieldType::Datetime => {
            p["unique"] = json!(f.unique);
            p["defaultValue"] = f.default_value.clone();
            p["defaultNowValue"] = json!(false);
        }
        _ => {
            p["defaultValue"] = f.default_value.clone();
        }
    }
    match f.ty {
        FieldType::SingleLineText => {
            p["expression"] = json!("");
            p["hideExpression"] = json!(false);
        }
        FieldType::Number => {
            p["digit"] = json!(true);
            p["displayScale"] = json!("");
            p["minValue"] = json!("");
            p["maxValue"] = json!("");
            p["unit"] = json!(f.unit);
            p["unitPosition"] = json!("AFTER");
        }
        FieldType::Link => p["protocol"] = json!("WEB"),
        _ => {}
    }
    if let Some(lk) = &f.lookup {
        let code = store
            .apps
            .get(&lk.related_app)
            .map(|a| a.code.clone())
            .unwrap_or_default();
        p["lookup"] = json!({
            "relatedApp": {"app": lk.related_app.to_string(), "code": code},
            "relatedKeyField": lk.related_key_field,
            "fieldMappings": lk.field_mappings.iter()
                .map(|(to, from)| json!({"field": to, "relatedField": from}))
                .collect::<Vec<_>>(),
            "lookupPickerFields": lk.picker_fields,
            "filterCond": "",
            "sort": "レコード番号 desc",
        });
    }
    p
}

/// `lang` is accepted and ignored: labels are Japanese.
pub fn form_fields(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    let a = env.app(store, p, Perm::View)?;
    let mut props = Map::new();
    for f in &a.fields {
        props.insert(f.code.clone(), property(store, f));
    }
    Ok(json!({"properties": props, "revision": a.form_revision.to_string()}))
}

/// `PUT preview/app/form/fields.json` `{"app", "properties": {code: {"required", "label"}}}`:
/// changes settings of existing fields (an administrator unticking 必須項目 so that a customer
/// may have no 会社名). The emulator keeps one form, so the change applies at once and
/// `preview/app/deploy.json` only answers; an API token needs edit permission here (kintone:
/// アプリ管理). Answers the new form revision.
pub fn update_fields(store: &mut Store, env: &Env, p: &Params) -> KResult<Value> {
    let id = env.app(store, p, Perm::Edit)?.id;
    let props = p
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| KError::invalid("properties", "必須です。"))?;
    let flag = |v: &Value| match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    let Some(app) = store.apps.get_mut(&id) else {
        return Err(KError::invalid("app", "no such app"));
    };
    for (code, change) in &props {
        let key = format!("properties.{code}");
        let Some(def) = app.fields.iter().find(|f| f.code == *code) else {
            return Err(KError::invalid(key, "指定したフィールドが見つかりません。"));
        };
        if def.ty.is_system() {
            return Err(KError::invalid(key, "このフィールドは変更できません。"));
        }
        if let Some(v) = change.get("required") {
            if flag(v).is_none() {
                return Err(KError::invalid(
                    format!("{key}.required"),
                    "true または false を指定してください。",
                ));
            }
        }
    }
    for (code, change) in &props {
        if let Some(def) = app.fields.iter_mut().find(|f| f.code == *code) {
            if let Some(b) = change.get("required").and_then(flag) {
                def.required = b;
            }
            if let Some(l) = change.get("label").and_then(Value::as_str) {
                def.label = l.to_string();
            }
        }
    }
    app.form_revision += 1;
    Ok(json!({"revision": app.form_revision.to_string()}))
}

/// `POST preview/app/deploy.json`: the form changes already apply (see `update_fields`).
pub fn deploy(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    for a in p.array("apps") {
        let id = a
            .get("app")
            .and_then(as_id)
            .ok_or_else(|| KError::invalid("apps", "必須です。"))?;
        env.caller.app(store, id, env.space, Perm::Edit)?;
    }
    Ok(json!({}))
}

/// `app/form/layout.json`: the non-system fields two to a row, in form order (cli-kintone
/// orders its CSV columns by it).
pub fn form_layout(store: &Store, env: &Env, p: &Params) -> KResult<Value> {
    let a = env.app(store, p, Perm::View)?;
    let cells: Vec<Value> = a
        .fields
        .iter()
        .filter(|f| !f.ty.is_system())
        .map(|f| {
            let mut size = json!({"width": "240"});
            if matches!(f.ty, FieldType::MultiLineText | FieldType::RichText) {
                size["innerHeight"] = json!("120");
            }
            json!({"type": f.ty.wire(), "code": f.code, "label": f.label, "size": size})
        })
        .collect();
    let rows: Vec<Value> = cells
        .chunks(2)
        .map(|c| json!({"type": "ROW", "fields": c}))
        .collect();
    Ok(json!({"layout": rows, "revision": a.form_revision.to_string()}))
}
