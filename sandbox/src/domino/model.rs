//! The stored data: users, databases and documents, and how a document is written as DAS
//! document JSON (reference §2.3).

use super::assumed;
use super::http::iso;
pub use super::item::{Item, ItemFormat};
use super::views::ViewDef;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Document {
    pub unid: String,
    pub noteid: u32,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    #[serde(default)]
    pub parent: Option<String>,
    pub authors: Vec<String>,
    /// Item names are case-insensitive in Notes; the map keeps the first spelling.
    pub items: BTreeMap<String, Item>,
}

/// Options of `GET …/documents/unid/{unid}` (§2.3).
#[derive(Debug, Clone, Default)]
pub struct DocFormat {
    pub hidden: bool,
    pub fields: Option<Vec<String>>,
    pub lowercase: bool,
    pub items: ItemFormat,
}

impl Document {
    fn key(&self, name: &str) -> Option<&String> {
        self.items.keys().find(|k| k.eq_ignore_ascii_case(name))
    }

    pub fn get(&self, name: &str) -> Option<&Item> {
        self.key(name).and_then(|k| self.items.get(k))
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(Item::plain)
    }

    pub fn set(&mut self, name: &str, item: Item) {
        let key = self.key(name).cloned().unwrap_or_else(|| name.to_string());
        self.items.insert(key, item);
    }

    pub fn remove(&mut self, name: &str) {
        if let Some(k) = self.key(name).cloned() {
            self.items.remove(&k);
        }
    }

    pub fn form(&self) -> Option<String> {
        self.text("Form")
    }

    /// Names in every Readers item; `None` when the document has none (everyone may read).
    pub fn readers(&self) -> Option<Vec<String>> {
        let lists: Vec<String> = self
            .items
            .iter()
            .filter(|(k, v)| matches!(v, Item::Readers(_)) || k.eq_ignore_ascii_case("$Readers"))
            .flat_map(|(_, v)| v.as_list())
            .collect();
        (!lists.is_empty()).then_some(lists)
    }

    pub fn readable_by(&self, user: &User) -> bool {
        match self.readers() {
            None => true,
            Some(names) => {
                let mine = user.names();
                names
                    .iter()
                    .any(|n| n == "*" || mine.iter().any(|m| m.eq_ignore_ascii_case(n)))
            }
        }
    }

