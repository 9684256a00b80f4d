//! The data of both orgs: records per module with the indexes that keep listing, upsert and
//! duplicate checks fast at 100k+ records, the deleted-records feed, and the saved form.

use super::assumed;
use super::schema::{Module, MODULES};
use super::tokens::TokenStore;
use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub fn now() -> i64 {
    Utc::now().timestamp()
}

fn offset() -> FixedOffset {
    FixedOffset::east_opt(assumed::UTC_OFFSET_SECS).unwrap_or_else(|| Utc.fix())
}

/// ISO 8601 in the user's offset, to the second (§8).
pub fn fmt_time(t: i64) -> String {
    let off = offset();
    match off.timestamp_opt(t, 0).single() {
        Some(d) => d.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => String::new(),
    }
}

/// An `If-Modified-Since` value or a datetime field: ISO 8601 as Zoho documents it, or the
/// HTTP-date form generic clients send.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .map(|d| d.timestamp())
        .ok()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub app_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub last_name: String,
    pub first_name: String,
    pub email: String,
    pub password: String,
}

impl User {
    pub fn full_name(&self) -> String {
        assumed::full_name(&self.last_name, &self.first_name)
    }
}

/// What identifies an org, apart from its records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgInfo {
    /// "A" or "B".
    pub key: String,
    pub name: String,
    pub zgid: u64,
    /// Record ids are `id_base + seq`: 64-bit numbers like Zoho's (§8).
    pub id_base: u64,
    pub next_seq: u64,
    pub client: Client,
    pub user: User,
    /// Minted at first start so scripts and the hub's sandbox presets skip the consent page.
    pub preset_refresh_token: String,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub id: u64,
    pub created: i64,
    pub modified: i64,
    pub created_by: u64,
    pub modified_by: u64,
    /// Stored values: lookups and owners as the target id string, datetimes normalised.
    pub fields: BTreeMap<&'static str, Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deleted {
    pub id: u64,
    pub display_name: String,
    pub created_by: u64,
    pub deleted_by: u64,
    pub deleted_time: i64,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Key used by duplicate checks and the unique index.
pub fn match_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(if assumed::CASE_INSENSITIVE_MATCH {
            s.trim().to_lowercase()
        } else {
            s.trim().to_string()
        }),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub struct ModuleData {
    pub schema: &'static Module,
    records: BTreeMap<u64, Record>,
    by_modified: BTreeSet<(i64, u64)>,
    by_created: BTreeSet<(i64, u64)>,
    /// Duplicate-check and unique fields: match key → ids.
    index: HashMap<&'static str, HashMap<String, Vec<u64>>>,
    pub deleted: Vec<Deleted>,
}

/// Which order a list walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    Id,
    Created,
    Modified,
}

impl ModuleData {
    pub fn new(schema: &'static Module) -> Self {
        let index = schema
            .default_dup_fields()
            .into_iter()
            .map(|f| (f, HashMap::new()))
            .collect();
        ModuleData {
            schema,
            records: BTreeMap::new(),
            by_modified: BTreeSet::new(),
            by_created: BTreeSet::new(),
            index,
            deleted: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn get(&self, id: u64) -> Option<&Record> {
        self.records.get(&id)
    }

    pub fn records(&self) -> impl DoubleEndedIterator<Item = &Record> {
        self.records.values()
    }

    /// Adds or replaces a record, keeping every index in step.
    pub fn put(&mut self, r: Record) {
        self.unindex(r.id);
        self.by_modified.insert((r.modified, r.id));
        self.by_created.insert((r.created, r.id));
        for (field, map) in self.index.iter_mut() {
            if let Some(k) = r.fields.get(field).and_then(match_key) {
                map.entry(k).or_default().push(r.id);
            }
        }
        self.records.insert(r.id, r);
    }

    pub fn remove(&mut self, id: u64) -> Option<Record> {
        self.unindex(id);
        self.records.remove(&id)
    }

    fn unindex(&mut self, id: u64) {
        let Some(old) = self.records.get(&id) else {
            return;
        };
        self.by_modified.remove(&(old.modified, id));
        self.by_created.remove(&(old.created, id));
        for (field, map) in self.index.iter_mut() {
            if let Some(k) = old.fields.get(field).and_then(match_key) {
                if let Some(ids) = map.get_mut(&k) {
                    ids.retain(|x| *x != id);
                    if ids.is_empty() {
                        map.remove(&k);
                    }
                }
            }
        }
    }

    /// Ids whose `field` matches `value`, oldest first.
    pub fn find_by(&self, field: &str, value: &Value) -> Vec<u64> {
        let Some(key) = match_key(value) else {
            return Vec::new();
        };
        match self.index.get(field) {
            Some(map) => {
                let mut ids = map.get(&key).cloned().unwrap_or_default();
                ids.sort_unstable();
                ids
            }
            None => self
                .records
                .values()
                .filter(|r| r.fields.get(field).and_then(match_key).as_deref() == Some(&key))
                .map(|r| r.id)
                .collect(),
        }
    }

    /// The sort key of a record under `sort`.
    pub fn key(&self, r: &Record, sort: SortBy) -> (i64, u64) {
        match sort {
            SortBy::Id => (0, r.id),
            SortBy::Created => (r.created, r.id),
            SortBy::Modified => (r.modified, r.id),
        }
    }

    /// Records in `sort` order, strictly after `after` (in walking direction), modified after
    /// `since`. Walking Modified_Time ascending from `since` starts at `since` in the index.
    pub fn walk(
        &self,
        sort: SortBy,
        desc: bool,
        since: Option<i64>,
        after: Option<(i64, u64)>,
    ) -> Box<dyn Iterator<Item = &Record> + '_> {
        use std::ops::Bound::{Excluded, Unbounded};
        let since_ok = move |r: &&Record| since.is_none_or(|s| modified_after(r.modified, s));
        let keys: Box<dyn Iterator<Item = u64> + '_> = match sort {
            SortBy::Id => {
                let range = match (after, desc) {
                    (Some((_, id)), false) => (Excluded(id), Unbounded),
                    (Some((_, id)), true) => (Unbounded, Excluded(id)),
                    (None, _) => (Unbounded, Unbounded),
                };
                let it = self.records.range(range).map(|(k, _)| *k);
                if desc {
                    Box::new(it.rev())
                } else {
                    Box::new(it)
                }
            }
            SortBy::Created | SortBy::Modified => {
                let set = if sort == SortBy::Created {
                    &self.by_created
                } else {
                    &self.by_modified
                };
                let mut lower = after.filter(|_| !desc).map(Excluded).unwrap_or(Unbounded);
                if sort == SortBy::Modified && !desc && after.is_none() {
                    if let Some(s) = since {
                        let from = if assumed::IF_MODIFIED_SINCE_STRICT {
                            s
                        } else {
                            s - 1
                        };
                        lower = Excluded((from, u64::MAX));
                    }
                }
                let upper = after.filter(|_| desc).map(Excluded).unwrap_or(Unbounded);
                let it = set.range((lower, upper)).map(|(_, id)| *id);
                if desc {
                    Box::new(it.rev())
                } else {
                    Box::new(it)
                }
            }
        };
        let records = keys.filter_map(|id| self.records.get(&id));
        if sort == SortBy::Modified && desc {
            // Newest first: everything after the first old record is old too.
            Box::new(records.take_while(since_ok))
        } else {
            Box::new(records.filter(since_ok))
        }
    }

