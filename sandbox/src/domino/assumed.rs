//! Every choice of the Domino emulator that reference/domino.md marks *unconfirmed* or leaves
//! open, kept in one place so each can be corrected once a real server says otherwise.

use super::views::{Column, ViewDef};
use chrono::{DateTime, Utc};

/// §6: DAS has no contacts or to-do service; these views of the mail file are read through the
/// Data service. The names are commonly cited but *unconfirmed*.
pub const CONTACTS_VIEW: &str = "($Contacts)";
pub const TODO_VIEW: &str = "($ToDo)";
/// Cited in ExtLib iNotes code.
pub const CALENDAR_VIEW: &str = "($Calendar)";
/// The directory view of names.nsf (*assumed*).
pub const PEOPLE_VIEW: &str = "People";

/// §6: form names (*unconfirmed*).
pub const FORM_PERSON: &str = "Person";
pub const FORM_TASK: &str = "Task";
/// The calendar entry form the Calendar service reads and writes (*assumed*).
pub const FORM_APPOINTMENT: &str = "Appointment";

/// §6: item names of the `Person` form (*unconfirmed* beyond FirstName, LastName, MailAddress).
pub mod person {
    pub const FIRST_NAME: &str = "FirstName";
    pub const LAST_NAME: &str = "LastName";
    pub const COMPANY: &str = "CompanyName";
    pub const JOB_TITLE: &str = "JobTitle";
    pub const DEPARTMENT: &str = "Department";
    pub const MAIL: &str = "MailAddress";
    pub const OFFICE_PHONE: &str = "OfficePhoneNumber";
    pub const CELL_PHONE: &str = "CellPhoneNumber";
    pub const ZIP: &str = "OfficeZIP";
    pub const STATE: &str = "OfficeState";
    pub const CITY: &str = "OfficeCity";
    pub const STREET: &str = "OfficeStreetAddress";
    pub const COMMENT: &str = "Comment";
    /// Set by `computewithform=true` (the form's formula, *assumed*).
    pub const FULL_NAME: &str = "FullName";
}

/// §6: item names of the `Task` form (*unconfirmed* beyond Subject, DueDateTime). A to-do is
/// done when `CompletedDateTime` is present; `Importance` is "1" high, "2" normal, "3" low.
pub mod task {
    pub const SUBJECT: &str = "Subject";
    pub const BODY: &str = "Body";
    pub const START: &str = "StartDateTime";
    pub const DUE: &str = "DueDateTime";
    pub const COMPLETED: &str = "CompletedDateTime";
    pub const IMPORTANCE: &str = "Importance";
}

/// How a calendar event is stored as an `Appointment` document, so the Data service and the
/// Calendar service show the same entry (*assumed* item names, Notes-like).
pub mod appt {
    pub const SUBJECT: &str = "Subject";
    pub const LOCATION: &str = "Location";
    pub const BODY: &str = "Body";
    pub const START: &str = "StartDateTime";
    pub const END: &str = "EndDateTime";
    /// IANA zone name of the start/end as the event was written; absent means UTC.
    pub const TZID: &str = "StartTimeZone";
    /// "0" appointment, "2" all-day event, "3" meeting.
    pub const TYPE: &str = "AppointmentType";
    pub const CHAIR: &str = "Chair";
    /// "Display Name <mail>" per attendee.
    pub const ATTENDEES: &str = "RequiredAttendees";
    pub const SEQUENCE: &str = "SequenceNum";
    /// "1" opaque (busy), "2" transparent.
    pub const BUSY: &str = "$BusyPriority";
    /// "confidential" when the event was written with that class; "private" is OrgConfidential.
    pub const CLASS: &str = "$EventClass";
    pub const TYPE_APPOINTMENT: &str = "0";
    pub const TYPE_ALL_DAY: &str = "2";
    pub const TYPE_MEETING: &str = "3";
    /// Floating times (neither `utc` nor `tzid`) are read in this zone.
    pub const DEFAULT_TZ: &str = "Asia/Tokyo";
}

