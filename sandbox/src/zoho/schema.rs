//! The modules and fields both orgs share (reference §7): what `settings/modules` and
//! `settings/fields` report and what record writes are validated against, from one table.

/// A field's `data_type` (§7), with the lookup target where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    TextArea,
    Email,
    Phone,
    Website,
    Picklist,
    MultiPicklist,
    Lookup(&'static str),
    Owner,
    Date,
    DateTime,
    Integer,
    BigInt,
    Double,
    Currency,
    Boolean,
}

impl Kind {
    pub fn data_type(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::TextArea => "textarea",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Website => "website",
            Kind::Picklist => "picklist",
            Kind::MultiPicklist => "multiselectpicklist",
            Kind::Lookup(_) => "lookup",
            Kind::Owner => "ownerlookup",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
            Kind::Integer => "integer",
            Kind::BigInt => "bigint",
            Kind::Double => "double",
            Kind::Currency => "currency",
            Kind::Boolean => "boolean",
        }
    }

    pub fn json_type(self) -> &'static str {
        match self {
            Kind::Lookup(_) | Kind::Owner => "jsonobject",
            Kind::MultiPicklist => "jsonarray",
            Kind::Integer | Kind::BigInt => "integer",
            Kind::Double | Kind::Currency => "double",
            Kind::Boolean => "boolean",
            _ => "string",
        }
    }

    /// Kinds whose values are free text, for `word=` search and case-insensitive matching.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            Kind::Text
                | Kind::TextArea
                | Kind::Email
                | Kind::Phone
                | Kind::Website
                | Kind::Picklist
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub api_name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub length: u32,
    pub mandatory: bool,
    pub unique: bool,
    pub read_only: bool,
    pub custom: bool,
    /// `(actual_value, display_value)`.
    pub picklist: &'static [(&'static str, &'static str)],
}

const fn f(api_name: &'static str, label: &'static str, kind: Kind, length: u32) -> Field {
    Field {
        api_name,
        label,
        kind,
        length,
        mandatory: false,
        unique: false,
        read_only: false,
        custom: false,
        picklist: &[],
    }
}

impl Field {
    const fn req(mut self) -> Self {
        self.mandatory = true;
        self
    }
    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
    const fn custom(mut self) -> Self {
        self.custom = true;
        self
    }
    const fn pick(mut self, values: &'static [(&'static str, &'static str)]) -> Self {
        self.picklist = values;
        self
    }
}

#[derive(Debug)]
pub struct Module {
    pub api_name: &'static str,
    pub singular: &'static str,
    pub plural: &'static str,
    /// Distinguishes module and field ids; stable so a persisted cache stays valid.
    pub number: u64,
    pub custom: bool,
    /// The field a lookup to this module shows as `name`.
    pub display_field: &'static str,
    /// System duplicate-check fields for upsert (§4 table).
    pub dup_check: &'static [&'static str],
    pub fields: &'static [Field],
}

impl Module {
    pub fn field(&self, api_name: &str) -> Option<&'static Field> {
        let fields: &'static [Field] = self.fields;
        fields.iter().find(|f| f.api_name == api_name)
    }

    pub fn has_currency(&self) -> bool {
        self.fields.iter().any(|f| f.kind == Kind::Currency)
    }

    /// Fields upsert may match on: the system ones first, then user-defined unique fields.
    pub fn default_dup_fields(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.dup_check.to_vec();
        for fd in self.fields {
            if fd.unique && !v.contains(&fd.api_name) {
                v.push(fd.api_name);
            }
        }
        v
    }
}

/// Read-only fields every module carries.
pub const CREATED_TIME: &str = "Created_Time";
pub const MODIFIED_TIME: &str = "Modified_Time";
pub const CREATED_BY: &str = "Created_By";
pub const MODIFIED_BY: &str = "Modified_By";
pub const OWNER: &str = "Owner";
pub const FULL_NAME: &str = "Full_Name";

