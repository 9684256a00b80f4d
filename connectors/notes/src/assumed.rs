//! Choices resting on facts reference/domino.md marks *unconfirmed* or *assumed*, or does not
//! state at all. Each is kept here, in one place, so it can be corrected once a real server
//! says otherwise.

/// §6: DAS has no contacts or to-do service; these views of the mail file are read through the
/// Data service. The names are commonly cited but *unconfirmed*.
pub const CONTACTS_VIEW: &str = "($Contacts)";
pub const TODO_VIEW: &str = "($ToDo)";

/// §6: the forms of a contact and a to-do (*unconfirmed*). A document of another form in the
/// mail file (mail, calendar entries) is not one of these objects.
pub const FORM_PERSON: &str = "Person";
pub const FORM_TASK: &str = "Task";

/// §6: item names of the `Person` form. Beyond FirstName, LastName and MailAddress they are
/// *unconfirmed* (the usual Notes personal address book names).
pub mod person {
    pub const LAST_NAME: &str = "LastName";
    pub const FIRST_NAME: &str = "FirstName";
    /// Computed by the form (`computewithform=true`), never written.
    pub const FULL_NAME: &str = "FullName";
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
}

/// §6: item names of the `Task` form (*unconfirmed* beyond Subject and DueDateTime). A to-do is
/// done when `CompletedDateTime` is set; `Importance` is "1" high, "2" normal, "3" low.
pub mod task {
    pub const SUBJECT: &str = "Subject";
    pub const BODY: &str = "Body";
    pub const START: &str = "StartDateTime";
    pub const DUE: &str = "DueDateTime";
    pub const COMPLETED: &str = "CompletedDateTime";
    pub const IMPORTANCE: &str = "Importance";
    pub const IMPORTANCE_VALUES: &[&str] = &["1", "2", "3"];
}

/// Columns of each view that are sorted by design, so a match key on them is looked up with
/// `sortcolumn` + `keys` (§2.2). A match key on any other item falls back to the view's
/// full-text `search`, which needs a full-text index on the database (*assumed* column design).
pub const CONTACT_KEY_COLUMNS: &[&str] = &[
    person::LAST_NAME,
    person::FIRST_NAME,
    person::COMPANY,
    person::MAIL,
];
pub const TODO_KEY_COLUMNS: &[&str] = &[task::DUE, task::SUBJECT, task::IMPORTANCE];

/// §7: privacy markers. `OrgConfidential = "1"` is Notes' "Mark Private". A Readers item is the
/// real restriction; DAS JSON does not say which items are of Readers type, so any item whose
/// name ends in "Readers" (`$Readers`, `DocReaders`…) and holds a name counts (*assumed*).
/// `$PublicAccess` is not used: documents written through DAS never carry it (DAS ignores `$`
/// keys, §2.4), and the reference's filter does not need it.
pub const ORG_CONFIDENTIAL: &str = "OrgConfidential";
pub const READERS_SUFFIX: &str = "readers";

/// §5/§7: a calendar entry's backing document has the event's id as its UNID (true for entries
/// the mail file's owner created; *assumed* otherwise). Its Readers items are checked through
/// the Data service; when no such document exists the event's `class` alone decides.
pub const EVENT_ID_IS_UNID: bool = true;

/// Times are shown, floating or all-day calendar dates read, and event times written (as
/// `tzid`, the instant kept), in this zone: a Japanese installation.
pub const LOCAL_TZ: chrono_tz::Tz = chrono_tz::Asia::Tokyo;

/// `events_window = all`: the calendar service needs a range (§5: a year from now by default),
/// so "all" is this many years either side of today.
pub const ALL_EVENTS_YEARS: i32 = 5;
/// `events_window = past_month`: from one month before today up to the end of today (the Zoho
/// extension's "過去1か月の予定"; whether it includes today is not documented).
pub const PAST_MONTH_MONTHS: u32 = 1;

/// §5 says nothing of `If-Unmodified-Since` on the Calendar service (§2.5 is the Data
/// service's), so an expected version is checked against the event's `last-modified` read just
/// before the PUT; the header is sent as well, in case the server honours it.
pub const CALENDAR_SENDS_PRECONDITION: bool = true;

/// §2.1: `GET /api/data/documents?since=` — whether the bound is inclusive is not documented
/// (the emulator takes it as strict). The read re-asks this many seconds and drops what it
/// already reported, so either reading works.
pub const SINCE_OVERLAP_SECS: i64 = 1;

/// §2.2, §5: a view page and a calendar page hold at most 100 entries (a server's
/// `DataServiceMaxViewEntries` may allow more; the default is assumed).
pub const MAX_COUNT: u32 = 100;

/// View and calendar pages are positions, which shift when entries are deleted between two
/// pages of one sweep: each page re-reads this many entries before its start and skips the ids
/// the previous page reported.
pub const PAGE_OVERLAP: u32 = 10;

/// Changed documents examined per read call in the incremental phase: the `since` listing
/// covers the whole mail file (mail too), and each candidate costs one small GET to learn its
/// form. Bounds the call's duration when many mails arrived.
pub const CANDIDATES_PER_PAGE: usize = 200;

/// DAS has no password-change endpoint (reference §1, §8: Core offers only `nonce` and
/// `pwstats`), so `change_password` does not change the password on the server: the user
/// changes the Internet password in Domino (Person document, or the Notes client), and the
/// action checks the new one by signing in with it before the hub stores it.
pub const SERVER_CHANGES_PASSWORD: bool = false;

/// §8: session authentication when Basic is refused: the form fields and the cookie name
/// (Domino 14 may suffix the name per server, so any cookie starting with it is taken).
pub const LOGIN_PATH: &str = "/names.nsf?Login";
pub const SESSION_COOKIE: &str = "DomAuthSessId";
pub const LTPA_COOKIE: &str = "LtpaToken";

/// JSON pointers of the sandbox announcement (`credentials.domino.{server,database,username,
/// password}`, the server's URL also at `/domino`).
pub const SANDBOX_SERVER: &str = "{/domino}";
pub const SANDBOX_DATABASE: &str = "{/credentials/domino/database}";
pub const SANDBOX_USERNAME: &str = "{/credentials/domino/username}";
pub const SANDBOX_PASSWORD: &str = "{/credentials/domino/password}";