    /// Whether anything changed after `since` (for 304).
    pub fn modified_since(&self, since: i64) -> bool {
        self.by_modified
            .iter()
            .next_back()
            .is_some_and(|(t, _)| modified_after(*t, since))
    }
}

pub fn modified_after(t: i64, since: i64) -> bool {
    if assumed::IF_MODIFIED_SINCE_STRICT {
        t > since
    } else {
        t >= since
    }
}

pub struct OrgData {
    pub info: OrgInfo,
    pub modules: Vec<ModuleData>,
}

impl OrgData {
    pub fn new(info: OrgInfo) -> Self {
        OrgData {
            info,
            modules: MODULES.iter().map(ModuleData::new).collect(),
        }
    }

    pub fn next_id(&mut self) -> u64 {
        self.info.next_seq += 1;
        self.info.id_base + self.info.next_seq
    }
}

pub struct Store {
    pub orgs: Vec<OrgData>,
    pub tokens: TokenStore,
}

// ---- saved form (persist.rs): field names as strings so a schema change cannot shift values.

#[derive(Serialize, Deserialize)]
struct SavedRecord {
    id: u64,
    created: i64,
    modified: i64,
    created_by: u64,
    modified_by: u64,
    fields: Map<String, Value>,
}

#[derive(Serialize, Deserialize, Default)]
struct SavedModule {
    records: Vec<SavedRecord>,
    deleted: Vec<Deleted>,
}

#[derive(Serialize, Deserialize)]
struct SavedOrg {
    info: OrgInfo,
    modules: BTreeMap<String, SavedModule>,
}

#[derive(Serialize, Deserialize)]
pub struct Saved {
    orgs: Vec<SavedOrg>,
    tokens: TokenStore,
}

impl Store {
    pub fn to_saved(&self) -> Saved {
        let orgs = self
            .orgs
            .iter()
            .map(|o| SavedOrg {
                info: o.info.clone(),
                modules: o
                    .modules
                    .iter()
                    .map(|m| {
                        let records = m
                            .records()
                            .map(|r| SavedRecord {
                                id: r.id,
                                created: r.created,
                                modified: r.modified,
                                created_by: r.created_by,
                                modified_by: r.modified_by,
                                fields: r
                                    .fields
                                    .iter()
                                    .map(|(k, v)| (k.to_string(), v.clone()))
                                    .collect(),
                            })
                            .collect();
                        let saved = SavedModule {
                            records,
                            deleted: m.deleted.clone(),
                        };
                        (m.schema.api_name.to_string(), saved)
                    })
                    .collect(),
            })
            .collect();
        Saved {
            orgs,
            tokens: self.tokens.clone(),
        }
    }

    pub fn from_saved(saved: Saved) -> Store {
        let orgs = saved
            .orgs
            .into_iter()
            .map(|so| {
                let mut org = OrgData::new(so.info);
                let mut modules = so.modules;
                for md in org.modules.iter_mut() {
                    let Some(sm) = modules.remove(md.schema.api_name) else {
                        continue;
                    };
                    md.deleted = sm.deleted;
                    for sr in sm.records {
                        let fields = sr
                            .fields
                            .into_iter()
                            .filter_map(|(k, v)| md.schema.field(&k).map(|f| (f.api_name, v)))
                            .collect();
                        md.put(Record {
                            id: sr.id,
                            created: sr.created,
                            modified: sr.modified,
                            created_by: sr.created_by,
                            modified_by: sr.modified_by,
                            fields,
                        });
                    }
                }
                org
            })
            .collect();
        Store {
            orgs,
            tokens: saved.tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_render_in_jst_and_parse_both_forms() {
        assert_eq!(fmt_time(0), "1970-01-01T09:00:00+09:00");
        assert_eq!(parse_time("1970-01-01T09:00:00+09:00"), Some(0));
        assert_eq!(parse_time("Thu, 01 Jan 1970 00:00:10 GMT"), Some(10));
        assert_eq!(parse_time("yesterday"), None);
    }
}
