//! Objects (kintone apps, Zoho modules, Notes views, 奉行 masters) and their fields.

use crate::manifest::{SettingField, Text};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectSchema {
    pub id: String,
    pub name: Text,
    pub fields: Vec<FieldSchema>,
    pub capabilities: Capabilities,
    /// Choices a flow makes about what a read of this object covers (a calendar's date range),
    /// shown in the flow editor and passed back in `ReadRequest::options`. Leave `default`
    /// unset where a connection setting already answers it: an unset option falls back to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_options: Vec<SettingField>,
    /// The field that names a record to a person (会社名, `Account_Name`, 氏名): the run's
    /// history and a preview show a record by it. `None`: records are shown by their id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_field: Option<String>,
    /// Where a person opens one record in the system's own UI, `{id}` standing for the
    /// record's id, resolved for this connection (its base URL, app): e.g.
    /// `https://example.cybozu.com/k/12/show#record={id}`. `None` where the system has no
    /// such page, or its address is not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_url: Option<String>,
}

impl ObjectSchema {
    pub fn field(&self, id: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The address of record `id` in the system's own UI, when the object has one.
    pub fn record_link(&self, id: &str) -> Option<String> {
        record_link(self.record_url.as_deref()?, id)
    }
}

/// `template` (an [`ObjectSchema::record_url`]) for record `id`: the id percent-encoded
/// where a URL may not carry it as it is. `None` for a template without `{id}`.
pub fn record_link(template: &str, id: &str) -> Option<String> {
    if !template.contains("{id}") || id.is_empty() {
        return None;
    }
    let mut encoded = String::with_capacity(id.len());
    for b in id.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(b as char)
            }
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    Some(template.replace("{id}", &encoded))
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    pub read: bool,
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    /// `read` honours `since` and resumable cursors.
    pub incremental: bool,
    /// Some records may come back flagged private.
    #[serde(default)]
    pub private_records: bool,
    /// Files for this object can be handed over (`receive_file`, an upload or `hub agent
    /// watch`): e.g. a 奉行 CSV object's watched folder.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub files: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSchema {
    /// The API's field code, kept exactly (Japanese kintone codes included).
    pub id: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub read_only: bool,
    /// Allowed values of a picklist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<LookupRef>,
}

/// Values travel as JSON; the type tells the hub how to compare and transform them.
/// Numbers are decimal strings so nothing is rounded on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    LongText,
    Number,
    Boolean,
    Date,
    DateTime,
    Time,
    Email,
    Phone,
    Url,
    Picklist,
    MultiPicklist,
    Lookup,
    User,
    Subtable,
    File,
    Other,
}

impl FieldType {
    /// Whether a value of `self` may be written into a field of `target` without loss.
    pub fn fits_into(self, target: FieldType) -> bool {
        use FieldType::*;
        if self == target {
            return true;
        }
        let textual = |t: FieldType| {
            matches!(
                t,
                Text | LongText
                    | Email
                    | Phone
                    | Url
                    | Picklist
                    | Lookup
                    | Number
                    | Date
                    | DateTime
                    | Time
            )
        };
        match target {
            Text | LongText => textual(self) || self == Boolean,
            Email | Phone | Url | Picklist | Lookup => matches!(
                self,
                Text | LongText | Email | Phone | Url | Picklist | Lookup
            ),
            Number => self == Text,
            Date => matches!(self, DateTime | Text),
            DateTime => matches!(self, Date | Text),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupRef {
    pub object: String,
    pub field: String,
}
