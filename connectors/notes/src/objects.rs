//! The three objects of a mail file — contacts and to-dos (documents of a view, read through
//! the Data service) and calendar events (the Calendar service) — and their fields.

use connector_sdk::{Capabilities, ConnectorError, FieldSchema, FieldType, ObjectSchema, Text};

use crate::assumed::{self, person, task};
use crate::errors;

pub const CONTACTS: &str = "contacts";
pub const TODOS: &str = "todos";
pub const EVENTS: &str = "events";

/// One field: its id (the Notes item, or the calendar property), label and type.
pub struct Field {
    pub id: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    pub required: bool,
    pub read_only: bool,
    pub options: &'static [&'static str],
}

const fn f(id: &'static str, label: &'static str, ty: FieldType) -> Field {
    Field {
        id,
        label,
        ty,
        required: false,
        read_only: false,
        options: &[],
    }
}

impl Field {
    const fn req(mut self) -> Self {
        self.required = true;
        self
    }

    const fn ro(mut self) -> Self {
        self.read_only = true;
        self
    }
}

/// A view of documents of one form.
pub struct DocObject {
    pub id: &'static str,
    pub name: (&'static str, &'static str),
    pub view: &'static str,
    pub form: &'static str,
    pub fields: &'static [Field],
    /// Sorted columns a match key is looked up by (`sortcolumn` + `keys`).
    pub key_columns: &'static [&'static str],
    /// The item naming a document to a person (the run's history shows it).
    pub title: &'static str,
}

impl DocObject {
    pub fn field(&self, id: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.id.eq_ignore_ascii_case(id))
    }
}

static CONTACT_FIELDS: [Field; 14] = [
    f(person::LAST_NAME, "姓", FieldType::Text).req(),
    f(person::FIRST_NAME, "名", FieldType::Text),
    f(person::FULL_NAME, "氏名", FieldType::Text).ro(),
    f(person::COMPANY, "会社名", FieldType::Text),
    f(person::DEPARTMENT, "部署", FieldType::Text),
    f(person::JOB_TITLE, "役職", FieldType::Text),
    f(person::MAIL, "メールアドレス", FieldType::Email),
    f(person::OFFICE_PHONE, "電話番号(勤務先)", FieldType::Phone),
    f(person::CELL_PHONE, "携帯電話", FieldType::Phone),
    f(person::ZIP, "郵便番号", FieldType::Text),
    f(person::STATE, "都道府県", FieldType::Text),
    f(person::CITY, "市区町村", FieldType::Text),
    f(person::STREET, "番地", FieldType::Text),
    f(person::COMMENT, "コメント", FieldType::LongText),
];

static TODO_FIELDS: [Field; 6] = [
    f(task::SUBJECT, "件名", FieldType::Text).req(),
    f(task::BODY, "内容", FieldType::LongText),
    f(task::START, "開始日時", FieldType::DateTime),
    f(task::DUE, "期限", FieldType::DateTime),
    f(task::COMPLETED, "完了日時", FieldType::DateTime),
    Field {
        options: task::IMPORTANCE_VALUES,
        ..f(
            task::IMPORTANCE,
            "重要度(1 高・2 中・3 低)",
            FieldType::Picklist,
        )
    },
];

pub static CONTACTS_OBJECT: DocObject = DocObject {
    id: CONTACTS,
    name: ("連絡先", "Contacts"),
    view: assumed::CONTACTS_VIEW,
    form: assumed::FORM_PERSON,
    fields: &CONTACT_FIELDS,
    key_columns: assumed::CONTACT_KEY_COLUMNS,
    title: person::FULL_NAME,
};

pub static TODOS_OBJECT: DocObject = DocObject {
    id: TODOS,
    name: ("ToDo", "To-dos"),
    view: assumed::TODO_VIEW,
    form: assumed::FORM_TASK,
    fields: &TODO_FIELDS,
    key_columns: assumed::TODO_KEY_COLUMNS,
    title: task::SUBJECT,
};

/// Event properties of the Calendar service (reference §5), as fields.
pub mod event {
    pub const SUMMARY: &str = "summary";
    pub const LOCATION: &str = "location";
    pub const DESCRIPTION: &str = "description";
    pub const START: &str = "start";
    pub const END: &str = "end";
    pub const ALL_DAY: &str = "all_day";
    pub const ORGANIZER: &str = "organizer";
    pub const ATTENDEES: &str = "attendees";
}

pub static EVENT_FIELDS: [Field; 8] = [
    f(event::SUMMARY, "件名", FieldType::Text).req(),
    f(event::LOCATION, "場所", FieldType::Text),
    f(event::DESCRIPTION, "内容", FieldType::LongText),
    f(event::START, "開始日時", FieldType::DateTime).req(),
    f(event::END, "終了日時", FieldType::DateTime),
    f(event::ALL_DAY, "終日", FieldType::Boolean),
    f(event::ORGANIZER, "主催者", FieldType::Email).ro(),
    f(event::ATTENDEES, "参加者", FieldType::LongText).ro(),
];

pub fn event_field(id: &str) -> Option<&'static Field> {
    EVENT_FIELDS.iter().find(|f| f.id == id)
}

/// What an object id names.
pub enum Object {
    Docs(&'static DocObject),
    Events,
}

pub fn object(id: &str) -> Result<Object, ConnectorError> {
    match id {
        CONTACTS => Ok(Object::Docs(&CONTACTS_OBJECT)),
        TODOS => Ok(Object::Docs(&TODOS_OBJECT)),
        EVENTS => Ok(Object::Events),
        other => Err(errors::unknown_object(other)),
    }
}

/// Domino Access Services has no page of a document for a browser that the reference
/// guarantees (a database may have no web design), so no object has a `record_url`.
fn schema(id: &str, name: (&str, &str), fields: &[Field], title: &str) -> ObjectSchema {
    ObjectSchema {
        title_field: Some(title.into()),
        record_url: None,
        read_options: vec![],
        id: id.into(),
        name: Text::new(name.0, name.1),
        fields: fields
            .iter()
            .map(|x| FieldSchema {
                id: x.id.into(),
                label: x.label.into(),
                field_type: x.ty,
                required: x.required,
                unique: false,
                read_only: x.read_only,
                options: x.options.iter().map(|s| s.to_string()).collect(),
                lookup: None,
            })
            .collect(),
        capabilities: Capabilities {
            read: true,
            create: true,
            update: true,
            delete: true,
            incremental: true,
            private_records: true,
            files: false,
        },
    }
}

pub fn doc_schema(o: &DocObject) -> ObjectSchema {
    schema(o.id, o.name, o.fields, o.title)
}

pub fn events_schema() -> ObjectSchema {
    ObjectSchema {
        read_options: vec![crate::manifest::events_window_field()],
        ..schema(
            EVENTS,
            ("予定", "Calendar events"),
            &EVENT_FIELDS,
            event::SUMMARY,
        )
    }
}
