//! Incremental reads: changed records by `Modified_Time` ascending with `If-Modified-Since`,
//! then the `/deleted` feed as tombstones, one bounded page per call (see `cursor.rs`).

use chrono::{DateTime, Duration, Utc};
use connector_sdk::{ConnectorError, ErrorKind, ReadPage, ReadRequest, Record};
use serde_json::{Map, Value};

use crate::assumed;
use crate::cursor::{content_key, format_time, Cursor, Feed, Phase, Sweep};
use crate::http::{status_error, Answer, Api};
use crate::manifest::READ_PAGE_SIZE;
use crate::metadata::{FieldCache, FieldMeta, NAME_SUFFIX};
use crate::values::from_zoho;

const MODIFIED_TIME: &str = "Modified_Time";

/// A page of a listing: the new items, whether the listing is finished, the server's `Date`.
type Page = (Vec<Map<String, Value>>, bool, Option<String>);

pub fn read(api: &Api, cache: &FieldCache, req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
    let mut cursor = match &req.cursor {
        Some(c) => Cursor::decode(c)?,
        None => Cursor::initial(req.since.as_deref())?,
    };
    let per_page = req
        .page_size
        .unwrap_or(READ_PAGE_SIZE)
        .clamp(1, READ_PAGE_SIZE);
    let module = &req.object;
    let (records, has_more) = match cursor.phase {
        Phase::Records => {
            let fields = match &req.fields {
                Some(wanted) => choose_fields(&[], Some(wanted))?,
                None => choose_fields(&cache.fields(api, module)?, None)?,
            };
            let query = vec![
                ("fields", fields.join(",")),
                ("sort_by", MODIFIED_TIME.to_string()),
                ("sort_order", "asc".to_string()),
            ];
            let (items, done, date) = page(api, module, &query, &mut cursor.records, per_page)?;
            if cursor.deleted.mark.is_none() {
                // First read: deletions before it cannot concern anything the hub linked.
                cursor.deleted.mark = Some(first_deleted_mark(date.as_deref()));
            }
            if done {
                cursor.phase = Phase::Deleted;
            }
            (items.iter().filter_map(record).collect(), true)
        }
        Phase::Deleted => {
            let path = format!("{module}/deleted");
            let query = vec![("type", assumed::DELETED_TYPE.to_string())];
            let (items, done, _) = page(api, &path, &query, &mut cursor.deleted, per_page)?;
            if done {
                cursor.phase = Phase::Records;
            }
            (items.iter().filter_map(tombstone).collect(), !done)
        }
    };
    Ok(ReadPage {
        records,
        next_cursor: Some(cursor.encode()),
        has_more,
        issues: Vec::new(),
        ..Default::default()
    })
}

/// The `fields` parameter (mandatory, at most 50): the requested ones (a lookup's `.name`
/// comes with the lookup), or, when none are named, `Modified_Time`, then the required and
/// unique fields, then the others in metadata order, up to 50.
pub fn choose_fields(
    meta: &[FieldMeta],
    wanted: Option<&[String]>,
) -> Result<Vec<String>, ConnectorError> {
    let mut out = vec![MODIFIED_TIME.to_string()];
    let mut push = |name: &str| {
        let name = name
            .strip_suffix(NAME_SUFFIX)
            .or_else(|| name.strip_suffix(crate::values::EMAIL_SUFFIX))
            .unwrap_or(name);
        if name != "id" && !name.starts_with('$') && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    };
    match wanted {
        Some(list) => {
            list.iter().for_each(|n| push(n));
            if out.len() > assumed::MAX_FIELDS_PER_CALL {
                return Err(ConnectorError::new(
                    ErrorKind::InvalidSettings,
                    format!(
                        "Zoho CRM returns at most {} fields per read; {} were asked (with Modified_Time)",
                        assumed::MAX_FIELDS_PER_CALL,
                        out.len()
                    ),
                )
                .with_ja(format!(
                    "Zoho CRM から一度に読める項目は {} 個までです。マッピングする項目を減らしてください",
                    assumed::MAX_FIELDS_PER_CALL
                )));
            }
        }
        None => {
            meta.iter()
                .filter(|f| f.required || f.unique)
                .for_each(|f| push(&f.api_name));
            meta.iter().for_each(|f| push(&f.api_name));
            out.truncate(assumed::MAX_FIELDS_PER_CALL);
        }
    }
    Ok(out)
}

/// One page of a feed's listing; moves the listing on (or finishes it into the watermark).
fn page(
    api: &Api,
    path: &str,
    query: &[(&str, String)],
    feed: &mut Feed,
    per_page: u32,
) -> Result<Page, ConnectorError> {
    let mut restarted = false;
    loop {
        let sweep = match &feed.sweep {
            Some(s) => s.clone(),
            None => {
                let s = feed.start_sweep(per_page);
                feed.sweep = Some(s.clone());
                s
            }
        };
        let answer = list(api, path, query, &sweep)?;
        if answer.status == 400 {
            if sweep.page_token.is_some()
                && assumed::is_stale_page_token(answer.status)
                && !restarted
            {
                // The saved listing expired: keep the watermark, list again from it.
                feed.finish_sweep();
                restarted = true;
                continue;
            }
            return Err(status_error(answer.status, &answer.body, None));
        }
        return take_page(feed, sweep, answer);
    }
}