const INDUSTRY: &[(&str, &str)] = &[
    ("-None-", "-なし-"),
    ("Manufacturing", "製造業"),
    ("Wholesale", "卸売業"),
    ("Retail", "小売業"),
    ("Logistics", "運輸・物流"),
    ("IT", "情報通信業"),
    ("Healthcare", "医療・福祉"),
    ("Food", "食品"),
    ("Other", "その他"),
];
const ACCOUNT_TYPE: &[(&str, &str)] = &[
    ("-None-", "-なし-"),
    ("Customer", "顧客"),
    ("Prospect", "見込み顧客"),
    ("Partner", "パートナー"),
    ("Vendor", "仕入先"),
    ("Other", "その他"),
];
const LEAD_SOURCE: &[(&str, &str)] = &[
    ("-None-", "-なし-"),
    ("Web", "Webサイト"),
    ("Seminar", "セミナー"),
    ("Exhibition", "展示会"),
    ("Referral", "紹介"),
    ("Cold Call", "電話"),
];
const LEAD_STATUS: &[(&str, &str)] = &[
    ("-None-", "-なし-"),
    ("Not Contacted", "未連絡"),
    ("Attempted to Contact", "連絡済み"),
    ("Contact in Future", "将来連絡"),
    ("Pre-Qualified", "評価前"),
    ("Not Qualified", "対象外"),
];
const STAGE: &[(&str, &str)] = &[
    ("Qualification", "見込み評価"),
    ("Needs Analysis", "ニーズ分析"),
    ("Proposal/Price Quote", "提案・見積"),
    ("Negotiation/Review", "交渉・検討"),
    ("Closed Won", "受注"),
    ("Closed Lost", "失注"),
];
const TASK_STATUS: &[(&str, &str)] = &[
    ("Not Started", "未着手"),
    ("Deferred", "延期"),
    ("In Progress", "進行中"),
    ("Completed", "完了"),
    ("Waiting for input", "入力待ち"),
];
const PRIORITY: &[(&str, &str)] = &[
    ("Highest", "最高"),
    ("High", "高"),
    ("Normal", "標準"),
    ("Low", "低"),
    ("Lowest", "最低"),
];
const CONTRACT_STATUS: &[(&str, &str)] = &[
    ("Active", "有効"),
    ("Renewal Pending", "更新待ち"),
    ("Cancelled", "解約"),
];
const SYSTEM: [Field; 4] = [
    f(CREATED_TIME, "作成日時", Kind::DateTime, 120).ro(),
    f(MODIFIED_TIME, "更新日時", Kind::DateTime, 120).ro(),
    f(CREATED_BY, "作成者", Kind::Owner, 120).ro(),
    f(MODIFIED_BY, "更新者", Kind::Owner, 120).ro(),
];

/// Appends the system fields; N must be A + 4 (checked at compile time by the array types).
const fn with_system<const A: usize, const N: usize>(a: [Field; A]) -> [Field; N] {
    assert!(
        N == A + SYSTEM.len(),
        "field count must include the 4 system fields"
    );
    let mut out = [f("", "", Kind::Text, 0); N];
    let mut i = 0;
    while i < N {
        out[i] = if i < A { a[i] } else { SYSTEM[i - A] };
        i += 1;
    }
    out
}

static ACCOUNTS: [Field; 20] = with_system([
    f(OWNER, "取引先の所有者", Kind::Owner, 120),
    f("Account_Name", "取引先名", Kind::Text, 200).req(),
    f("Account_Name_Kana", "取引先名(カナ)", Kind::Text, 200).custom(),
    f("Customer_Code", "顧客コード", Kind::Text, 20)
        .unique()
        .custom(),
    f("Account_Number", "取引先番号", Kind::Text, 40),
    f("Account_Type", "取引先の種類", Kind::Picklist, 120).pick(ACCOUNT_TYPE),
    f("Industry", "業種", Kind::Picklist, 120).pick(INDUSTRY),
    f("Phone", "電話番号", Kind::Phone, 30),
    f("Fax", "FAX", Kind::Phone, 30),
    f("Website", "Webサイト", Kind::Website, 255),
    f("Employees", "従業員数", Kind::Integer, 9),
    f("Annual_Revenue", "年間売上", Kind::Currency, 16),
    f("Billing_Code", "郵便番号(請求先)", Kind::Text, 30),
    f("Billing_State", "都道府県(請求先)", Kind::Text, 30),
    f("Billing_City", "市区町村(請求先)", Kind::Text, 30),
    f("Billing_Street", "番地(請求先)", Kind::Text, 250),
]);