/// §7: privacy markers.
pub const ORG_CONFIDENTIAL: &str = "OrgConfidential";
pub const PUBLIC_ACCESS: &str = "$PublicAccess";
pub const READERS: &str = "$Readers";

/// §8: what a request with missing or wrong credentials gets: the HTML login form with this
/// status (*unconfirmed*: a server with session authentication may answer 200 with the form).
/// Switchable at run time with `PUT /_sandbox/domino/settings {"auth_failure_status":200}`.
pub const AUTH_FAILURE_STATUS: u16 = 401;
pub const SESSION_COOKIE: &str = "DomAuthSessId";
pub const SESSION_IDLE_MINUTES: i64 = 30;

/// §2.2: `systemcolumns` when the parameter is absent: the fields of the reference's example.
pub const DEFAULT_SYSTEM_COLUMNS: u32 = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x100 | 0x800;

// `@href`s are written relative to the server (the reference allows either); `Location`
// headers are absolute.

/// `GET /api/data/documents?since=T` lists documents modified strictly after T (*assumed*:
/// the stricter reading, so a client that re-reads an overlap works against either).
pub const SINCE_IS_STRICT: bool = true;

/// JSON values with no Notes counterpart: `true`/`false` are stored as the numbers 1/0 and
/// `null` as an empty text item (*assumed*). Plain strings stay text, even when they look like
/// dates; `{"type":"datetime","data":…}` makes a date item.
pub const BOOL_AS_NUMBER: bool = true;

/// `computewithform=true`: the items each form requires (*assumed* validation rules).
pub fn required_items(form: &str) -> &'static [&'static str] {
    match form {
        FORM_PERSON => &[person::LAST_NAME],
        FORM_TASK => &[task::SUBJECT],
        FORM_APPOINTMENT => &[appt::SUBJECT, appt::START],
        _ => &[],
    }
}

/// Forms `computewithform=true` knows.
pub fn known_form(form: &str) -> bool {
    matches!(form, FORM_PERSON | FORM_TASK | FORM_APPOINTMENT)
}

fn col(name: &str, title: &str, sortable: bool) -> Column {
    Column {
        name: name.to_string(),
        title: title.to_string(),
        item: name.to_string(),
        sortable,
    }
}

/// The views of a mail file. Column programmatic names equal item names (*assumed*).
pub fn mail_views(now: DateTime<Utc>) -> Vec<ViewDef> {
    vec![
        ViewDef::new(
            CONTACTS_VIEW,
            FORM_PERSON,
            vec![
                col(person::LAST_NAME, "姓", true),
                col(person::FIRST_NAME, "名", true),
                col(person::COMPANY, "会社名", true),
                col(person::MAIL, "メールアドレス", true),
                col(person::OFFICE_PHONE, "電話番号", false),
            ],
            now,
        ),
        ViewDef::new(
            TODO_VIEW,
            FORM_TASK,
            vec![
                col(task::DUE, "期限", true),
                col(task::SUBJECT, "件名", true),
                col(task::IMPORTANCE, "重要度", true),
                col(task::COMPLETED, "完了日", false),
            ],
            now,
        ),
        ViewDef::new(
            CALENDAR_VIEW,
            FORM_APPOINTMENT,
            vec![
                col(appt::START, "開始", true),
                col(appt::END, "終了", false),
                col(appt::SUBJECT, "件名", true),
                col(appt::LOCATION, "場所", false),
            ],
            now,
        ),
    ]
}

/// The views of names.nsf.
pub fn directory_views(now: DateTime<Utc>) -> Vec<ViewDef> {
    vec![ViewDef::new(
        PEOPLE_VIEW,
        FORM_PERSON,
        vec![
            col(person::LAST_NAME, "姓", true),
            col(person::FIRST_NAME, "名", true),
            col(person::MAIL, "メールアドレス", true),
            col(person::DEPARTMENT, "部署", true),
        ],
        now,
    )]
}
