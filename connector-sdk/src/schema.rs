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
}

impl ObjectSchema {
    pub fn field(&self, id: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.id == id)
    }
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
