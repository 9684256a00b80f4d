//! Two file-store connections A and B on a real hub, and "by hand" edits of their records.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use test_plugin_filestore::store::{self, StoredRecord};

use super::{plugin_dir, TestHub};

/// No runner in the serving hub (runs go through `hub run`), and a short lease so a killed
/// run is resumed quickly.
pub const ENV: &[(&str, &str)] = &[("HUB_RUNNERS", "0"), ("HUB_RUN_LEASE_SECS", "1")];

pub fn put(dir: &Path, object: &str, records: Vec<Value>) -> Vec<u64> {
    let mut f = store::open(dir, object).unwrap();
    let mut ids = Vec::new();
    for r in records {
        let id = f.data.next_id;
        f.data.next_id += 1;
        let m = f.data.tick();
        let fields: Map<String, Value> = r.as_object().cloned().unwrap();
        f.data.records.insert(
            id,
            StoredRecord {
                version: 1,
                modified: m,
                deleted: false,
                fields,
            },
        );
        ids.push(id);
    }
    f.save().unwrap();
    ids
}

pub fn edit(dir: &Path, object: &str, id: u64, field: &str, value: &str) {
    let mut f = store::open(dir, object).unwrap();
    let m = f.data.tick();
    let r = f.data.records.get_mut(&id).unwrap();
    r.fields.insert(field.into(), json!(value));
    r.version += 1;
    r.modified = m;
    f.save().unwrap();
}

/// An edit in the same tick as the last write: version and modification time stay as they
/// were, as with Notes' or Zoho's whole-second stamps when a person saves within the second
/// the hub wrote.
pub fn edit_same_tick(dir: &Path, object: &str, id: u64, field: &str, value: &str) {
    let mut f = store::open(dir, object).unwrap();
    let r = f.data.records.get_mut(&id).unwrap();
    r.fields.insert(field.into(), json!(value));
    f.save().unwrap();
}

pub fn all(dir: &Path, object: &str) -> BTreeMap<u64, StoredRecord> {
    store::open(dir, object).unwrap().data.records
}

pub struct Pair {
    pub hub: TestHub,
    pub plugins: tempfile::TempDir,
    pub a: PathBuf,
    pub b: PathBuf,
    pub flow: String,
    _data: tempfile::TempDir,
}

/// A hub with connections A and B and a `companies` flow from A to B; `flow` adds to the
/// flow JSON (direction, conflict…).
pub fn pair(database_url: &str, flow: Value) -> Pair {
    pair_env(database_url, flow, ENV)
}

/// [`pair`] with the serving hub's environment given (e.g. with runners).
pub fn pair_env(database_url: &str, flow: Value, env: &[(&str, &str)]) -> Pair {
    let data = tempfile::tempdir().unwrap();
    let (a, b) = (data.path().join("a"), data.path().join("b"));
    let plugins = plugin_dir(&["test-plugin-filestore"]);
    let hub = TestHub::start_env(
        database_url,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        env,
    );
    let mut conns = Vec::new();
    for (name, path) in [("送信元", &a), ("送信先", &b)] {
        let (s, body) = hub.post(
            "/api/connections",
            &json!({"connector": "filestore", "name": name, "registration_number": "TEST-0001", "phone": "03-0000-0000",
                    "settings": {"path": path.display().to_string()}}),
        );
        assert_eq!(s, 201, "{body}");
        conns.push(body["id"].as_str().unwrap().to_string());
    }
    let mut spec = json!({
        "name": "会社 A → B", "source": {"connection": conns[0], "object": "companies"},
        "target": {"connection": conns[1], "object": "companies"},
        "mapping": [{"from": "name", "to": "name"}, {"from": "phone", "to": "phone"}, {"from": "address", "to": "address", "transform": "trim"}],
        "match_keys": [{"source": "name", "target": "name", "normalize": "company_name"}]
    });
    for (k, v) in flow.as_object().cloned().unwrap_or_default() {
        spec[k] = v;
    }
    let (s, body) = hub.post("/api/flows", &spec);
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();
    Pair {
        hub,
        plugins,
        a,
        b,
        flow,
        _data: data,
    }
}

impl Pair {
    /// `hub run FLOW`: exit code and output.
    pub fn run(&self) -> (i32, String) {
        self.hub.cli(
            &["run", &self.flow],
            &[self.plugins.path().to_path_buf()],
            ENV,
        )
    }

    /// (created, updated) from a run's summary line.
    pub fn writes(out: &str) -> (i64, i64) {
        let num = |label: &str| -> i64 {
            out.split(label)
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(-1)
        };
        (num("created "), num("updated "))
    }
}
