//! Every shape of the 奉行クラウド API emulator in one place. The real API reference is not
//! public (reference/obc.md §3): what follows is the emulator design of reference/obc.md §4 and
//! is *assumed* unless a comment says where it was seen. Correct it here when a partner
//! contract shows the real thing.

use axum::http::StatusCode;
use serde_json::{json, Value};

/// Seen in third-party client code (reference §3).
pub const SUBSCRIPTION_KEY_HEADER: &str = "X-OBC-SubscriptionKey";
/// Seen in third-party code; required on every call but the token API and SearchTenant (§3).
pub const TENANT_HEADER: &str = "X-OBC-TenantID";

/// OAuth endpoints. Only `/oauth2/token` was seen (§3); the authorize host and path are unknown.
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
/// Where the OBCiD login form and the consent form post (browser pages, no API headers).
pub const LOGIN_PATH: &str = "/oauth2/login";
pub const CONSENT_PATH: &str = "/oauth2/consent";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const SEARCH_TENANT_PATH: &str = "/mg/SearchTenant";
/// Whether the token API refuses a call without the subscription key. Unconfirmed (reference §2–3
/// name the key for API calls only); an OAuth client sends just the RFC 6749 form fields, so a
/// missing key is accepted here while a wrong one is still refused.
pub const TOKEN_NEEDS_SUBSCRIPTION_KEY: bool = false;

/// Token lifetimes (§4). Refresh tokens are single-use and rotate on every refresh.
pub const ACCESS_TOKEN_TTL_SECS: i64 = 3600;
pub const REFRESH_TOKEN_TTL_DAYS: i64 = 30;
pub const CODE_TTL_SECS: i64 = 600;
/// The browser's OBCiD sign-in cookie on the authorize pages.
pub const OBCID_SESSION_COOKIE: &str = "OBCID_SESSION";

/// Token bucket per tenant (§4): this many requests a minute, bursting to the same number.
pub const RATE_LIMIT_PER_MINUTE: u32 = 60;

/// Export paging: `{"conditions":{…},"page":1,"pageSize":100}` (page is 1-based).
pub const DEFAULT_PAGE_SIZE: u64 = 100;
pub const MAX_PAGE_SIZE: u64 = 1000;
/// Rows per import request.
pub const MAX_IMPORT_ITEMS: usize = 1000;
/// Export conditions every entity accepts. `updatedSince` is strict (`updatedAt` > value).
pub const CONDITIONS: &[&str] = &[
    "code",
    "codeFrom",
    "codeTo",
    "name",
    "updatedSince",
    "includeDeleted",
];
/// Written by the server on every import; read-only for clients.
pub const UPDATED_AT: &str = "updatedAt";

/// Import modes.
pub const MODES: &[&str] = &["insert", "update", "upsert"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Business key: a string of ASCII letters and digits, leading zeros kept.
    Code {
        max: usize,
    },
    Text {
        max: usize,
    },
    /// フリガナ: katakana (full or half width), alphanumerics, spaces and a little punctuation.
    Kana {
        max: usize,
    },
    PostalCode,
    Tel,
    Email,
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// `yyyy-MM-dd`.
    Date,
    /// The code of a live record of another entity of the same tenant.
    Ref(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    /// Needed when a record is created.
    pub required: bool,
}

const fn f(name: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        kind,
        required,
    }
}

