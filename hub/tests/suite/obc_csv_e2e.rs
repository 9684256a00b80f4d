//! The on-premise 奉行 CSV route through the real hub: a CP932 file of 10,000 取引先 dropped
//! into the watched folder of an OBC connection that has only `csv_root` set (no OAuth) flows
//! into kintone 顧客管理; the file is backed up by date and the import history says 処理済
//! with its counts. A second file with 3 changed rows writes exactly those 3, and the same
//! file dropped again is not imported twice.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::{plugin_dir, TestHub};

const OBJ: &str = "csv_customers";
const ROWS: usize = 10_000;

fn company(i: usize, changed: bool) -> (String, String) {
    let name = format!("㈱髙﨑ﾃｽﾄ{i:05}");
    let addr = if changed {
        format!("大阪府大阪市北区①丁目{i}（移転）")
    } else {
        format!("東京都新宿区西新宿{i}")
    };
    (name, addr)
}

/// A 取引先 export as 奉行 writes it: Shift_JIS (CP932), CRLF, 項目名 header.
fn customers_csv(changed: &[usize]) -> Vec<u8> {
    let mut text = String::from("取引先コード,取引先名,フリガナ,郵便番号,住所1,電話番号\r\n");
    for i in 1..=ROWS {
        let (name, addr) = company(i, changed.contains(&i));
        text.push_str(&format!(
            "{i:06},{name},ﾀｶｻｷﾃｽﾄ,160-0023,{addr},03-{:04}-{:04}\r\n",
            i / 10_000,
            i % 10_000
        ));
    }
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    assert!(
        bytes.windows(2).any(|w| w == [0x87, 0x8A]),
        "㈱ in NEC row 13"
    );
    bytes.into_owned()
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

fn run(hub: &TestHub, flow: &str, plugins: &[PathBuf]) -> String {
    let (code, out) = hub.cli(&["run", flow], plugins, &[("HUB_RUNNERS", "0")]);
    assert_eq!(code, 0, "{out}");
    out
}

fn kintone_records(base: &str, token: &str, query: &str) -> Vec<Value> {
    let v: Value = Client::new()
        .get(format!("{base}/k/v1/records.json"))
        .header("X-Cybozu-API-Token", token)
        .query(&[("app", "1"), ("query", query)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["records"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

fn history(hub: &TestHub, conn: &str) -> Vec<Value> {
    let (s, body) = hub.post(
        &format!("/api/connections/{conn}/actions/import_history"),
        &json!({"object": OBJ}),
    );
    assert_eq!(s, 200, "{body}");
    body["result"]["rows"].as_array().unwrap().clone()
}

fn drop_file(root: &Path, name: &str, bytes: &[u8]) {
    // Written beside the folder and moved in, as a careful exporter does; the route also
    // waits for files written in place (unit tests).
    let tmp = root.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, root.join(OBJ).join(name)).unwrap();
}

#[test]
fn ten_thousand_cp932_rows_reach_kintone_once_and_only_changes_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-obc", "connector-kintone"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &plugin_paths,
        &[("HUB_RUNNERS", "0")],
    );
    let a = hub.announcement();
    let kintone = a["kintone"].as_str().unwrap().to_string();
    let token = a["credentials"]["kintone"]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == "1")
        .and_then(|x| x["api_token"].as_str())
        .unwrap()
        .to_string();
    let (_, conns) = hub.get("/api/connections");
    let kintone_conn = conns
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["connector"] == "kintone" && c["name"].as_str().unwrap().contains("顧客管理"))
        .map(|c| c["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no kintone 顧客管理 connection: {conns}"));

    // The watch folder must stay inside the hub's files root (HUB_FILES_ROOT, here the
    // temporary folder): /etc or a climb out of it is refused, and nothing is created there.
    for outside in [
        "/etc",
        "../../../../../../../../..",
        "/var/lib/renkei-not-here",
    ] {
        let (s, body) = hub.post(
            "/api/connections",
            &json!({"connector": "obc", "name": "奉行 CSV（外）", "registration_number": "OBC-CSV-0002",
                    "phone": "03-0000-0000", "settings": {"csv_root": outside}}),
        );
        assert_eq!(s, 400, "{outside}: {body}");
        assert_eq!(body["error"]["field"], "settings.csv_root", "{body}");
    }
    assert!(!std::path::Path::new("/var/lib/renkei-not-here").exists());

    let root = dir.path().join("bugyo");
    std::fs::create_dir_all(&root).unwrap();
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "obc", "name": "奉行 CSV（本社）", "registration_number": "OBC-CSV-0001",
                "phone": "03-0000-0000", "settings": {"csv_root": root.display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let obc = body["id"].as_str().unwrap().to_string();
    let (s, check) = hub.post(&format!("/api/connections/{obc}/check"), &json!({}));
    assert_eq!((s, &check["ok"]), (200, &json!(true)), "{check}");
    assert!(root.join(OBJ).is_dir(), "the object's folder is created");

    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "奉行 取引先 CSV → kintone 顧客管理",
                "source": {"connection": obc, "object": OBJ},
                "target": {"connection": kintone_conn, "object": "1"},
                "mapping": [{"from": "name", "to": "会社名"}, {"from": "tel", "to": "電話番号"},
                            {"from": "postalCode", "to": "郵便番号"}, {"from": "address1", "to": "住所"},
                            {"from": "code", "to": "備考"}],
                "match_keys": [{"source": "name", "target": "会社名"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();

    // 1. The first export: every row lands.
    let first = customers_csv(&[]);
    drop_file(&root, "取引先.csv", &first);
    let out = run(&hub, &flow, &plugin_paths);
    assert!(out.contains(&format!("read {ROWS} ")), "{out}");
    assert!(out.contains(&format!("created {ROWS} ")), "{out}");
    assert!(out.contains("failed 0"), "{out}");
    let summary: Value = Client::new()
        .get(format!("{kintone}/_sandbox/kintone/apps/1"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(summary["records"], 30 + ROWS as u64, "{summary}");
    let rec = kintone_records(&kintone, &token, "会社名 = \"㈱髙﨑ﾃｽﾄ00042\"");
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["住所"]["value"], "東京都新宿区西新宿42");
    assert_eq!(rec[0]["備考"]["value"], "000042");
    let backup = root
        .join(OBJ)
        .join("backup")
        .join(today())
        .join("取引先.csv");
    assert_eq!(
        std::fs::read(&backup).unwrap(),
        first,
        "the file is kept in backup/<date>/"
    );
    assert!(!root.join(OBJ).join("取引先.csv").exists());
    let h = history(&hub, &obc);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0]["state"], "処理済");
    assert_eq!(
        (h[0]["rows"].as_u64(), h[0]["errors"].as_u64()),
        (Some(ROWS as u64), Some(0))
    );
    assert_eq!(h[0]["backup"], format!("backup/{}/取引先.csv", today()));

    // 2. The next export with 3 changed rows: exactly those 3 are written.
    let changed = [7, 5_000, 9_999];
    drop_file(&root, "取引先.csv", &customers_csv(&changed));
    let out = run(&hub, &flow, &plugin_paths);
    assert!(out.contains(&format!("read {ROWS} ")), "{out}");
    assert!(out.contains("created 0  updated 3 "), "{out}");
    assert!(out.contains(&format!("unchanged {} ", ROWS - 3)), "{out}");
    for i in changed {
        let (name, addr) = company(i, true);
        let rec = kintone_records(&kintone, &token, &format!("会社名 = \"{name}\""));
        assert_eq!(rec[0]["住所"]["value"], addr.as_str());
    }
    assert!(root
        .join(OBJ)
        .join("backup")
        .join(today())
        .join("取引先 (2).csv")
        .exists());

    // 3. The same file again (uploaded this time): read 0, recorded as a duplicate.
    let (s, body) = reqwest::blocking::Client::new()
        .put(format!(
            "{}/api/connections/{obc}/objects/{OBJ}/files/取引先_再送.csv",
            hub.url
        ))
        .bearer_auth(&hub.token)
        .body(first.clone())
        .send()
        .map(|r| (r.status().as_u16(), r.json::<Value>().unwrap()))
        .unwrap();
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["result"]["state"], "未処理");
    let out = run(&hub, &flow, &plugin_paths);
    assert!(out.contains("read 0 "), "{out}");
    let h = history(&hub, &obc);
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[0]["file"], "取引先_再送.csv");
    assert_eq!(h[0]["rows"], 0);
    assert_eq!(h[0]["duplicate_of"], h[2]["id"]);
    assert_eq!(h[1]["state"], "処理済");
    assert_eq!(h[1]["rows"], ROWS as u64);
    let _ = hub.stop();
}