    pub fn render(&self, db_href: &str, f: &DocFormat) -> Value {
        let mut m = Map::new();
        m.insert(
            "@href".into(),
            json!(format!("{db_href}/api/data/documents/unid/{}", self.unid)),
        );
        m.insert("@unid".into(), json!(self.unid));
        m.insert("@noteid".into(), json!(format!("{:X}", self.noteid)));
        m.insert("@created".into(), json!(iso(self.created)));
        m.insert("@modified".into(), json!(iso(self.modified)));
        m.insert("@authors".into(), json!(self.authors));
        m.insert("@form".into(), json!(self.form().unwrap_or_default()));
        if let Some(p) = &self.parent {
            m.insert("@parentid".into(), json!(p));
        }
        for (name, item) in &self.items {
            if name.starts_with('$') && !f.hidden {
                continue;
            }
            if let Some(fields) = &f.fields {
                if !fields.iter().any(|x| x.eq_ignore_ascii_case(name)) {
                    continue;
                }
            }
            let key = if f.lowercase {
                name.to_lowercase()
            } else {
                name.clone()
            };
            m.insert(key, item.render(f.items));
        }
        Value::Object(m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub short_name: String,
    /// Abbreviated hierarchical name, e.g. `Takuya Yamada/Sample`.
    pub full_name: String,
    pub display_name: String,
    pub email: String,
    /// The Internet password.
    pub password: String,
}

impl User {
    /// Every spelling a Readers or Authors item may use for this user.
    pub fn names(&self) -> Vec<String> {
        let common = self
            .full_name
            .split('/')
            .next()
            .unwrap_or(&self.full_name)
            .to_string();
        let canonical = {
            let mut parts = self.full_name.split('/');
            let cn = parts.next().unwrap_or_default();
            let rest: Vec<String> = parts.map(|o| format!("O={o}")).collect();
            std::iter::once(format!("CN={cn}"))
                .chain(rest)
                .collect::<Vec<_>>()
                .join("/")
        };
        vec![
            self.full_name.clone(),
            canonical,
            common,
            self.short_name.clone(),
            self.email.clone(),
        ]
    }

    /// Domino accepts the short name, the full or common name, or the Internet address.
    pub fn answers_to(&self, login: &str) -> bool {
        let login = login.trim();
        self.names().iter().any(|n| n.eq_ignore_ascii_case(login))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Database {
    /// Relative to the data directory, with `/`: `mail/tyamada.nsf`.
    pub path: String,
    pub title: String,
    pub replica_id: String,
    /// *Allow Domino Data Service*: 0 never, 1 views only, 2 views and documents (§4).
    pub allow_rest: u8,
    pub views: Vec<ViewDef>,
    pub docs: BTreeMap<String, Document>,
    pub next_noteid: u32,
}

impl Database {
    pub fn new(path: &str, title: &str, views: Vec<ViewDef>) -> Self {
        Database {
            path: path.to_string(),
            title: title.to_string(),
            replica_id: super::http::new_unid()[..16].to_string(),
            allow_rest: 2,
            views,
            docs: BTreeMap::new(),
            next_noteid: 0x8F6,
        }
    }

    /// Where this database's URLs start: `/mail/tyamada.nsf`.
    pub fn href(&self) -> String {
        format!("/{}", self.path)
    }

    pub fn view(&self, name: &str) -> Option<&ViewDef> {
        self.views
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
    }

    pub fn view_by_unid(&self, unid: &str) -> Option<&ViewDef> {
        self.views
            .iter()
            .find(|v| v.unid.eq_ignore_ascii_case(unid))
    }

    pub fn doc(&self, unid: &str) -> Option<&Document> {
        self.docs.get(&unid.to_ascii_uppercase())
    }

    pub fn doc_mut(&mut self, unid: &str) -> Option<&mut Document> {
        self.docs.get_mut(&unid.to_ascii_uppercase())
    }

    /// Adds a new document stamped `at`, returning its UNID.
    pub fn create(
        &mut self,
        form: Option<&str>,
        items: Vec<(String, Item)>,
        author: &str,
        at: DateTime<Utc>,
    ) -> String {
        let unid = super::http::new_unid();
        let mut doc = Document {
            unid: unid.clone(),
            noteid: self.next_noteid,
            created: at,
            modified: at,
            parent: None,
            authors: vec![author.to_string()],
            items: BTreeMap::new(),
        };
        self.next_noteid += 4;
        if let Some(f) = form {
            doc.set("Form", Item::text(f));
        }
        for (k, v) in items {
            doc.set(&k, v);
        }
        self.docs.insert(unid.clone(), doc);
        unid
    }
}

/// Server-wide switches, changed through `/_sandbox/domino/*`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The server's *Enabled services* (§4): `Data`, `Calendar`.
    pub services: Vec<String>,
    /// `DataServiceMaxViewEntries` (§2.2).
    pub max_view_entries: usize,
    pub auth_failure_status: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            services: vec!["Data".into(), "Calendar".into()],
            max_view_entries: 100,
            auth_failure_status: assumed::AUTH_FAILURE_STATUS,
        }
    }
}

impl Settings {
    pub fn enabled(&self, service: &str) -> bool {
        self.services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(service))
    }
}

/// Everything the emulator keeps (and persists when a data directory is set).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Store {
    pub users: Vec<User>,
    pub databases: Vec<Database>,
    #[serde(default)]
    pub settings: Settings,
}

/// `mail\\tyamada.nsf`, `/Mail/TYamada.nsf` and `mail/tyamada.nsf` name the same database.
pub fn normalize_path(p: &str) -> String {
    p.replace('\\', "/").trim_matches('/').to_ascii_lowercase()
}

impl Store {
    pub fn db(&self, path: &str) -> Option<&Database> {
        let p = normalize_path(path);
        self.databases.iter().find(|d| normalize_path(&d.path) == p)
    }

    pub fn db_mut(&mut self, path: &str) -> Option<&mut Database> {
        let p = normalize_path(path);
        self.databases
            .iter_mut()
            .find(|d| normalize_path(&d.path) == p)
    }

    pub fn user(&self, short: &str) -> Option<&User> {
        self.users.iter().find(|u| u.short_name == short)
    }

    pub fn login(&self, name: &str, password: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.answers_to(name) && u.password == password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_items_restrict_reading_by_any_spelling_of_the_name() {
        let u = User {
            short_name: "tyamada".into(),
            full_name: "Takuya Yamada/Sample".into(),
            display_name: "山田 拓也".into(),
            email: "tyamada@sample.example".into(),
            password: "x".into(),
        };
        let mut db = Database::new("mail/t.nsf", "t", vec![]);
        let at = Utc::now();
        let a = db.create(None, vec![], "x", at);
        let b = db.create(
            None,
            vec![(
                "$Readers".into(),
                Item::Readers(vec!["CN=Takuya Yamada/O=Sample".into()]),
            )],
            "x",
            at,
        );
        let c = db.create(
            None,
            vec![(
                "$Readers".into(),
                Item::Readers(vec!["Someone Else/Sample".into()]),
            )],
            "x",
            at,
        );
        let can = |id: &str| db.doc(id).is_some_and(|d| d.readable_by(&u));
        assert!(can(&a) && can(&b) && !can(&c));
    }
}