#[derive(Debug)]
pub struct Entity {
    /// Route module: `sdmm` was seen (§3); `hr` is **fictional** (HR module names are not public).
    pub module: &'static str,
    /// `export{name}` / `import{name}`.
    pub name: &'static str,
    pub label: &'static str,
    pub fields: &'static [Field],
    /// The flag that hides a record from exports unless `includeDeleted` is true.
    pub deleted_flag: Option<&'static str>,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// 取引先 (得意先) master, `/sdmm/exportCustomer` and `/sdmm/importCustomer` (paths seen, §3).
pub const CUSTOMER: Entity = Entity {
    module: "sdmm",
    name: "Customer",
    label: "取引先",
    fields: &[
        f("code", Kind::Code { max: 13 }, true),
        f("name", Kind::Text { max: 60 }, true),
        f("nameKana", Kind::Kana { max: 60 }, false),
        f("postalCode", Kind::PostalCode, false),
        f("address1", Kind::Text { max: 60 }, false),
        f("address2", Kind::Text { max: 60 }, false),
        f("tel", Kind::Tel, false),
        f("fax", Kind::Tel, false),
        f("email", Kind::Email, false),
        // 締日: 1–31, 31 meaning 末日.
        f("closingDay", Kind::Int { min: 1, max: 31 }, false),
        f("deleted", Kind::Bool, false),
    ],
    deleted_flag: Some("deleted"),
};

/// 社員 master under the **fictional** module `hr`.
pub const EMPLOYEE: Entity = Entity {
    module: "hr",
    name: "Employee",
    label: "社員",
    fields: &[
        f("code", Kind::Code { max: 10 }, true),
        f("name", Kind::Text { max: 40 }, true),
        f("nameKana", Kind::Kana { max: 40 }, false),
        f("departmentCode", Kind::Ref("Department"), false),
        f("email", Kind::Email, false),
        f("joinDate", Kind::Date, false),
        f("retired", Kind::Bool, false),
    ],
    deleted_flag: None,
};

/// 部門 master under the **fictional** module `hr`, so 社員 department codes can be checked.
pub const DEPARTMENT: Entity = Entity {
    module: "hr",
    name: "Department",
    label: "部門",
    fields: &[
        f("code", Kind::Code { max: 10 }, true),
        f("name", Kind::Text { max: 40 }, true),
        f("deleted", Kind::Bool, false),
    ],
    deleted_flag: Some("deleted"),
};

pub const ENTITIES: &[&Entity] = &[&CUSTOMER, &EMPLOYEE, &DEPARTMENT];

pub fn entity(name: &str) -> Option<&'static Entity> {
    ENTITIES.iter().copied().find(|e| e.name == name)
}

/// Gateway and API errors: APIM's default body `{"statusCode","message"}` (*unconfirmed* for
/// OBC, §4).
pub fn error_body(status: StatusCode, message: &str) -> Value {
    json!({"statusCode": status.as_u16(), "message": message})
}

pub const MSG_MISSING_KEY: &str = "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
pub const MSG_INVALID_KEY: &str = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";
pub const MSG_NO_TOKEN: &str = "Unauthorized. Access token is missing or invalid.";
pub const MSG_EXPIRED_TOKEN: &str = "Unauthorized. Access token has expired.";
pub const MSG_NO_TENANT: &str = "X-OBC-TenantID header is required.";
pub const MSG_BAD_TENANT: &str = "The tenant does not exist or is not accessible by this user.";

pub fn msg_rate_limited(secs: u64) -> String {
    format!("Rate limit is exceeded. Try again in {secs} seconds.")
}

/// Token API errors follow RFC 6749 §5.2: `{"error","error_description"}`.
pub fn oauth_error(error: &str, description: &str) -> Value {
    json!({"error": error, "error_description": description})
}

/// Import row messages (Japanese, as the product shows them).
pub mod msg {
    pub fn required(field: &str) -> String {
        format!("{field} は必須です。")
    }
    pub fn code_not_string() -> String {
        "code は文字列で指定してください（先頭の0を保持するため）。".into()
    }
    pub fn invalid(field: &str, why: &str) -> String {
        format!("{field} の値が正しくありません（{why}）。")
    }
    pub fn too_long(field: &str, max: usize) -> String {
        format!("{field} は{max}文字以内で入力してください。")
    }
    pub fn unknown_field(field: &str) -> String {
        format!("{field} は不明な項目です。")
    }
    pub fn already_exists(code: &str) -> String {
        format!("コード {code} は既に登録されています。")
    }
    pub fn not_found(code: &str) -> String {
        format!("コード {code} は登録されていません。")
    }
    pub fn missing_ref(field: &str, code: &str) -> String {
        format!("{field} に指定されたコード {code} は登録されていません。")
    }
}