fn take_page(feed: &mut Feed, mut sweep: Sweep, answer: Answer) -> Result<Page, ConnectorError> {
    let data: Vec<Map<String, Value>> = answer
        .body
        .get("data")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_object().cloned()).collect())
        .unwrap_or_default();
    let info = answer.body.get("info");
    let more = !data.is_empty()
        && info
            .and_then(|i| i.get("more_records"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let next_token = info
        .and_then(|i| i.get("next_page_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let mut fresh = Vec::with_capacity(data.len());
    for item in data {
        let Some(id) = id_of(&item) else { continue };
        let stamp = stamp_of(&item);
        let content = content_key(&item);
        if feed.is_new(&id, stamp.as_deref(), &content) {
            sweep.note(&id, stamp.as_deref(), &content);
            fresh.push(item);
        }
    }
    let next_page = sweep.page + 1;
    let by_number = sweep.page_token.is_none()
        && u64::from(next_page) * u64::from(sweep.per_page) <= u64::from(assumed::PAGE_REACH);
    let done = if !more {
        feed.sweep = Some(sweep);
        feed.finish_sweep();
        true
    } else if by_number {
        sweep.page = next_page;
        feed.sweep = Some(sweep);
        false
    } else if let Some(token) = next_token {
        sweep.page_token = Some(token);
        feed.sweep = Some(sweep);
        false
    } else {
        // Past 2,000 without a token: start a new listing from what was reached so far.
        let before = feed.mark.clone();
        feed.sweep = Some(sweep);
        feed.finish_sweep();
        if feed.mark == before {
            return Err(ConnectorError::new(
                ErrorKind::Unsupported,
                "Zoho CRM gave no page_token past 2,000 records, and they all share one Modified_Time",
            )
            .with_code("no_page_token")
            .with_ja("2,000件を超える読み取りで Zoho CRM が page_token を返しませんでした"));
        }
        false
    };
    Ok((fresh, done, answer.date))
}

fn list(
    api: &Api,
    path: &str,
    query: &[(&str, String)],
    sweep: &Sweep,
) -> Result<Answer, ConnectorError> {
    let mut q: Vec<(&str, String)> = query.to_vec();
    q.push(("per_page", sweep.per_page.to_string()));
    // `page` and `page_token` are never sent together.
    match &sweep.page_token {
        Some(t) => q.push(("page_token", t.clone())),
        None => q.push(("page", sweep.page.to_string())),
    }
    api.get_or_400(path, &q, sweep.since.as_deref())
}

fn id_of(item: &Map<String, Value>) -> Option<String> {
    match item.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn stamp_of(item: &Map<String, Value>) -> Option<String> {
    std::iter::once(MODIFIED_TIME)
        .chain(assumed::DELETED_TIME_KEYS.iter().copied())
        .find_map(|k| item.get(k).and_then(Value::as_str))
        .map(str::to_string)
}

fn record(item: &Map<String, Value>) -> Option<Record> {
    let stamp = stamp_of(item);
    Some(Record {
        id: id_of(item)?,
        version: stamp
            .as_deref()
            .map(|s| assumed::record_version(s, &content_key(item))),
        modified_at: stamp,
        private: false,
        deleted: false,
        fields: from_zoho(item),
    })
}

fn tombstone(item: &Map<String, Value>) -> Option<Record> {
    Some(Record {
        id: id_of(item)?,
        version: None,
        modified_at: stamp_of(item),
        private: false,
        deleted: true,
        fields: Default::default(),
    })
}

/// The deleted feed's first watermark: the server's clock (else ours) minus a margin.
fn first_deleted_mark(date: Option<&str>) -> String {
    let now = date
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .unwrap_or_else(|| Utc::now().fixed_offset());
    format_time(&(now - Duration::seconds(assumed::FIRST_READ_DELETED_MARGIN_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_param_keeps_the_watermark_field_and_the_limit() {
        let wanted: Vec<String> = vec![
            "Account_Name.name".into(),
            "Phone".into(),
            "Account_Name".into(),
        ];
        assert_eq!(
            choose_fields(&[], Some(&wanted)).unwrap(),
            vec!["Modified_Time", "Account_Name", "Phone"]
        );
        let many: Vec<String> = (0..60).map(|i| format!("F{i}")).collect();
        assert_eq!(
            choose_fields(&[], Some(&many)).unwrap_err().kind,
            ErrorKind::InvalidSettings
        );
    }

    #[test]
    fn first_deleted_mark_comes_from_the_server_clock() {
        assert_eq!(
            first_deleted_mark(Some("Tue, 07 Jan 2025 10:00:00 GMT")),
            "2025-01-07T09:55:00+00:00"
        );
    }
}
