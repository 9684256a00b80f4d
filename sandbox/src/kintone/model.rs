//! The emulator's data: apps with their form fields and API tokens, records, users and spaces.
//! Serialized as a whole when a data directory is set.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldType {
    RecordNumber,
    Creator,
    CreatedTime,
    Modifier,
    UpdatedTime,
    SingleLineText,
    MultiLineText,
    RichText,
    Number,
    DropDown,
    RadioButton,
    CheckBox,
    MultiSelect,
    Date,
    Time,
    Datetime,
    Link,
    /// Users by login name: `[{"code": "sato"}]` in, `[{"code", "name"}]` out.
    UserSelect,
}

impl FieldType {
    /// The `type` string of the wire.
    pub fn wire(self) -> &'static str {
        match self {
            FieldType::RecordNumber => "RECORD_NUMBER",
            FieldType::Creator => "CREATOR",
            FieldType::CreatedTime => "CREATED_TIME",
            FieldType::Modifier => "MODIFIER",
            FieldType::UpdatedTime => "UPDATED_TIME",
            FieldType::SingleLineText => "SINGLE_LINE_TEXT",
            FieldType::MultiLineText => "MULTI_LINE_TEXT",
            FieldType::RichText => "RICH_TEXT",
            FieldType::Number => "NUMBER",
            FieldType::DropDown => "DROP_DOWN",
            FieldType::RadioButton => "RADIO_BUTTON",
            FieldType::CheckBox => "CHECK_BOX",
            FieldType::MultiSelect => "MULTI_SELECT",
            FieldType::Date => "DATE",
            FieldType::Time => "TIME",
            FieldType::Datetime => "DATETIME",
            FieldType::Link => "LINK",
            FieldType::UserSelect => "USER_SELECT",
        }
    }

    /// Kept by the record itself ($id, times, users), not by `Record::values`.
    pub fn is_system(self) -> bool {
        matches!(
            self,
            FieldType::RecordNumber
                | FieldType::Creator
                | FieldType::CreatedTime
                | FieldType::Modifier
                | FieldType::UpdatedTime
        )
    }

    pub fn has_options(self) -> bool {
        matches!(
            self,
            FieldType::DropDown
                | FieldType::RadioButton
                | FieldType::CheckBox
                | FieldType::MultiSelect
        )
    }

    pub fn is_multi(self) -> bool {
        matches!(self, FieldType::CheckBox | FieldType::MultiSelect)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lookup {
    pub related_app: u64,
    /// RECORD_NUMBER or a unique field of the related app.
    pub related_key_field: String,
    /// (field in this app, field in the related app), copied when the lookup is set.
    pub field_mappings: Vec<(String, String)>,
    pub picker_fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FieldDef {
    pub code: String,
    pub label: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub options: Vec<String>,
    /// As the wire shows it: a string, or an array for CHECK_BOX / MULTI_SELECT.
    #[serde(default)]
    pub default_value: Value,
    #[serde(default)]
    pub lookup: Option<Lookup>,
    /// NUMBER only.
    #[serde(default)]
    pub unit: String,
}

impl FieldDef {
    pub fn new(code: &str, ty: FieldType) -> Self {
        FieldDef {
            code: code.into(),
            label: code.into(),
            ty,
            required: false,
            unique: false,
            options: Vec::new(),
            default_value: Value::String(String::new()),
            lookup: None,
            unit: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    pub view: bool,
    pub add: bool,
    pub edit: bool,
    pub delete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: u64,
    pub revision: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// User codes.
    pub creator: String,
    pub modifier: String,
    /// Non-system field values in their wire shape (strings, null or arrays).
    pub values: Values,
}

/// A record's field values. A dozen entries with keys shared between records: cheaper than a
/// map when 100k+ records are generated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(Vec<(Arc<str>, Value)>);

impl Values {
    pub fn get(&self, code: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| &**k == code).map(|(_, v)| v)
    }

    /// Sets a value, reusing the key when the field is already there.
    pub fn insert(&mut self, code: &str, v: Value) {
        match self.0.iter_mut().find(|(k, _)| &**k == code) {
            Some(slot) => slot.1 = v,
            None => self.0.push((Arc::from(code), v)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
}

impl FromIterator<(Arc<str>, Value)> for Values {
    fn from_iter<I: IntoIterator<Item = (Arc<str>, Value)>>(it: I) -> Self {
        Values(it.into_iter().collect())
    }
}

impl Serialize for Values {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Values {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, Value>::deserialize(d)?;
        Ok(m.into_iter().map(|(k, v)| (Arc::from(k), v)).collect())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: u64,
    pub name: String,
    pub code: String,
    pub description: String,
    pub space_id: Option<u64>,
    pub thread_id: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub form_revision: u64,
    pub fields: Vec<FieldDef>,
    pub tokens: Vec<Token>,
    pub records: BTreeMap<u64, Record>,
    pub next_id: u64,
    /// Unique field → value → record id; rebuilt after loading.
    #[serde(skip)]
    unique: UniqueIndex,
    /// (`更新日時` in seconds, id) of every record, in that order; rebuilt after loading. Lets a
    /// page ordered by `更新日時 asc, $id asc` start at its lower bound (see `select`).
    #[serde(skip)]
    pub(super) by_updated: BTreeSet<(i64, u64)>,
}

impl App {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: u64,
        name: &str,
        description: &str,
        space_id: Option<u64>,
        created_at: DateTime<Utc>,
        fields: Vec<FieldDef>,
        tokens: Vec<Token>,
    ) -> Self {
        let mut app = App {
            id,
            name: name.into(),
            code: String::new(),
            description: description.into(),
            space_id,
            thread_id: space_id,
            created_at,
            modified_at: created_at,
            form_revision: 5,
            fields,
            tokens,
            records: BTreeMap::new(),
            next_id: 1,
            unique: HashMap::new(),
            by_updated: BTreeSet::new(),
        };
        app.rebuild_index();
        app
    }

    pub fn field(&self, code: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.code == code)
    }

    /// The code of the field of this type, e.g. the UPDATED_TIME field `更新日時`.
    pub fn field_of_type(&self, ty: FieldType) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.ty == ty)
    }

    pub fn rebuild_index(&mut self) {
        self.by_updated = self.records.values().map(updated_key).collect();
        self.unique.clear();
        for f in self.fields.iter().filter(|f| f.unique) {
            let mut m = HashMap::new();
            for r in self.records.values() {
                if let Some(k) = unique_key(r.values.get(&f.code)) {
                    m.insert(k, r.id);
                }
            }
            self.unique.insert(f.code.clone(), m);
        }
    }

    /// The record whose unique field `code` holds `value`.
    pub fn find_unique(&self, code: &str, value: &str) -> Option<u64> {
        self.unique.get(code)?.get(value.trim()).copied()
    }

    /// Inserts or replaces a record, keeping the unique index; answers the previous version.
    pub fn put(&mut self, r: Record) -> Option<Record> {
        let id = r.id;
        self.next_id = self.next_id.max(id + 1);
        let old = self.records.insert(id, r);
        if let Some(o) = &old {
            index(&mut self.unique, o, false);
            self.by_updated.remove(&updated_key(o));
        }
        if let Some(r) = self.records.get(&id) {
            index(&mut self.unique, r, true);
            self.by_updated.insert(updated_key(r));
        }
        old
    }

    pub fn remove(&mut self, id: u64) -> Option<Record> {
        let old = self.records.remove(&id);
        if let Some(o) = &old {
            index(&mut self.unique, o, false);
            self.by_updated.remove(&updated_key(o));
        }
        old
    }
}

fn updated_key(r: &Record) -> (i64, u64) {
    (r.updated_at.timestamp(), r.id)
}

type UniqueIndex = HashMap<String, HashMap<String, u64>>;

fn index(unique: &mut UniqueIndex, r: &Record, add: bool) {
    for (code, m) in unique.iter_mut() {
        if let Some(k) = unique_key(r.values.get(code)) {
            if add {
                m.insert(k, r.id);
            } else if m.get(&k) == Some(&r.id) {
                m.remove(&k);
            }
        }
    }
}

fn unique_key(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub code: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Space {
    pub id: u64,
    pub name: String,
    pub guest: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub apps: BTreeMap<u64, App>,
    pub users: Vec<User>,
    pub spaces: Vec<Space>,
}

impl Store {
    pub fn user_name(&self, code: &str) -> String {
        if code == super::assumed::TOKEN_USER.0 {
            return super::assumed::TOKEN_USER.1.to_string();
        }
        self.users
            .iter()
            .find(|u| u.code == code)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| code.to_string())
    }

    pub fn is_guest_space(&self, id: u64) -> bool {
        self.spaces.iter().any(|s| s.id == id && s.guest)
    }

    pub fn rebuild_indexes(&mut self) {
        for a in self.apps.values_mut() {
            a.rebuild_index();
        }
    }
}
