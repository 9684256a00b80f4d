//! The objects `good` exposes and their fields.

use connector_sdk::{Capabilities, FieldSchema, FieldType, ObjectSchema, Text};

pub struct FieldDef {
    pub id: &'static str,
    pub label: &'static str,
    pub field_type: FieldType,
    pub required: bool,
    pub unique: bool,
}

pub struct ObjectDef {
    pub id: &'static str,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub fields: &'static [FieldDef],
    pub private_records: bool,
}

impl ObjectDef {
    pub fn field(&self, id: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.id == id)
    }

    pub fn schema(&self) -> ObjectSchema {
        ObjectSchema {
            title_field: Some("name".into()),
            record_url: None,
            read_options: vec![],
            id: self.id.into(),
            name: Text::new(self.name_ja, self.name_en),
            fields: self
                .fields
                .iter()
                .map(|f| FieldSchema {
                    id: f.id.into(),
                    label: f.label.into(),
                    field_type: f.field_type,
                    required: f.required,
                    unique: f.unique,
                    read_only: false,
                    options: vec![],
                    lookup: None,
                })
                .collect(),
            capabilities: Capabilities {
                read: true,
                create: true,
                update: true,
                delete: true,
                incremental: true,
                private_records: self.private_records,
                files: false,
            },
        }
    }
}

const fn field(
    id: &'static str,
    label: &'static str,
    field_type: FieldType,
    required: bool,
    unique: bool,
) -> FieldDef {
    FieldDef {
        id,
        label,
        field_type,
        required,
        unique,
    }
}

pub const OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        id: "contacts",
        name_ja: "担当者",
        name_en: "Contacts",
        fields: &[
            field("name", "氏名", FieldType::Text, true, true),
            field("email", "メール", FieldType::Email, false, false),
            field("phone", "電話番号", FieldType::Phone, false, false),
            // "1" makes the record private (like a Notes confidential entry).
            field("confidential", "非公開", FieldType::Text, false, false),
        ],
        private_records: true,
    },
    ObjectDef {
        id: "companies",
        name_ja: "取引先",
        name_en: "Companies",
        fields: &[
            field("name", "会社名", FieldType::Text, true, true),
            field("phone", "電話番号", FieldType::Phone, false, false),
        ],
        private_records: false,
    },
];

pub fn find(id: &str) -> Option<&'static ObjectDef> {
    OBJECTS.iter().find(|o| o.id == id)
}
