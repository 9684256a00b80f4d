//! A 外字 (user-defined character, CP932 0xF040–0xF9FC) in a 奉行 CSV reaching Zoho: the name
//! is carried with its private-use code point (the standard mapping), the run is a success, and
//! it says where the character is (file, line, column, code) so that a person fixes it in 奉行,
//! in the API's run answer and in `hub run`'s output.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use support::{plugin_dir, TestHub};

const OBJ: &str = "csv_customers";

/// Org A's Accounts, by name.
fn account_named(crm: &str, name: &str) -> Option<Value> {
    let v: Value = Client::new()
        .get(format!(
            "{crm}/_sandbox/zoho/orgs/A/modules/Accounts/records"
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v.get("data")
        .or(Some(&v))
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .find(|r| r["Account_Name"] == name)
        .cloned()
}

/// 取引先 as 奉行 writes them (CP932, CRLF), the second with 0xF040 in its name: a 外字 made
/// with the 外字エディタ of the PC that typed it.
fn customers_csv() -> Vec<u8> {
    let sjis = |t: &str| {
        let (b, _, unmappable) = encoding_rs::SHIFT_JIS.encode(t);
        assert!(!unmappable);
        b.into_owned()
    };
    let mut bytes = sjis(
        "取引先コード,取引先名,フリガナ,郵便番号,住所1,電話番号\r\n\
         900001,外字テスト通常商事,ﾂｳｼﾞｮｳ,160-0023,東京都新宿区西新宿1,03-1111-0001\r\n\
         900002,株式会社",
    );
    bytes.extend_from_slice(&[0xF0, 0x40]);
    bytes.extend_from_slice(&sjis(
        "商店,ｶﾌﾞｼｷｶﾞｲｼｬｼｮｳﾃﾝ,160-0023,東京都新宿区西新宿2,03-1111-0002\r\n",
    ));
    bytes
}

#[test]
fn a_gaiji_in_a_customer_name_is_imported_with_a_warning_naming_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-obc", "connector-zoho-crm"]);
    let plugin_paths = [plugins.path().to_path_buf()];
    let env: &[(&str, &str)] = &[("HUB_RUNNERS", "0")];
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &plugin_paths,
        env,
    );
    let crm = hub.announcement()["zoho_crm"].as_str().unwrap().to_string();
    let (_, conns) = hub.get("/api/connections");
    let zoho = conns
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["connector"] == "zoho-crm")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("no Zoho sandbox connection: {conns}"));

    let root = dir.path().join("bugyo");
    std::fs::create_dir_all(&root).unwrap();
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "obc", "name": "奉行 CSV（本社）", "registration_number": "OBC-CSV-0001",
                "phone": "03-0000-0000", "settings": {"csv_root": root.display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let obc = body["id"].as_str().unwrap().to_string();
    let (_, check) = hub.post(&format!("/api/connections/{obc}/check"), &json!({}));
    assert_eq!(check["ok"], true, "{check}");

    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "奉行 取引先 CSV → Zoho 取引先",
                "source": {"connection": obc, "object": OBJ},
                "target": {"connection": zoho, "object": "Accounts"},
                "mapping": [{"from": "name", "to": "Account_Name"}, {"from": "tel", "to": "Phone"}],
                "match_keys": [{"source": "name", "target": "Account_Name", "normalize": "company_name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();

    let tmp = root.join(".取引先.csv.tmp");
    std::fs::write(&tmp, customers_csv()).unwrap();
    std::fs::rename(&tmp, root.join(OBJ).join("取引先.csv")).unwrap();
    let (code, out) = hub.cli(&["run", &flow], &plugin_paths, env);
    assert_eq!(code, 0, "a warning does not fail the run: {out}");
    assert!(out.contains(": success"), "{out}");
    assert!(
        out.contains("created 2 ") && out.contains("failed 0  warnings 1"),
        "{out}"
    );

    // The standard mapping stays: the name reaches Zoho with U+E000 where the 外字 was.
    let acct = account_named(&crm, "株式会社\u{E000}商店");
    assert!(acct.is_some(), "the account is written all the same");

    let (_, runs) = hub.get(&format!("/api/runs?flow={flow}"));
    let run_id = runs[0]["id"].as_str().unwrap().to_string();
    let (s, run) = hub.get(&format!("/api/runs/{run_id}"));
    assert_eq!(s, 200, "{run}");
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(run["counts"]["warnings"], 1, "{run}");
    assert_eq!(run["counts"]["failed"], 0, "{run}");
    assert_eq!(run["errors"], json!([]), "{run}");
    let w = &run["warnings"][0];
    assert_eq!(
        (&w["record"], &w["side"], &w["code"]),
        (&json!("900002"), &json!("source"), &json!("gaiji")),
        "{run}"
    );
    let p = &w["params"];
    assert_eq!(
        (
            &p["file"],
            &p["line"],
            &p["column"],
            &p["header"],
            &p["char_code"]
        ),
        (
            &json!("取引先.csv"),
            &json!("3"),
            &json!("2"),
            &json!("取引先名"),
            &json!("0xF040")
        ),
        "{run}"
    );
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("外字（ユーザー定義文字）があります"),
        "{run}"
    );
    assert_eq!(run["warnings"].as_array().unwrap().len(), 1, "{run}");
}
