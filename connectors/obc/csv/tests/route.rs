//! The watched-folder route end to end, in process: files dropped or uploaded, read page by
//! page, recorded in the import history, moved to backup; duplicates, same-name uploads,
//! crashes between pages, and CP932 export.

use base64::Engine as _;
use connector_sdk::{
    Connection, ReadPage, ReadRequest, WriteAction, WriteOp, WriteOutcome, WriteRequest,
};
use obc_csv::{codec, read::Options};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const OBJ: &str = "csv_customers";
const HEADER: &str = "取引先コード,取引先名,取引先名カナ,略称,郵便番号,住所1,住所2,電話番号,FAX番号,メールアドレス,締日\r\n";

fn conn(root: &Path) -> Connection {
    let mut c = Connection::default();
    c.settings
        .insert("csv_root".into(), json!(root.display().to_string()));
    c
}

fn opts() -> Options {
    Options {
        settle: Duration::from_millis(30),
    }
}

fn sjis(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    codec::encode_cp932(text, &mut out).unwrap();
    out
}

fn row(i: usize, name: &str) -> String {
    format!(
        "{i:06},{name},ﾃｽﾄ,,160-0023,東京都新宿区{i}番地,,03-0000-{:04},,,31\r\n",
        i % 10_000
    )
}

fn customers_csv(n: usize, tag: &str) -> Vec<u8> {
    let mut text = HEADER.to_string();
    for i in 1..=n {
        text.push_str(&row(i, &format!("㈱髙﨑商事{tag}{i}")));
    }
    sjis(&text)
}

fn read(c: &Connection, cursor: Option<&str>, page: u32) -> ReadPage {
    obc_csv::read_with(
        c,
        &ReadRequest {
            options: Default::default(),
            object: OBJ.into(),
            cursor: cursor.map(str::to_string),
            since: None,
            page_size: Some(page),
            fields: None,
            ..Default::default()
        },
        &opts(),
    )
    .unwrap()
}

/// Reads until `has_more` is false, as the hub does; answers every page.
fn read_all(
    c: &Connection,
    mut cursor: Option<String>,
    page: u32,
) -> (Vec<ReadPage>, Option<String>) {
    let mut pages = Vec::new();
    for _ in 0..10_000 {
        let p = read(c, cursor.as_deref(), page);
        cursor = p.next_cursor.clone();
        let more = p.has_more;
        pages.push(p);
        if !more {
            return (pages, cursor);
        }
    }
    panic!("read never ended");
}

fn ids(pages: &[ReadPage]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p.records.iter().map(|r| r.id.clone()))
        .collect()
}

fn history(c: &Connection) -> Vec<Value> {
    let v = obc_csv::action(c, "import_history", &json!({"object": OBJ}))
        .unwrap()
        .unwrap();
    v["rows"].as_array().unwrap().clone()
}

fn today() -> String {
    chrono::Local::now().format("%Y-%m-%d").to_string()
}

fn backup(root: &Path, name: &str) -> PathBuf {
    root.join(OBJ).join("backup").join(today()).join(name)
}

fn setup() -> (tempfile::TempDir, Connection) {
    let dir = tempfile::tempdir().unwrap();
    let c = conn(dir.path());
    let objects = obc_csv::objects(&c).unwrap();
    assert!(objects.iter().any(|o| o.id == OBJ));
    assert!(
        dir.path().join(OBJ).is_dir(),
        "objects() creates the folder"
    );
    (dir, c)
}

