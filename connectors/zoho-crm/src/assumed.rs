//! Choices resting on facts the reference marks *unconfirmed* or *assumed*, or that it does not
//! state at all. Each is kept here, in one place, so it can be corrected when confirmed.

/// Fields that name a record to a person, in order of preference; the first the module has
/// (as text, not a lookup) is its title (`Account_Name` of Accounts, `Full_Name` or
/// `Last_Name` of Contacts and Leads). The reference lists no "record name" per module; these
/// are the modules' usual name fields. A module with none of them takes its first required
/// text field.
pub const TITLE_FIELDS: &[&str] = &[
    "Account_Name",
    "Deal_Name",
    "Full_Name",
    "Last_Name",
    "Subject",
    "Product_Name",
    "Vendor_Name",
    "Campaign_Name",
    "Price_Book_Name",
    "Solution_Title",
    "Name",
];

/// The page of one record in Zoho CRM's web UI: `https://{web host}/crm/tab/{module}/{id}`,
/// the web host being the API domain's with `www.zohoapis` replaced by `crm.zoho` (JP:
/// `https://crm.zoho.jp`). *Unconfirmed*: the reference covers the API only, and the real UI
/// may add `/org{id}` (it redirects to the user's org). An API domain that is not Zoho's (the
/// sandbox emulator) gives no link.
pub const RECORD_PAGE: &str = "/crm/tab/{module}/{id}";
pub const API_HOST_PREFIX: &str = "https://www.zohoapis.";
pub const WEB_HOST_PREFIX: &str = "https://crm.zoho.";

/// Concurrency per org per app: Free 5, Standard 10, Professional 15 (reference §10). The hub
/// cannot know the edition, so it keeps to the Standard figure.
pub const MAX_CONCURRENCY: u32 = 10;

/// API credits per rolling 24 h per org. The base of every paid edition is 50,000 (+ per-user
/// credits), reference §10; a Free org (5,000) would see 429s earlier, which the hub backs off.
pub const DAILY_CREDITS: u64 = 50_000;

/// `page` reaches only this many records of one listing; past it `page_token` is needed (§4).
pub const PAGE_REACH: u32 = 2_000;

/// `fields` accepts at most this many names per list call (§4).
pub const MAX_FIELDS_PER_CALL: usize = 50;

/// `type` of `GET /{module}/deleted`: the value names are *unconfirmed* (§4); `all` is asked so
/// that both recycle-bin and permanently deleted records are reported.
pub const DELETED_TYPE: &str = "all";

/// Field names of an entry of `GET /{module}/deleted`, tried in order. The reference does not
/// give the entry shape; Zoho's public docs show `id` and `deleted_time`.
pub const DELETED_TIME_KEYS: &[&str] = &["deleted_time", "Deleted_Time", "Modified_Time"];

/// What a `page_token` the server no longer accepts looks like. The reference gives no error
/// code for an expired token (a cursor saved by the hub may outlive its ~24 h lifetime), so any
/// 400 answer to a `page_token` request restarts the listing from the watermark instead.
pub fn is_stale_page_token(status: u16) -> bool {
    status == 400
}

/// Overlap subtracted from a watermark before it is sent as `If-Modified-Since`: the reference
/// does not say whether the bound is inclusive, and times have one-second resolution, so the
/// read re-asks the last second and drops what it already reported (by id).
pub const WATERMARK_OVERLAP_SECS: i64 = 1;

/// On the first read without `since`, deletions older than this before the server's clock are
/// not reported: nothing the hub has linked can have been deleted before its first read.
pub const FIRST_READ_DELETED_MARGIN_SECS: i64 = 300;

/// Most ids kept in a cursor for records sharing the watermark's second; beyond this the next
/// run may report some of them again (harmless: the hub's fingerprints see them unchanged).
pub const MAX_IDS_AT_MARK: usize = 1_000;

/// System duplicate-check fields per module (reference §4, from Zoho's "Kaizen 56"). Metadata
/// may not flag them `unique`, but upsert matches on them, so the schema marks them unique.
pub const SYSTEM_DUPLICATE_CHECK: &[(&str, &str)] = &[
    ("Leads", "Email"),
    ("Contacts", "Email"),
    ("Accounts", "Account_Name"),
    ("Deals", "Deal_Name"),
    ("Campaigns", "Campaign_Name"),
    ("Products", "Product_Name"),
    ("Vendors", "Vendor_Name"),
    ("Price_Books", "Price_Book_Name"),
    ("Solutions", "Solution_Title"),
    ("Cases", "Subject"),
    ("Quotes", "Subject"),
    ("Sales_Orders", "Subject"),
    ("Purchase_Orders", "Subject"),
    ("Invoices", "Subject"),
];

/// JSON pointer, in the sandbox announcement, of one emulated org's OAuth client and
/// pre-minted refresh token (`client_id`, `client_secret`, `refresh_token` below it). Follows
/// the emulator's `credentials.zoho.orgs` array (org A first, then org B).
pub fn sandbox_org_pointer(index: usize) -> String {
    format!("/credentials/zoho/orgs/{index}")
}

/// A record's version as the hub compares it to recognise its own writes. Zoho CRM keeps no
/// revision number, and `Modified_Time` has one-second resolution: a record edited again in
/// the second the hub wrote or read it keeps its stamp. So a version is the stamp plus a digest
/// of the record as read, and a write answers no version (its answer holds no content); the hub
/// then compares fingerprints, which tells an edit from its own write.
pub fn record_version(stamp: &str, content: &str) -> String {
    format!("{stamp}@{content}")
}
