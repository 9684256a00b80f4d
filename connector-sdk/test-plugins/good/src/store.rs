//! The in-memory data of the `good` connector: one store per tenant (the `tenant` setting),
//! each object a table of records stamped with a global change sequence. The sequence is the
//! read cursor, so a saved cursor stays valid and an incremental read finds later changes.
//! The data lives as long as the process: in the hub that is one worker, i.e. one session.

use connector_sdk::Fields;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::objects::{ObjectDef, OBJECTS};

/// Records each object starts with.
pub const SEED_COUNT: u64 = 12;

#[derive(Debug, Clone)]
pub struct Stored {
    pub id: u64,
    /// The change sequence number of the last write: the read order and the cursor.
    pub seq: u64,
    pub version: u64,
    pub deleted: bool,
    pub fields: Fields,
}

impl Stored {
    /// Seconds after a fixed epoch, so the stamp follows the change order.
    pub fn modified_at(&self) -> String {
        let s = self.seq;
        format!(
            "2024-01-{:02}T{:02}:{:02}:{:02}Z",
            1 + s / 86_400,
            s / 3600 % 24,
            s / 60 % 60,
            s % 60
        )
    }

    pub fn private(&self) -> bool {
        self.fields.get("confidential").and_then(Value::as_str) == Some("1")
    }
}

#[derive(Debug, Default)]
pub struct Table {
    pub next_id: u64,
    pub records: BTreeMap<u64, Stored>,
}

#[derive(Debug, Default)]
pub struct Tenant {
    pub seq: u64,
    pub tables: BTreeMap<String, Table>,
}

impl Tenant {
    fn seeded() -> Tenant {
        let mut t = Tenant::default();
        for def in OBJECTS {
            let mut table = Table::default();
            for n in 1..=SEED_COUNT {
                let fields = seed_fields(def, n);
                t.seq += 1;
                table.next_id += 1;
                let id = table.next_id;
                table.records.insert(
                    id,
                    Stored {
                        id,
                        seq: t.seq,
                        version: 1,
                        deleted: false,
                        fields,
                    },
                );
            }
            t.tables.insert(def.id.to_string(), table);
        }
        t
    }

    /// The next change sequence number.
    pub fn tick(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

fn seed_fields(def: &ObjectDef, n: u64) -> Fields {
    let v = match def.id {
        "contacts" => json!({
            "name": format!("担当者 {n:02}"),
            "email": format!("user{n:02}@example.jp"),
            "phone": format!("03-1234-{n:04}"),
            "confidential": if n.is_multiple_of(5) { "1" } else { "0" },
        }),
        _ => json!({
            "name": format!("株式会社テスト{n:02}"),
            "phone": format!("06-9876-{n:04}"),
        }),
    };
    match v {
        Value::Object(m) => m,
        _ => Fields::new(),
    }
}

static TENANTS: Mutex<BTreeMap<String, Tenant>> = Mutex::new(BTreeMap::new());

/// The tenant's data, seeded on first use.
pub fn with_tenant<R>(name: &str, f: impl FnOnce(&mut Tenant) -> R) -> R {
    // A panic while the lock was held (misbehave=panic) must not wedge later calls.
    let mut all: MutexGuard<'_, _> = TENANTS.lock().unwrap_or_else(|p| p.into_inner());
    let tenant = all.entry(name.to_string()).or_insert_with(Tenant::seeded);
    f(tenant)
}