#[test]
fn a_dropped_file_is_read_in_pages_recorded_and_backed_up() {
    let (dir, c) = setup();
    let mut bytes = customers_csv(250, "");
    // Two bad rows: a date-less number and a character that is not CP932.
    bytes.extend_from_slice(&sjis("000251,壊れた締日,,,,,,,,,末\r\n"));
    bytes.extend_from_slice(&sjis("000252,"));
    bytes.extend_from_slice(&[0x82, 0xA0, 0xFF, b',']);
    bytes.extend_from_slice(&sjis(",,,,,,,,\r\n"));
    std::fs::write(dir.path().join(OBJ).join("取引先.csv"), &bytes).unwrap();

    let (pages, cursor) = read_all(&c, None, 100);
    let got = ids(&pages);
    assert_eq!(got.len(), 250);
    assert_eq!(got[0], "000001");
    assert!(pages.iter().all(|p| p.records.len() <= 100));
    let first = &pages[0].records[0];
    assert_eq!(first.fields["name"], "㈱髙﨑商事1");
    assert_eq!(first.fields["nameKana"], "ﾃｽﾄ");
    assert_eq!(first.fields["closingDay"], "31");
    let issues: Vec<_> = pages.iter().flat_map(|p| p.issues.clone()).collect();
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert_eq!(issues[0].record, "取引先.csv:252");
    assert!(
        issues[0].message.contains("11列目「締日」"),
        "{}",
        issues[0].message
    );
    assert_eq!(issues[1].record, "取引先.csv:253");
    assert!(issues[1].message.contains("2列目「取引先名」") && issues[1].message.contains("0xFF"));
    assert_eq!(cursor.as_deref(), Some("v1:idle"));

    assert!(backup(dir.path(), "取引先.csv").exists());
    assert!(!dir.path().join(OBJ).join("取引先.csv").exists());
    assert_eq!(
        std::fs::read_dir(dir.path().join(OBJ).join(".processing"))
            .unwrap()
            .count(),
        0
    );
    let h = history(&c);
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0]["state"], "エラー");
    assert_eq!(
        (h[0]["rows"].as_u64(), h[0]["errors"].as_u64()),
        (Some(250), Some(2))
    );
    assert_eq!(h[0]["backup"], format!("backup/{}/取引先.csv", today()));
    assert!(h[0]["error_details"][0]
        .as_str()
        .unwrap()
        .contains("252行目"));

    // Idle: nothing more, and no wait when nothing is there.
    let p = read(&c, cursor.as_deref(), 100);
    assert!(p.records.is_empty() && !p.has_more);
}

#[test]
fn the_same_content_is_not_imported_twice_and_changed_content_is() {
    let (dir, c) = setup();
    let folder = dir.path().join(OBJ);
    std::fs::write(folder.join("取引先.csv"), customers_csv(30, "")).unwrap();
    let (pages, cursor) = read_all(&c, None, 100);
    assert_eq!(ids(&pages).len(), 30);
    assert_eq!(history(&c)[0]["state"], "処理済");

    std::fs::write(folder.join("取引先_再送.csv"), customers_csv(30, "")).unwrap();
    let (pages, cursor) = read_all(&c, cursor, 100);
    assert!(ids(&pages).is_empty(), "a duplicate was read again");
    let h = history(&c);
    assert_eq!(h[0]["file"], "取引先_再送.csv");
    assert_eq!(h[0]["state"], "処理済");
    assert_eq!(h[0]["rows"], 0);
    assert_eq!(h[0]["duplicate_of"], h[1]["id"]);
    assert!(backup(dir.path(), "取引先_再送.csv").exists());

    std::fs::write(folder.join("取引先.csv"), customers_csv(30, "改")).unwrap();
    let (pages, _) = read_all(&c, cursor, 100);
    assert_eq!(ids(&pages).len(), 30);
    assert!(backup(dir.path(), "取引先 (2).csv").exists());
}

fn upload(c: &Connection, name: &str, bytes: &[u8]) -> Value {
    obc_csv::action(
        c,
        "receive_file",
        &json!({"object": OBJ, "name": name,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes)}),
    )
    .unwrap()
    .unwrap()
}

