//! Every shape of the 奉行クラウド API this connector relies on. The API reference is given only to
//! contracted partners (reference/obc.md §3), so what follows is the header names and paths seen
//! in third-party code plus the emulator design of reference §4, which is *assumed*. Correct it
//! here, in one place, when a partner contract shows the real thing.

/// Seen in third-party client code (reference §3).
pub const SUBSCRIPTION_KEY_HEADER: &str = "X-OBC-SubscriptionKey";
/// Seen in third-party code; sent on every call but SearchTenant (reference §3).
pub const TENANT_HEADER: &str = "X-OBC-TenantID";

/// OAuth endpoints relative to the connection's `base_url`. Only `/oauth2/token` was seen; the
/// authorize host and path are *unconfirmed* (reference §2).
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
pub const TOKEN_PATH: &str = "/oauth2/token";

/// Lists the 法人 the signed-in OBCiD may use: `[{"id","code","name","nameKana","memo"}]`.
pub const SEARCH_TENANT_PATH: &str = "/mg/SearchTenant";

/// Rate limit per tenant (reference §4: token bucket, e.g. 60 a minute). The manifest paces the
/// hub to it; a 429 still comes back as `rate_limited` with its `Retry-After`.
pub const REQUESTS_PER_MINUTE: u32 = 60;

/// Export paging: `{"conditions":{…},"page":1,"pageSize":n}` → `{"items","totalCount","hasNext"}`.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// Rows per import request: `{"items":[…],"mode":"insert|update|upsert"}`.
pub const MAX_IMPORT_ITEMS: u32 = 1000;
/// Import modes used: `insert` refuses an existing code, `update` a missing one.
pub const MODE_INSERT: &str = "insert";
pub const MODE_UPDATE: &str = "update";

/// Export conditions (reference §4). `updatedSince` is taken as strict (`updatedAt > value`) and
/// `codeFrom` / `codeTo` as inclusive bounds in the API's code order (plain string order).
pub const COND_CODE: &str = "code";
pub const COND_CODE_FROM: &str = "codeFrom";
pub const COND_CODE_TO: &str = "codeTo";
pub const COND_UPDATED_SINCE: &str = "updatedSince";
pub const COND_INCLUDE_DELETED: &str = "includeDeleted";

/// Server-written modification stamp of every record (RFC 3339, whole seconds).
pub const UPDATED_AT: &str = "updatedAt";
/// The business key of every master: a string, leading zeros kept.
pub const CODE: &str = "code";
/// The field naming a record of every master (取引先名, 氏名).
pub const NAME: &str = "name";

/// `updatedAt` has whole seconds and `updatedSince` is strict, so the next pass asks again from
/// one second before the previous pass started: a record changed in that second is read twice
/// (harmless, the hub's fingerprints see it unchanged), never lost.
pub const WATERMARK_OVERLAP_SECS: i64 = 1;
/// When an answer carries no `Date` header, the pass start is taken from the local clock less
/// this much, for clock skew between this host and the API.
pub const CLOCK_SKEW_SECS: i64 = 300;

/// A write first reads the records it will touch by one `codeFrom`–`codeTo` range; when that
/// range holds more than this many records, it reads them one `code` at a time instead.
pub const PREREAD_RANGE_MAX: u64 = 3000;

/// API field types as the connector converts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Kana,
    PostalCode,
    Phone,
    Email,
    /// A JSON integer in the API, a decimal string in the SDK.
    Int,
    Bool,
    /// `yyyy-MM-dd`.
    Date,
    /// RFC 3339; written by the server only.
    Stamp,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    pub kind: Kind,
    /// Needed when a record is created.
    pub required: bool,
}

const fn f(
    name: &'static str,
    ja: &'static str,
    en: &'static str,
    kind: Kind,
    required: bool,
) -> Field {
    Field {
        name,
        ja,
        en,
        kind,
        required,
    }
}

/// One master the connector offers as an object.
#[derive(Debug)]
pub struct Entity {
    /// The SDK object id.
    pub object: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    /// Route module: `sdmm` was seen (reference §3); `hr` is the emulator's **fictional** name
    /// (the HR modules are not public).
    pub module: &'static str,
    /// `/{module}/export{name}` and `/{module}/import{name}`.
    pub name: &'static str,
    pub fields: &'static [Field],
    /// The flag that hides a record from exports (a soft delete), when the master has one.
    pub deleted_flag: Option<&'static str>,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn export_path(&self) -> String {
        format!("/{}/export{}", self.module, self.name)
    }

    pub fn import_path(&self) -> String {
        format!("/{}/import{}", self.module, self.name)
    }
}

