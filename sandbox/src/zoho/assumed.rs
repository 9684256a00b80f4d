//! Every choice the reference (reference/zoho-crm.md) marks *unconfirmed* or leaves open, in one
//! place so it can be corrected when the real behaviour is known.

use axum::http::StatusCode;

/// HTTP status of OAuth token errors (`{"error":"invalid_code"}`): reportedly 200 (§2,
/// third party, *unconfirmed*).
pub const TOKEN_ERROR_STATUS: StatusCode = StatusCode::OK;

/// Error value when the `redirect_uri` of a code exchange differs from the authorize request
/// (§2 lists `invalid_redirect_uri` as *unconfirmed*).
pub const ERR_INVALID_REDIRECT_URI: &str = "invalid_redirect_uri";

/// A refresh token that is unknown or revoked answers like an unknown code (not in §2).
pub const ERR_BAD_REFRESH_TOKEN: &str = "invalid_code";

/// Past 10 access tokens per refresh token in 10 minutes (§2). Body and status are not in the
/// reference; this is the shape Zoho is commonly reported to send.
pub const TOKEN_LIMIT_STATUS: StatusCode = StatusCode::BAD_REQUEST;
pub const TOKEN_LIMIT_ERROR: &str = "Access Denied";
pub const TOKEN_LIMIT_DESCRIPTION: &str =
    "You have made too many requests continuously. Please try again after some time.";

/// Revoking a refresh token also ends the access tokens minted from it (not in §2).
pub const REVOKE_ENDS_ACCESS_TOKENS: bool = true;

/// Without `prompt=consent`, a second offline grant for the same client and user gets no new
/// refresh token (§2: "add prompt=consent to get a new one").
pub const REFRESH_TOKEN_ONLY_WITH_CONSENT_AFTER_FIRST: bool = true;

/// HTTP status when every record of a bulk write failed: "probably 400" (§4, *unconfirmed*).
pub const ALL_FAILED_STATUS: StatusCode = StatusCode::BAD_REQUEST;

/// Upsert where every record succeeded: 201 if all were inserts, else 200 (§4 is silent).
pub const UPSERT_ALL_INSERTED_STATUS: StatusCode = StatusCode::CREATED;

/// Records per upsert call: ≤100 assumed (§4, *unconfirmed* for upsert).
pub const MAX_UPSERT: usize = 100;

/// Ids per DELETE call (§4, *unconfirmed*).
pub const MAX_DELETE_IDS: usize = 100;

/// How long a `page_token` lives: "commonly cited as 24 h" (§4, *unconfirmed*).
pub const PAGE_TOKEN_TTL_SECS: i64 = 24 * 3600;

/// Records reachable through `page_token` (§4: "up to 100,000 records").
pub const MAX_RECORDS_VIA_PAGE_TOKEN: usize = 100_000;

/// Error code when `page` goes past the first 2,000 records (§4 does not name one; we use the
/// §9 `LIMIT_EXCEEDED`).
pub const PAGE_LIMIT_CODE: &str = "LIMIT_EXCEEDED";

/// Default sort of a list: the §4 sample shows `sort_by=id`, `sort_order=desc`.
pub const DEFAULT_SORT_DESC: bool = true;

/// `If-Modified-Since` returns records modified strictly after the given time (§4 says
/// "only newer").
pub const IF_MODIFIED_SINCE_STRICT: bool = true;

/// Search comparators: v2 documents only these two; v8's others are *unconfirmed* (§5).
pub const SEARCH_COMPARATORS: &[&str] = &["equals", "starts_with"];

/// Results reachable through search: a 2,000 cap is *unconfirmed* (§5).
pub const MAX_SEARCH_RESULTS: usize = 2000;

/// Search and duplicate checks compare text case-insensitively (not in the reference).
pub const CASE_INSENSITIVE_MATCH: bool = true;

/// Deleted-records feed: `type` values (§4, *unconfirmed*); deletes through the API land in the
/// recycle bin, listed newest first.
pub const DELETED_TYPES: &[&str] = &["all", "recycle", "permanent"];

/// Writes ignore read-only system fields (Created_Time, Full_Name…) instead of failing, and
/// reject unknown field names with INVALID_DATA (the brief's choice; not in the reference).
pub const IGNORE_READ_ONLY_ON_WRITE: bool = true;

/// Picklists accept values outside `pick_list_values` (Zoho keeps unlisted API values).
pub const PICKLIST_ACCEPTS_UNLISTED: bool = true;

/// `Full_Name` of Contacts and Leads in a Japanese org: 姓 then 名, one half-width space.
pub fn full_name(last: &str, first: &str) -> String {
    match (last.trim(), first.trim()) {
        (l, "") => l.to_string(),
        ("", f) => f.to_string(),
        (l, f) => format!("{l} {f}"),
    }
}

/// The callback's `location` parameter: the emulator stands in for the JP data centre (§1).
pub const LOCATION: &str = "jp";

/// Offset of every datetime the API returns: the seeded users' time zone, Asia/Tokyo.
pub const UTC_OFFSET_SECS: i32 = 9 * 3600;

/// `GET /{module}/{id}` of an id that does not exist: 204 like an empty list (§4 is silent).
pub const MISSING_RECORD_STATUS: StatusCode = StatusCode::NO_CONTENT;

/// Search error code for malformed criteria: §5 lists it for COQL; search is assumed alike.
pub const BAD_CRITERIA_CODE: &str = "INVALID_QUERY";
