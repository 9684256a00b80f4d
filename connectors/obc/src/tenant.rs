//! The 法人 (tenant) a connection works in: found with SearchTenant by the `tenant_id` setting
//! (its id, code or name), or the first one the OBCiD may use when the setting is empty. Kept
//! per API, token and setting for the life of the process, so a run asks once.

use connector_sdk::{Connection, ConnectorError, ErrorKind};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;

use crate::assumed;
use crate::http::Api;
use crate::manifest::TENANT_ID;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub code: String,
    pub name: String,
}

impl Tenant {
    fn from_json(v: &Value) -> Option<Tenant> {
        let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let id = text("id");
        (!id.is_empty()).then(|| Tenant {
            id,
            code: text("code"),
            name: text("name"),
        })
    }

    /// `OBC商事株式会社 (OBCSJ00001)`, or the name alone when the code is empty.
    pub fn label(&self) -> String {
        if self.code.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.code)
        }
    }
}

type Key = (String, u64, String);

#[derive(Default)]
pub struct TenantCache {
    known: Mutex<HashMap<Key, Tenant>>,
}

impl TenantCache {
    pub fn resolve(&self, api: &Api<'_>, conn: &Connection) -> Result<Tenant, ConnectorError> {
        let wanted = conn.setting(TENANT_ID).unwrap_or_default();
        let (base, token) = api.identity();
        let key = (base, token, wanted.clone());
        if let Some(t) = lock(&self.known).get(&key) {
            return Ok(t.clone());
        }
        let t = choose(&search(api)?, &wanted)?;
        lock(&self.known).insert(key, t.clone());
        Ok(t)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Every 法人 the signed-in OBCiD may use.
pub fn search(api: &Api<'_>) -> Result<Vec<Tenant>, ConnectorError> {
    let answer = api.post(assumed::SEARCH_TENANT_PATH, None, &json!({}))?;
    let list = answer.body.as_array().ok_or_else(|| {
        ConnectorError::new(
            ErrorKind::Internal,
            "SearchTenant did not answer a list of companies",
        )
        .with_ja("奉行クラウドから法人の一覧を取得できませんでした")
    })?;
    Ok(list.iter().filter_map(Tenant::from_json).collect())
}

/// The tenant the setting names (id, then code, then name), or the first when it is empty.
pub fn choose(list: &[Tenant], wanted: &str) -> Result<Tenant, ConnectorError> {
    let wanted = wanted.trim();
    if wanted.is_empty() {
        return list.first().cloned().ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::PermissionDenied,
                "this OBCiD may use no company (法人) through the API",
            )
            .with_code("no_tenant")
            .with_ja("サインインした OBCiD で API から使える法人がありません。奉行クラウドの利用者設定を確認してください")
        });
    }
    let found = list
        .iter()
        .find(|t| t.id == wanted)
        .or_else(|| {
            list.iter()
                .find(|t| !t.code.is_empty() && t.code.eq_ignore_ascii_case(wanted))
        })
        .or_else(|| list.iter().find(|t| t.name == wanted));
    found.cloned().ok_or_else(|| {
        let names: Vec<String> = list.iter().map(Tenant::label).collect();
        ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!(
                "company '{wanted}' is not one this OBCiD may use; available: {}",
                names.join(", ")
            ),
        )
        .with_code("unknown_tenant")
        .with_ja(format!(
            "法人「{wanted}」は見つかりません。使える法人: {}",
            names.join("、")
        ))
        .with_field(TENANT_ID)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: &str, code: &str, name: &str) -> Tenant {
        Tenant {
            id: id.into(),
            code: code.into(),
            name: name.into(),
        }
    }

    #[test]
    fn empty_setting_takes_the_first_and_others_match_id_code_or_name() {
        let list = vec![
            t("a-1", "OBC01", "OBC商事株式会社"),
            t("b-2", "", "サンプル工業株式会社"),
        ];
        assert_eq!(choose(&list, "").unwrap().id, "a-1");
        assert_eq!(choose(&list, "b-2").unwrap().id, "b-2");
        assert_eq!(choose(&list, "obc01").unwrap().id, "a-1");
        assert_eq!(choose(&list, "サンプル工業株式会社").unwrap().id, "b-2");
        let e = choose(&list, "nothing").unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidSettings, Some(TENANT_ID))
        );
        assert!(e.message.contains("OBC商事株式会社 (OBC01)"));
        assert_eq!(
            choose(&[], "").unwrap_err().kind,
            ErrorKind::PermissionDenied
        );
    }
}
