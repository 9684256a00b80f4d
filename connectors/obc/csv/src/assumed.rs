//! Choices this route makes where the reference is silent (*assumed*, see
//! ../shared/reference/obc.md §5): 奉行's 受入記号 for masters are not public, so the default
//! import formats read the Japanese item names (項目名) a 汎用データ作成 export with a
//! name header writes, and accept the usual variants of each. A customer with other headers
//! sets `csv_import_formats`.

use crate::format::ValueKind;

/// One default column: field id (as the 奉行クラウド API objects name it), kind, and the
/// header names accepted for it, the first being the one an export writes.
pub type DefaultColumn = (&'static str, ValueKind, &'static [&'static str]);

/// A default object: id, label (ja, en), the key field, columns.
pub struct DefaultFormat {
    pub object: &'static str,
    pub label: (&'static str, &'static str),
    pub key: &'static str,
    pub columns: &'static [DefaultColumn],
}

use ValueKind::{Date, Number, Text};

pub const CUSTOMERS: DefaultFormat = DefaultFormat {
    object: "csv_customers",
    label: ("取引先（CSV）", "Customers (CSV)"),
    key: "code",
    columns: &[
        ("code", Text, &["取引先コード", "得意先コード", "コード"]),
        (
            "name",
            Text,
            &["取引先名", "取引先名称", "得意先名", "名称"],
        ),
        (
            "nameKana",
            Text,
            &["取引先名カナ", "フリガナ", "取引先フリガナ", "カナ"],
        ),
        ("shortName", Text, &["略称", "取引先略称"]),
        ("postalCode", Text, &["郵便番号"]),
        ("address1", Text, &["住所1", "住所"]),
        ("address2", Text, &["住所2"]),
        ("tel", Text, &["電話番号", "TEL"]),
        ("fax", Text, &["FAX番号", "FAX"]),
        ("email", Text, &["メールアドレス", "E-MAIL"]),
        ("closingDay", Number, &["締日"]),
    ],
};

pub const EMPLOYEES: DefaultFormat = DefaultFormat {
    object: "csv_employees",
    label: ("社員（CSV）", "Employees (CSV)"),
    key: "code",
    columns: &[
        ("code", Text, &["社員コード", "社員番号"]),
        ("name", Text, &["氏名", "社員名"]),
        ("nameKana", Text, &["フリガナ", "氏名カナ", "カナ氏名"]),
        ("departmentCode", Text, &["所属コード", "部門コード"]),
        ("email", Text, &["メールアドレス", "E-MAIL"]),
        ("joinDate", Date, &["入社年月日", "入社日"]),
        ("retireDate", Date, &["退職年月日", "退職日"]),
    ],
};

pub const DEFAULTS: &[&DefaultFormat] = &[&CUSTOMERS, &EMPLOYEES];

/// The date layout 奉行 reads (汎用データ受入): `yyyy/MM/dd`.
pub const EXPORT_DATE_FORMAT: &str = "%Y/%m/%d";
