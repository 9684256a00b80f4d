//! A capped first run (`options.initial_max_records`): the newest records of its window, read
//! newest first where the connector can and handed to the run page by page.

use connector_sdk::{ReadPage, ReadRequest, Record};

use super::client::ConnectorClient;
use super::Fatal;

/// The newest records of a capped first run's window, handed to the run page by page.
pub(super) struct Newest {
    records: std::vec::IntoIter<Record>,
    issues: Vec<connector_sdk::RecordIssue>,
    warnings: Vec<connector_sdk::RecordWarning>,
    /// When the capped run began (RFC 3339): reads go on from then.
    pub(super) began: String,
}

impl Newest {
    pub(super) fn next_page(&mut self, size: usize) -> ReadPage {
        let records: Vec<Record> = self.records.by_ref().take(size.max(1)).collect();
        let has_more = self.records.len() > 0;
        ReadPage {
            records,
            // The last page's cursor is when the run began (see `oneway::CappedLedger`); the
            // others are empty, never saved.
            next_cursor: Some(if has_more {
                String::new()
            } else {
                self.began.clone()
            }),
            has_more,
            issues: std::mem::take(&mut self.issues),
            warnings: std::mem::take(&mut self.warnings),
            ..Default::default()
        }
    }
}

/// Reads a first run's window newest first up to `cap` records. A connector that honours
/// `newest_first` is read only that far (kintone: `order by 更新日時 desc, $id desc`); from one
/// that does not, the whole window is read and the newest `cap` kept here.
pub(super) async fn newest_of_window(
    source: &mut ConnectorClient,
    spec: &hub_domain::FlowSpec,
    fields: Option<Vec<String>>,
    since: Option<String>,
    cap: u64,
) -> Result<Newest, Fatal> {
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let page_size = source.limits.read_page_size.max(1);
    let mut kept: Vec<Record> = Vec::new();
    let mut issues = Vec::new();
    let mut warnings = Vec::new();
    let mut cursor: Option<String> = None;
    let mut honoured: Option<bool> = None;
    loop {
        let size = match honoured {
            Some(false) => page_size,
            _ => page_size.min(u32::try_from(cap - kept.len()).unwrap_or(u32::MAX).max(1)),
        };
        let req = ReadRequest {
            options: spec.filters.source_options.clone(),
            object: spec.source.object.clone(),
            since: if cursor.is_none() {
                since.clone()
            } else {
                None
            },
            cursor: cursor.clone(),
            page_size: Some(size),
            fields: fields.clone(),
            newest_first: true,
            ..Default::default()
        };
        let mut page = source.read_page("source", req).await?;
        honoured = Some(page.newest_first);
        issues.append(&mut page.issues);
        warnings.append(&mut page.warnings);
        kept.append(&mut page.records);
        if page.newest_first && kept.len() >= cap {
            break;
        }
        if !page.newest_first && kept.len() > cap.saturating_mul(2).max(1000) {
            newest_first(&mut kept);
            kept.truncate(cap);
        }
        if !page.has_more || page.next_cursor.is_none() {
            break;
        }
        cursor = page.next_cursor;
    }
    if honoured != Some(true) {
        newest_first(&mut kept);
    }
    kept.truncate(cap);
    Ok(Newest {
        records: kept.into_iter(),
        issues,
        warnings,
        began: String::new(),
    })
}

/// Newest modification first, then the larger id (numbers by value).
fn newest_first(records: &mut [Record]) {
    let stamp = |r: &Record| {
        r.modified_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis())
    };
    let id = |r: &Record| (r.id.parse::<u64>().ok(), r.id.clone());
    records.sort_by_key(|r| std::cmp::Reverse((stamp(r), id(r))));
}