/// 取引先 (得意先) master: `/sdmm/exportCustomer`, `/sdmm/importCustomer` (paths seen, §3).
pub const CUSTOMERS: Entity = Entity {
    object: "customers",
    ja: "取引先",
    en: "Customers",
    module: "sdmm",
    name: "Customer",
    fields: &[
        f(CODE, "取引先コード", "Customer code", Kind::Text, true),
        f("name", "取引先名", "Name", Kind::Text, true),
        f("nameKana", "フリガナ", "Name (kana)", Kind::Kana, false),
        f(
            "postalCode",
            "郵便番号",
            "Postal code",
            Kind::PostalCode,
            false,
        ),
        f("address1", "住所1", "Address 1", Kind::Text, false),
        f("address2", "住所2", "Address 2", Kind::Text, false),
        f("tel", "電話番号", "Phone", Kind::Phone, false),
        f("fax", "FAX番号", "Fax", Kind::Phone, false),
        f("email", "メールアドレス", "Email", Kind::Email, false),
        // 締日: 1–31, 31 meaning 末日.
        f("closingDay", "締日", "Closing day", Kind::Int, false),
        f(UPDATED_AT, "更新日時", "Updated at", Kind::Stamp, false),
    ],
    deleted_flag: Some("deleted"),
};

/// 社員 master under the emulator's **fictional** module `hr`.
pub const EMPLOYEES: Entity = Entity {
    object: "employees",
    ja: "社員",
    en: "Employees",
    module: "hr",
    name: "Employee",
    fields: &[
        f(CODE, "社員コード", "Employee code", Kind::Text, true),
        f("name", "氏名", "Name", Kind::Text, true),
        f("nameKana", "フリガナ", "Name (kana)", Kind::Kana, false),
        f(
            "departmentCode",
            "部門コード",
            "Department code",
            Kind::Text,
            false,
        ),
        f("email", "メールアドレス", "Email", Kind::Email, false),
        f("joinDate", "入社日", "Joined on", Kind::Date, false),
        f("retired", "退職", "Retired", Kind::Bool, false),
        f(UPDATED_AT, "更新日時", "Updated at", Kind::Stamp, false),
    ],
    deleted_flag: None,
};

pub const ENTITIES: &[&Entity] = &[&CUSTOMERS, &EMPLOYEES];

pub fn entity(object: &str) -> Option<&'static Entity> {
    ENTITIES.iter().copied().find(|e| e.object == object)
}

/// Error bodies are APIM's default `{"statusCode","message"}` (*unconfirmed* for OBC, §4).
pub const ERROR_MESSAGE: &str = "message";

/// A 401 is about the subscription key (not the token) when its message says so (APIM's text).
pub fn is_subscription_key_message(message: &str) -> bool {
    message.to_ascii_lowercase().contains("subscription key")
}

/// A 429's wait when `Retry-After` is missing: APIM says "Try again in N seconds."
pub fn seconds_in_message(message: &str) -> Option<u64> {
    let (_, rest) = message.rsplit_once(" in ")?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Import answer: `{"results":[{"index","code","status":"success|error","messages":[…]}]}`.
pub const RESULT_SUCCESS: &str = "success";

/// Import row messages name the field first, in Japanese (`name は必須です。`,
/// `closingDay の値が正しくありません（…）。`, `code は…`): the field is the text before " は"
/// or " の" when that is a field of the entity.
pub fn field_in_message<'a>(entity: &Entity, message: &'a str) -> Option<&'a str> {
    let head = message.split([' ', '　']).next()?;
    (head == CODE || entity.field(head).is_some()).then_some(head)
}

/// Row messages that mean "the code is already there" (insert) or "not there" (update).
pub fn is_already_exists(message: &str) -> bool {
    message.contains("既に登録されています")
}

pub fn is_not_registered(message: &str) -> bool {
    message.contains("登録されていません") && !message.contains("に指定されたコード")
}

/// JSON pointer of the sandbox announcement's 奉行 credentials (`credentials.obc`).
pub const SANDBOX_POINTER: &str = "/credentials/obc";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_for_their_field_and_wait() {
        assert_eq!(
            field_in_message(
                &CUSTOMERS,
                "closingDay の値が正しくありません（1〜31 の整数）。"
            ),
            Some("closingDay")
        );
        assert_eq!(
            field_in_message(&CUSTOMERS, "colour は不明な項目です。"),
            None
        );
        assert_eq!(
            seconds_in_message("Rate limit is exceeded. Try again in 7 seconds."),
            Some(7)
        );
        assert!(is_subscription_key_message(
            "Access denied due to invalid subscription key. Make sure…"
        ));
        assert!(is_not_registered("コード 000123 は登録されていません。"));
        assert!(!is_not_registered(
            "departmentCode に指定されたコード 999 は登録されていません。"
        ));
    }
}
