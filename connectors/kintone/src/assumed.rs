//! Choices resting on facts the reference (../shared/reference/kintone.md) marks *unconfirmed*,
//! or does not state at all. Each is kept here, in one place, so it can be corrected.

/// The page of one record in kintone's UI, after `{base}/k/{app}/` (`/k/guest/{space}/{app}/`
/// in a guest space): the address kintone's own screens use; the reference
/// (../shared/reference/kintone.md) covers the REST API only, so this is *unconfirmed* there.
/// The sandbox emulator serves no such page: the link opens only against a real kintone.
pub const RECORD_PAGE: &str = "show#record={id}";

/// Words in a field's code or label that make it the field naming a record (its title), in
/// this order of preference. kintone has an app setting for it (レコードタイトル) that the
/// reference does not describe, so the title is chosen from the form: the first field
/// naming a company or person, else the first unique one-line text, else the first one-line
/// text.
pub const TITLE_WORDS: &[&str] = &[
    "会社名",
    "顧客名",
    "取引先名",
    "氏名",
    "名前",
    "件名",
    "name",
];

/// Error codes that mean "the daily request limit of the app is used up". The reference says a
/// hard block is *unconfirmed* and names no code; these are matched before the HTTP status.
pub const DAILY_LIMIT_CODES: &[&str] = &["GAIA_DA03", "CB_DA01"];

/// Words in an error message that mean the same, for a 429/403 without a known code.
pub const DAILY_LIMIT_WORDS: &[&str] = &["daily", "1日", "一日"];

/// `GAIA_TM12` (too many live cursors, §4; the hub opens none, other tools may): cursors expire
/// 10 minutes after creation, so the hub waits this long before trying again.
pub const CURSOR_LIMIT_RETRY_MS: u64 = 60_000;

/// kintone keeps `更新日時` to the minute (values end in `:00Z`), so a watermark cannot be a
/// strict `>` bound: records updated later in the same minute would be missed. The read asks
/// `>=` the watermark and drops what it already delivered by (id, revision). This caps how many
/// such (id, revision) pairs a saved cursor carries; beyond it they are forgotten, which only
/// re-delivers those records once (the hub's fingerprints make that harmless).
pub const SEEN_CAP: usize = 2_000;

/// Upsert by `updateKey` (§3): the reference does not say whether the key field may also appear
/// in `record`. It is left out; kintone takes the key's value from `updateKey` for an insert.
pub const KEY_FIELD_IN_RECORD: bool = false;

/// Rounds of "drop the refused record, send the rest again" per write batch (a multi-record
/// call is all-or-nothing, §3/§5). Enough to halve a call of 100 records down to one refused
/// record kintone did not name (7 halvings) and send the rest. Ops still unsent after this get
/// a retryable error.
pub const MAX_WRITE_ROUNDS: usize = 10;
