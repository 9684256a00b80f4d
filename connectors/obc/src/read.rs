//! Reading a master page by page: `export{Entity}` with `updatedSince` from the cursor's
//! watermark and `codeFrom` after the last code reported (the API lists in code order).

use chrono::{DateTime, Duration, Utc};
use connector_sdk::{ConnectorError, ErrorKind, ReadPage, ReadRequest, RecordIssue};
use serde_json::{json, Map, Value};

use crate::assumed::{self, Entity};
use crate::cursor::Cursor;
use crate::http::Api;
use crate::manifest::READ_PAGE_SIZE;
use crate::tenant::Tenant;
use crate::values;

/// One answer of an export call.
pub struct Exported {
    pub items: Vec<Map<String, Value>>,
    pub has_next: bool,
    pub total: u64,
    pub date: Option<DateTime<Utc>>,
}

/// The first page of `conditions` (callers page by code, not by page number).
pub fn export(
    api: &Api<'_>,
    tenant: &Tenant,
    e: &Entity,
    conditions: Map<String, Value>,
    page_size: u32,
) -> Result<Exported, ConnectorError> {
    let body = json!({"conditions": conditions, "page": 1, "pageSize": page_size});
    let answer = api.post(&e.export_path(), Some(&tenant.id), &body)?;
    let items = answer
        .body
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Internal,
                format!("export{} answered without an items list", e.name),
            )
            .with_ja(format!(
                "奉行クラウドから{}の一覧を取得できませんでした",
                e.ja
            ))
        })?
        .iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
    Ok(Exported {
        items,
        has_next: answer
            .body
            .get("hasNext")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        total: answer
            .body
            .get("totalCount")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        date: answer.date,
    })
}

pub fn entity_of(object: &str) -> Result<&'static Entity, ConnectorError> {
    assumed::entity(object).ok_or_else(|| {
        let known: Vec<&str> = assumed::ENTITIES.iter().map(|e| e.object).collect();
        ConnectorError::new(
            ErrorKind::NotFound,
            format!(
                "the 奉行 connector has no object '{object}'; it has {}",
                known.join(", ")
            ),
        )
        .with_code("unknown_object")
        .with_ja(format!(
            "奉行コネクタにオブジェクト「{object}」はありません"
        ))
    })
}

fn code_of(item: &Map<String, Value>) -> Option<String> {
    item.get(assumed::CODE).and_then(values::code_text)
}

pub fn read(api: &Api<'_>, tenant: &Tenant, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
    let e = entity_of(&req.object)?;
    let cursor = Cursor::start(req.cursor.as_deref(), req.since.as_deref())?;
    let size = req
        .page_size
        .unwrap_or(READ_PAGE_SIZE)
        .clamp(1, assumed::MAX_PAGE_SIZE);
    let mut conditions = Map::new();
    if let Some(since) = &cursor.since {
        conditions.insert(assumed::COND_UPDATED_SINCE.into(), json!(since));
        // Changes include soft deletes, reported as tombstones; a full read lists live records.
        if e.deleted_flag.is_some() {
            conditions.insert(assumed::COND_INCLUDE_DELETED.into(), json!(true));
        }
    }
    // `codeFrom` is inclusive: ask one more and drop the code already reported.
    let ask = match &cursor.after {
        Some(after) => {
            conditions.insert(assumed::COND_CODE_FROM.into(), json!(after));
            (size + 1).min(assumed::MAX_PAGE_SIZE)
        }
        None => size,
    };
    let page = export(api, tenant, e, conditions, ask)?;
    let now = page
        .date
        .unwrap_or_else(|| Utc::now() - Duration::seconds(assumed::CLOCK_SKEW_SECS));
    let mut items: Vec<Map<String, Value>> = page
        .items
        .into_iter()
        .filter(|i| match (&cursor.after, code_of(i)) {
            (Some(after), Some(code)) => code > *after,
            _ => true,
        })
        .collect();
    let more_here = items.len() > size as usize;
    items.truncate(size as usize);
    let last = items.iter().rev().find_map(code_of);
    let mut records = Vec::with_capacity(items.len());
    let mut issues = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match values::to_record(e, item) {
            Some(r) => records.push(r),
            None => issues.push(RecordIssue {
                record: format!("{}#{}", e.object, i + 1),
                code: "missing_code".into(),
                message: format!(
                    "a {} row without a code was skipped / コードのない{}を読み飛ばしました",
                    e.en, e.ja
                ),
            }),
        }
    }
    let (has_more, next) = match last {
        Some(code) if more_here || page.has_next => (true, cursor.next_page(now, &code)),
        _ => (false, cursor.next_pass(now)?),
    };
    Ok(ReadPage {
        records,
        next_cursor: Some(next.encode()),
        has_more,
        issues,
        ..Default::default()
    })
}
