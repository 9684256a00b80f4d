//! Every choice the reference (reference/kintone.md) marks *unconfirmed*, or does not cover, in
//! one place so it can be corrected when the real behaviour is known.

use axum::http::StatusCode;
use chrono_tz::Tz;

/// The user's time zone: date-only literals (`"2024-04-01"`, `TODAY()`) compared with DATETIME
/// fields cover that day in this zone.
pub const USER_TZ: Tz = chrono_tz::Asia::Tokyo;

/// GAIA_IA02: 400 as in the newer CLI tests (older ones saw 520). Also answered when none of
/// several tokens belongs to the app, and for an app that does not exist under token auth.
pub const TOKEN_OTHER_APP: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "GAIA_IA02");
/// A token without the permission an API needs, and API tokens on `apps.json`.
pub const TOKEN_NO_PERMISSION: (StatusCode, &str) = (StatusCode::FORBIDDEN, "GAIA_NO01");
/// App not found (password auth).
pub const APP_NOT_FOUND: (StatusCode, &str) = (StatusCode::NOT_FOUND, "GAIA_AP01");
/// updateKey matched no record.
pub const UPDATE_KEY_NO_MATCH: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "GAIA_RE20");
/// A guest-space app called without the guest path, or through another space's path.
pub const GUEST_PATH: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "GAIA_IL23");
/// More than 10 live cursors in the domain.
pub const CURSOR_LIMIT: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "GAIA_TM12");
/// Unknown, expired, deleted or fully read cursor (code not in the reference).
pub const CURSOR_NOT_FOUND: (StatusCode, &str) = (StatusCode::NOT_FOUND, "GAIA_CU01");
/// Invalid JSON body.
pub const INVALID_JSON: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "CB_IJ01");
/// A lookup value with no match in the related app, or a related app the caller may not read
/// (code not in the reference).
pub const LOOKUP_NO_MATCH: (StatusCode, &str) = (StatusCode::BAD_REQUEST, "GAIA_LO04");
/// Revision mismatch: 409 per third-party clients.
pub const REVISION_CONFLICT: (StatusCode, &str) = (StatusCode::CONFLICT, "GAIA_CO02");

/// Codes in the bodies of injected faults; the reference leaves them unconfirmed, so they are
/// plainly the sandbox's own and clients must go by the HTTP status.
pub fn fault_code(status: StatusCode) -> &'static str {
    match status.as_u16() {
        429 => "SANDBOX_TOO_MANY_REQUESTS",
        503 => "SANDBOX_UNAVAILABLE",
        _ => "SANDBOX_SERVER_ERROR",
    }
}

/// Field codes in a write that the app does not have are ignored, not rejected.
pub const IGNORE_UNKNOWN_FIELDS: bool = true;

/// `order by f` without a direction sorts ascending; ties (and the default order) fall back to
/// `$id` descending. Empty values sort before any value.
pub const DEFAULT_ORDER_DESC: bool = false;

/// DATETIME, CREATED_TIME and UPDATED_TIME keep minutes only: seconds are always `00`, so an
/// incremental reader must use `>=` on the updated time.
pub const TIME_PRECISION_SECS: i64 = 60;

/// `like` matches a substring, ignoring ASCII case.
pub const LIKE_IGNORES_ASCII_CASE: bool = true;

/// `!=` and `not in` match records whose value is empty; other comparisons do not.
pub const NOT_EQUAL_MATCHES_EMPTY: bool = true;

/// A cursor GET that leaves records to read moves the expiry to 10 minutes from then.
pub const CURSOR_TTL_SECS: i64 = 600;

/// A bulkRequest that fails answers with the failing entry's status.
pub const BULK_FAILURE_USES_ENTRY_STATUS: bool = true;

/// Who API-token writes are recorded as.
pub const TOKEN_USER: (&str, &str) = ("Administrator", "Administrator");