#[test]
fn a_file_with_the_name_of_one_being_imported_waits_its_turn() {
    let (dir, c) = setup();
    let first = customers_csv(150, "一");
    let second = customers_csv(150, "二");
    let third = customers_csv(150, "三");
    assert_eq!(upload(&c, "取引先.csv", &first)["queued"], false);
    // The first is taken and half read ...
    let p1 = read(&c, None, 100);
    assert_eq!(p1.records[0].fields["name"], "㈱髙﨑商事一1");
    // ... while two more of the same name arrive: the folder's name is free again, so the
    // second lands there and the third is queued behind it.
    assert_eq!(upload(&c, "取引先.csv", &second)["queued"], false);
    let r = upload(&c, "取引先.csv", &third);
    assert_eq!(r["queued"], true, "{r}");
    assert_eq!(r["state"], "未処理");
    let waiting: Vec<Value> = history(&c)
        .into_iter()
        .filter(|h| h["state"] == "未処理" && h["started_at"].is_null())
        .collect();
    assert_eq!(waiting.len(), 2);

    let (rest, _) = read_all(&c, p1.next_cursor.clone(), 100);
    let names: Vec<String> = rest
        .iter()
        .flat_map(|p| p.records.iter())
        .map(|r| r.fields["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 50 + 150 + 150);
    assert_eq!(names[49], "㈱髙﨑商事一150");
    assert_eq!(names[50], "㈱髙﨑商事二1");
    assert_eq!(names[200], "㈱髙﨑商事三1");
    for (i, n) in ["取引先.csv", "取引先 (2).csv", "取引先 (3).csv"]
        .iter()
        .enumerate()
    {
        let b = std::fs::read(backup(dir.path(), n)).unwrap();
        assert_eq!(b, [&first, &second, &third][i].clone(), "{n}");
    }
    let done = history(&c)
        .iter()
        .filter(|h| h["state"] == "処理済")
        .count();
    assert_eq!(done, 3);
}

#[test]
fn a_crash_before_the_hub_committed_rereads_from_the_committed_cursor() {
    let (dir, c) = setup();
    std::fs::write(
        dir.path().join(OBJ).join("取引先.csv"),
        customers_csv(250, ""),
    )
    .unwrap();
    // Pages 1 and 2 are read; the hub committed only page 1, then died.
    let p1 = read(&c, None, 100);
    let p2 = read(&c, p1.next_cursor.as_deref(), 100);
    assert_eq!(p2.records[0].id, "000101");
    let again = read(&c, p1.next_cursor.as_deref(), 100);
    assert_eq!(again.records, p2.records, "page 2 again after the crash");

    // A crash before even page 1 was committed: the taken file is read from its start.
    let fresh = read(&c, None, 100);
    assert_eq!(fresh.records[0].id, "000001");

    // The hub batches pages: the finishing call came before it committed pages 2 and 3.
    let (_, end) = read_all(&c, p1.next_cursor.clone(), 100);
    assert_eq!(end.as_deref(), Some("v1:idle"));
    assert!(backup(dir.path(), "取引先.csv").exists());
    let (replayed, _) = read_all(&c, p1.next_cursor.clone(), 100);
    let got = ids(&replayed);
    assert_eq!(
        got.len(),
        150,
        "rows 101–250 are read again from the backup"
    );
    assert_eq!(got[0], "000101");
    let h = history(&c);
    assert_eq!(h.len(), 1, "the replay is not a second import: {h:?}");
    assert_eq!(h[0]["rows"], 250);
}

#[test]
fn a_crash_between_recording_and_moving_completes_the_move() {
    let (dir, c) = setup();
    let bytes = customers_csv(10, "");
    std::fs::write(dir.path().join(OBJ).join("取引先.csv"), &bytes).unwrap();
    let (_, _) = read_all(&c, None, 100);
    // Put the file back into .processing as if the move had not happened.
    let processing = dir.path().join(OBJ).join(".processing").join("取引先.csv");
    std::fs::rename(backup(dir.path(), "取引先.csv"), &processing).unwrap();
    let (pages, _) = read_all(&c, None, 100);
    assert!(
        ids(&pages).is_empty(),
        "a finished import is not read again"
    );
    assert!(!processing.exists());
    assert_eq!(
        std::fs::read(backup(dir.path(), "取引先.csv")).unwrap(),
        bytes
    );
    let h = history(&c);
    assert_eq!((h.len(), h[0]["state"].as_str()), (1, Some("処理済")));
}

#[test]
fn a_file_without_the_key_column_is_an_error_import() {
    let (dir, c) = setup();
    std::fs::write(
        dir.path().join(OBJ).join("違う.csv"),
        sjis("名前,住所\r\nA,B\r\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(OBJ).join("正しい.csv"),
        customers_csv(3, ""),
    )
    .unwrap();
    let (pages, _) = read_all(&c, None, 100);
    let issues: Vec<_> = pages.iter().flat_map(|p| p.issues.clone()).collect();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].record, "違う.csv");
    assert_eq!(issues[0].code, "missing_key_column");
    assert_eq!(ids(&pages).len(), 3);
    let h = history(&c);
    let bad = h.iter().find(|e| e["file"] == "違う.csv").unwrap();
    assert_eq!(bad["state"], "エラー");
    assert!(bad["message"].as_str().unwrap().contains("取引先コード"));
}

#[test]
fn read_rows_export_back_byte_identical_and_unencodable_text_fails_alone() {
    let (dir, c) = setup();
    let text = format!(
        "{HEADER}000001,㈱髙﨑商事,ｶﾌﾞｼｷｶﾞｲｼｬﾀｶｻｷ,髙﨑,160-0023,東京都新宿区①丁目,\"ビル 3F, 西館\",03-0000-0000,03-0000-0001,a@example.jp,31\r\n\
         000002,ⅰⅱⅲ纊褜鍈銈,ｱｲｳｴｵ,,,Ⅰ〜Ⅹ№℡∮∑,\"引用\"\"符\"\"\",,,,\r\n"
    );
    let original = sjis(&text);
    std::fs::write(dir.path().join(OBJ).join("取引先.csv"), &original).unwrap();
    let (pages, _) = read_all(&c, None, 100);
    let records: Vec<_> = pages.iter().flat_map(|p| p.records.clone()).collect();
    assert_eq!(records.len(), 2);
    let mut ops: Vec<WriteOp> = records
        .iter()
        .map(|r| WriteOp {
            op_id: r.id.clone(),
            action: WriteAction::Upsert,
            id: None,
            match_key: None,
            expected_version: None,
            fields: r.fields.clone(),
        })
        .collect();
    let mut bad = ops[0].clone();
    bad.op_id = "bad".into();
    bad.fields.insert("code".into(), json!("000003"));
    bad.fields.insert("address1".into(), json!("𠮷野町"));
    ops.insert(1, bad);
    let results = obc_csv::write(
        &c,
        &WriteRequest {
            object: OBJ.into(),
            ops,
        },
    )
    .unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0].outcome, WriteOutcome::Created);
    assert_eq!(results[0].id.as_deref(), Some("000001"));
    assert_eq!(results[1].outcome, WriteOutcome::Error);
    let e = results[1].error.as_ref().unwrap();
    assert_eq!(e.code, "unencodable_character");
    assert_eq!(e.field.as_deref(), Some("address1"));
    assert!(
        e.message_ja.as_deref().unwrap().contains("6列目「住所1」"),
        "{e:?}"
    );
    assert!(e.message.contains("U+20BB7"), "{e:?}");
    let export = obc_csv::export::export_file(
        &obc_csv::inbox::ObjectDir::new(dir.path(), OBJ),
        OBJ,
        &today(),
    );
    assert_eq!(std::fs::read(export).unwrap(), original);
}