static CONTACTS: [Field; 22] = with_system([
    f(OWNER, "連絡先の所有者", Kind::Owner, 120),
    f("Last_Name", "姓", Kind::Text, 80).req(),
    f("First_Name", "名", Kind::Text, 40),
    f(FULL_NAME, "氏名", Kind::Text, 120).ro(),
    f("Account_Name", "取引先名", Kind::Lookup("Accounts"), 120),
    f("Email", "メール", Kind::Email, 100),
    f("Secondary_Email", "その他のメール", Kind::Email, 100),
    f("Phone", "電話番号", Kind::Phone, 30),
    f("Mobile", "携帯番号", Kind::Phone, 30),
    f("Title", "役職", Kind::Text, 100),
    f("Department", "部署", Kind::Text, 100),
    f("Date_of_Birth", "生年月日", Kind::Date, 20),
    f("Email_Opt_Out", "メールの受信拒否", Kind::Boolean, 5),
    f("Mailing_Zip", "郵便番号(郵送先)", Kind::Text, 30),
    f("Mailing_State", "都道府県(郵送先)", Kind::Text, 30),
    f("Mailing_City", "市区町村(郵送先)", Kind::Text, 30),
    f("Mailing_Street", "番地(郵送先)", Kind::Text, 250),
    f("Description", "詳細情報", Kind::TextArea, 32000),
]);

static LEADS: [Field; 20] = with_system([
    f(OWNER, "見込み客の所有者", Kind::Owner, 120),
    f("Company", "会社名", Kind::Text, 200),
    f("Last_Name", "姓", Kind::Text, 80).req(),
    f("First_Name", "名", Kind::Text, 40),
    f(FULL_NAME, "氏名", Kind::Text, 120).ro(),
    f("Email", "メール", Kind::Email, 100),
    f("Phone", "電話番号", Kind::Phone, 30),
    f("Mobile", "携帯番号", Kind::Phone, 30),
    f("Lead_Source", "見込み客のソース", Kind::Picklist, 120).pick(LEAD_SOURCE),
    f("Lead_Status", "見込み客のステータス", Kind::Picklist, 120).pick(LEAD_STATUS),
    f("Industry", "業種", Kind::Picklist, 120).pick(INDUSTRY),
    f("No_of_Employees", "従業員数", Kind::Integer, 9),
    f("Annual_Revenue", "年間売上", Kind::Currency, 16),
    f("State", "都道府県", Kind::Text, 30),
    f("City", "市区町村", Kind::Text, 30),
    f("Description", "詳細情報", Kind::TextArea, 32000),
]);

static DEALS: [Field; 15] = with_system([
    f(OWNER, "商談の所有者", Kind::Owner, 120),
    f("Deal_Name", "商談名", Kind::Text, 120).req(),
    f("Account_Name", "取引先名", Kind::Lookup("Accounts"), 120),
    f("Contact_Name", "連絡先名", Kind::Lookup("Contacts"), 120),
    f("Amount", "金額", Kind::Currency, 16),
    f("Stage", "ステージ", Kind::Picklist, 120)
        .req()
        .pick(STAGE),
    f("Probability", "確度(%)", Kind::Integer, 3),
    f("Closing_Date", "完了予定日", Kind::Date, 20).req(),
    f("Lead_Source", "見込み客のソース", Kind::Picklist, 120).pick(LEAD_SOURCE),
    f("Tags_Text", "キーワード", Kind::MultiPicklist, 2000).custom(),
    f("Description", "詳細情報", Kind::TextArea, 32000),
]);

static TASKS: [Field; 12] = with_system([
    f(OWNER, "タスクの所有者", Kind::Owner, 120),
    f("Subject", "件名", Kind::Text, 255).req(),
    f("Due_Date", "期日", Kind::Date, 20),
    f("Status", "ステータス", Kind::Picklist, 120).pick(TASK_STATUS),
    f("Priority", "優先度", Kind::Picklist, 120).pick(PRIORITY),
    f("Who_Id", "連絡先名", Kind::Lookup("Contacts"), 120),
    f("What_Id", "取引先名", Kind::Lookup("Accounts"), 120),
    f("Description", "詳細情報", Kind::TextArea, 32000),
]);

