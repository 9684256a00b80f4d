//! Records, reads and writes: what flows between the hub and a connector.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ConnectorError;

/// Field values keyed by field id. Numbers are decimal strings.
pub type Fields = Map<String, Value>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// Revision or modified stamp the API uses for optimistic locking.
    #[serde(default)]
    pub version: Option<String>,
    /// RFC 3339.
    #[serde(default)]
    pub modified_at: Option<String>,
    /// Private records (Notes confidential entries…) never leave their system.
    #[serde(default)]
    pub private: bool,
    /// A tombstone from the API's deleted-records feed.
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub fields: Fields,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadRequest {
    pub object: String,
    /// Opaque position returned by a previous page; `None` starts from `since` (or the beginning).
    #[serde(default)]
    pub cursor: Option<String>,
    /// RFC 3339: only records modified after this (first-run window).
    #[serde(default)]
    pub since: Option<String>,
    /// At most the manifest's `read_page_size`.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// Restrict the fields returned; `None` means all.
    #[serde(default)]
    pub fields: Option<Vec<String>>,
    /// The flow's values of the object's `read_options`, checked by the hub against them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
    /// Newest first (modification time, then id, both descending): a first run capped to the
    /// newest N records of its window. A connector that honours it says so in
    /// [`ReadPage::newest_first`]; its `next_cursor` then only continues this listing and is never
    /// saved. One that does not (older plugins ignore the field) answers in its usual order and
    /// the hub keeps the newest N itself.
    #[serde(default, skip_serializing_if = "is_false")]
    pub newest_first: bool,
    /// Also answer [`ReadPage::total`], how many records the request matches in all (the
    /// estimate of a full import), when the system can tell cheaply (kintone `totalCount`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub count: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadPage {
    pub records: Vec<Record>,
    /// Where the next read starts. Saved by the hub once the page is processed, so it must
    /// still be valid in a later run (an incremental watermark, not only a session handle).
    pub next_cursor: Option<String>,
    /// More records are waiting after `next_cursor` now.
    pub has_more: bool,
    /// Source rows that could not become records (a CSV line that does not parse, a value that
    /// cannot be decoded): each is recorded as a failed record in the run's history.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<RecordIssue>,
    /// Records handed over all the same that a person should look at (a user-defined character
    /// kept as a private-use code point): the run stays a success and lists each one. Absent in
    /// older plugins' pages (serde default), so hub and plugin may differ in this.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<RecordWarning>,
    /// The page honours [`ReadRequest::newest_first`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub newest_first: bool,
    /// Records the request matches in all, when it asked ([`ReadRequest::count`]) and the
    /// system can tell; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Cursors of the pages after this one, in order, when the connector knows them before
    /// reading (`ahead[0]` is `next_cursor`; reading `ahead[i]` answers a page whose
    /// `next_cursor` is `ahead[i + 1]`). The hub may read them at once, within the manifest's
    /// `max_concurrency`; a page whose `next_cursor` differs from what was foretold ends the
    /// read-ahead, and the hub goes on from that page's own cursor.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ahead: Vec<String>,
}

/// A source row the connector could not read, named so that a person can find and fix it
/// (e.g. record `"取引先.csv:12"`, code `unencodable_character`, message naming the column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordIssue {
    pub record: String,
    pub code: String,
    pub message: String,
}

/// Something to look at in a record that was read (see [`ReadPage::warnings`]). The hub words
/// it from its catalogue by `code` and `params`; `message` is the connector's own text, shown
/// when the hub has no words for the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordWarning {
    /// The record's id, as in [`Record::id`].
    pub record: String,
    /// Stable, e.g. `gaiji` (a 外字 in a 奉行 CSV).
    pub code: String,
    /// Where and what, for the message: e.g. `file`, `line`, `column`, `header`, `char_code`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// Japanese / English.
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteRequest {
    pub object: String,
    pub ops: Vec<WriteOp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOp {
    /// Chosen by the hub and echoed in the result.
    pub op_id: String,
    pub action: WriteAction,
    /// The target's id when the record is already linked.
    #[serde(default)]
    pub id: Option<String>,
    /// Find the record by a unique field when no id is known (upsert).
    #[serde(default)]
    pub match_key: Option<MatchKey>,
    /// Optimistic lock: fail with `conflict` if the record's version moved.
    #[serde(default)]
    pub expected_version: Option<String>,
    #[serde(default)]
    pub fields: Fields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteAction {
    /// Update `id` if given, else the record matching `match_key`, else create.
    Upsert,
    /// Create only: never touches an existing record.
    Create,
    /// Update `id`, else the record matching `match_key`; never creates (outcome `error`,
    /// kind `not_found`, when there is none).
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchKey {
    pub field: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteResult {
    pub op_id: String,
    pub outcome: WriteOutcome,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub modified_at: Option<String>,
    #[serde(default)]
    pub error: Option<ConnectorError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteOutcome {
    Created,
    Updated,
    Unchanged,
    Deleted,
    /// The record changed since `expected_version`.
    Conflict,
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Who or what the connection reached, shown after 接続テスト (e.g. "app 12 顧客管理 as Administrator").
    pub account: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_are_optional_on_the_wire() {
        // A page from a plugin built before warnings existed.
        let old: ReadPage =
            serde_json::from_str(r#"{"records":[],"next_cursor":null,"has_more":false}"#).unwrap();
        assert!(old.warnings.is_empty());
        let none = serde_json::to_string(&ReadPage::default()).unwrap();
        assert!(!none.contains("warnings"), "{none}");
        let page = ReadPage {
            warnings: vec![RecordWarning {
                record: "000123".into(),
                code: "gaiji".into(),
                params: [("line".to_string(), "3".to_string())].into(),
                message: "外字 / user-defined character".into(),
            }],
            ..Default::default()
        };
        let back: ReadPage = serde_json::from_str(&serde_json::to_string(&page).unwrap()).unwrap();
        assert_eq!(back, page);
    }
}