#[test]
fn a_growing_file_waits_and_a_missing_root_is_named() {
    let (dir, c) = setup();
    let path = dir.path().join(OBJ).join("取引先.csv");
    let full = customers_csv(2_000, "");
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let writer = {
        let path = path.clone();
        let rest = full[full.len() / 2..].to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            for chunk in rest.chunks(rest.len() / 8 + 1) {
                std::thread::sleep(Duration::from_millis(12));
                f.write_all(chunk).unwrap();
                f.flush().unwrap();
            }
        })
    };
    let p = read(&c, None, 100);
    assert!(
        p.records.is_empty() && !p.has_more,
        "a file still being written was taken"
    );
    writer.join().unwrap();
    let (pages, _) = read_all(&c, None, 500);
    assert_eq!(ids(&pages).len(), 2_000);

    let e = obc_csv::read(
        &Connection::default(),
        &ReadRequest {
            options: Default::default(),
            object: OBJ.into(),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("csv_root"));
    assert!(obc_csv::check(&Connection::default()).is_none());
    let ok = obc_csv::check(&c).unwrap().unwrap();
    assert!(ok.account.contains("csv_employees"), "{}", ok.account);
}

/// A 外字 (0xF040) in a 取引先名: the record is handed over with the private-use character,
/// the page carries a warning naming file, line, column and code, and the import history says
/// 処理済 with the 外字 counted and located.
#[test]
fn a_gaiji_is_read_with_a_warning_and_noted_in_the_history() {
    let (dir, c) = setup();
    let mut bytes = sjis(HEADER);
    bytes.extend_from_slice(&sjis(&row(1, "通常商事")));
    let mut gaiji = sjis(&row(2, "株式会社X商店"));
    let x = gaiji.iter().position(|b| *b == b'X').unwrap();
    gaiji.splice(x..x + 1, [0xF0, 0x40]);
    bytes.extend_from_slice(&gaiji);
    std::fs::write(dir.path().join(OBJ).join("取引先.csv"), &bytes).unwrap();

    let (pages, _) = read_all(&c, None, 100);
    assert!(pages.iter().all(|p| p.issues.is_empty()));
    let records: Vec<_> = pages.iter().flat_map(|p| p.records.iter()).collect();
    assert_eq!(records[1].fields["name"], "株式会社\u{E000}商店");
    let warnings: Vec<_> = pages.iter().flat_map(|p| p.warnings.iter()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = warnings[0];
    assert_eq!((w.record.as_str(), w.code.as_str()), ("000002", "gaiji"));
    let at = |k: &str| w.params[k].as_str();
    assert_eq!(
        (at("file"), at("line"), at("column"), at("char_code")),
        ("取引先.csv", "3", "2", "0xF040")
    );

    let h = history(&c);
    assert_eq!(h[0]["state"], "処理済", "{h:?}");
    assert_eq!(
        (h[0]["rows"].as_u64(), h[0]["warnings"].as_u64()),
        (Some(2), Some(1))
    );
    let message = h[0]["message"].as_str().unwrap();
    assert!(
        message.contains("外字（ユーザー定義文字）が 1 箇所あります"),
        "{message}"
    );
    let detail = h[0]["warning_details"][0].as_str().unwrap();
    assert!(
        detail.starts_with("3行目 2列目「取引先名」に外字 (0xF040) があります"),
        "{detail}"
    );
}