static EVENTS: [Field; 13] = with_system([
    f(OWNER, "主催者", Kind::Owner, 120),
    f("Event_Title", "件名", Kind::Text, 255).req(),
    f("Start_DateTime", "開始日時", Kind::DateTime, 120).req(),
    f("End_DateTime", "終了日時", Kind::DateTime, 120).req(),
    f("All_day", "終日", Kind::Boolean, 5),
    f("Venue", "場所", Kind::Text, 255),
    f("Who_Id", "連絡先名", Kind::Lookup("Contacts"), 120),
    f("What_Id", "取引先名", Kind::Lookup("Accounts"), 120),
    f("Description", "詳細情報", Kind::TextArea, 32000),
]);

static CONTRACTS: [Field; 13] = with_system([
    f(OWNER, "契約の所有者", Kind::Owner, 120),
    f("Name", "契約名", Kind::Text, 120).req(),
    f("Contract_No", "契約番号", Kind::Text, 30)
        .unique()
        .custom(),
    f("Account", "取引先", Kind::Lookup("Accounts"), 120).custom(),
    f("Amount", "契約金額", Kind::Currency, 16).custom(),
    f("Start_Date", "開始日", Kind::Date, 20).custom(),
    f("End_Date", "終了日", Kind::Date, 20).custom(),
    f("Status", "状態", Kind::Picklist, 120)
        .custom()
        .pick(CONTRACT_STATUS),
    f("Auto_Renewal", "自動更新", Kind::Boolean, 5).custom(),
]);

pub static MODULES: &[Module] = &[
    Module {
        api_name: "Accounts",
        singular: "取引先",
        plural: "取引先",
        number: 1,
        custom: false,
        display_field: "Account_Name",
        dup_check: &["Account_Name"],
        fields: &ACCOUNTS,
    },
    Module {
        api_name: "Contacts",
        singular: "連絡先",
        plural: "連絡先",
        number: 2,
        custom: false,
        display_field: FULL_NAME,
        dup_check: &["Email"],
        fields: &CONTACTS,
    },
    Module {
        api_name: "Leads",
        singular: "見込み客",
        plural: "見込み客",
        number: 3,
        custom: false,
        display_field: FULL_NAME,
        dup_check: &["Email"],
        fields: &LEADS,
    },
    Module {
        api_name: "Deals",
        singular: "商談",
        plural: "商談",
        number: 4,
        custom: false,
        display_field: "Deal_Name",
        dup_check: &["Deal_Name"],
        fields: &DEALS,
    },
    Module {
        api_name: "Tasks",
        singular: "タスク",
        plural: "タスク",
        number: 5,
        custom: false,
        display_field: "Subject",
        dup_check: &[],
        fields: &TASKS,
    },
    Module {
        api_name: "Events",
        singular: "予定",
        plural: "予定",
        number: 6,
        custom: false,
        display_field: "Event_Title",
        dup_check: &[],
        fields: &EVENTS,
    },
    Module {
        api_name: "Contracts",
        singular: "契約",
        plural: "契約",
        number: 7,
        custom: true,
        display_field: "Name",
        dup_check: &[],
        fields: &CONTRACTS,
    },
];

/// Module names in URLs match case-insensitively, as Zoho's do.
pub fn module_index(name: &str) -> Option<usize> {
    MODULES
        .iter()
        .position(|m| m.api_name.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lookup_targets_a_module_and_names_are_unique() {
        for m in MODULES {
            let mut seen = std::collections::HashSet::new();
            for fd in m.fields {
                assert!(
                    !fd.api_name.is_empty(),
                    "{} has an unfilled field",
                    m.api_name
                );
                assert!(
                    seen.insert(fd.api_name),
                    "{}.{} twice",
                    m.api_name,
                    fd.api_name
                );
                if let Kind::Lookup(t) = fd.kind {
                    assert!(
                        module_index(t).is_some(),
                        "{}.{} → {t}",
                        m.api_name,
                        fd.api_name
                    );
                }
            }
            assert!(m.field(m.display_field).is_some());
            for d in m.dup_check {
                assert!(m.field(d).is_some());
            }
        }
    }
}
