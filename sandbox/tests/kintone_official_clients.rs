//! The official kintone clients against the emulator: @kintone/rest-api-client (record CRUD,
//! addAllRecords / getAllRecords / cursors / bulkRequest, errors) and cli-kintone
//! (`record export`, `record import` of CSV). The Node packages come from
//! `npm ci --prefix sandbox/node-tests`.

mod kintone_support;

use kintone_support::{start, value, K};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use tokio::process::Command;

fn node_tests() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node-tests");
    assert!(
        dir.join("node_modules/@kintone/rest-api-client").is_dir()
            && dir.join("node_modules/@kintone/cli").is_dir(),
        "run: npm ci --prefix sandbox/node-tests"
    );
    dir
}

fn base_url(k: &K) -> String {
    k.credentials["base_url"].as_str().unwrap().to_string()
}

fn check(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn cli(k: &K, args: &[&str]) -> Output {
    let dir = node_tests();
    Command::new("node")
        .current_dir(&dir)
        .arg(dir.join("node_modules/@kintone/cli/cli.js"))
        .args(args)
        .args(["--base-url", &base_url(k), "--api-token", &k.token(1)])
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .await
        .expect("node runs")
}

/// Data rows of a cli-kintone CSV (every value quoted, no line breaks in the seed data).
fn rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.trim_matches('"')
                .split("\",\"")
                .map(|c| c.replace("\"\"", "\""))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn rest_api_client_drives_records_cursors_and_bulk_requests() {
    let dir = node_tests();
    let k = start().await;
    let (user, pass) = k.login();
    let out = Command::new("node")
        .current_dir(&dir)
        .arg("rest-api-client.js")
        .env("KINTONE_BASE_URL", base_url(&k))
        .env("KINTONE_TOKEN_1", k.token(1))
        .env("KINTONE_TOKEN_2", k.token(2))
        .env("KINTONE_TOKEN_3", k.token(3))
        .env("KINTONE_USERNAME", user)
        .env("KINTONE_PASSWORD", pass)
        .output()
        .await
        .expect("node runs");
    let stdout = check("rest-api-client.js", &out);
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap();

    assert_eq!(r["getRecords"]["totalCount"], "5", "{r}");
    assert_eq!(r["getRecords"]["first"], "林ホールディングス株式会社");
    assert_eq!(
        r["getRecords"]["keys"],
        serde_json::json!(["$id", "会社名", "売上高"])
    );
    assert_eq!(r["crud"]["id"], "31");
    assert_eq!(r["crud"]["name"], "株式会社ノード追加");
    assert_eq!(r["crud"]["updatedRevision"], "2");
    assert_eq!(r["crud"]["conflict"]["status"], 409);
    assert_eq!(r["crud"]["conflict"]["code"], "GAIA_CO02");
    assert_eq!(r["crud"]["byKey"], "3");
    assert_eq!(r["addAllRecords"]["count"], 2150);
    assert_eq!(r["addAllRecords"]["firstId"], "32");
    assert_eq!(r["getAll"]["byId"], 2150);
    assert_eq!(r["getAll"]["byCursor"], 2150);
    assert_eq!(r["getAll"]["cursorFirst"], "2149");
    assert_eq!(r["getAll"]["ordered"], 2150);
    assert_eq!(r["getAll"]["orderedFirst"], "0");
    assert_eq!(r["updateDeleteAll"]["updated"], "2150");
    assert_eq!(r["updateDeleteAll"]["left"], "0");
    assert_eq!(r["upsert"], serde_json::json!(["UPDATE", "INSERT"]));
    assert_eq!(r["bulkFailure"]["code"], "GAIA_CO02");
    assert_eq!(r["bulkFailure"]["bulkRequestIndex"], 1);
    assert_eq!(r["rolledBack"], "0");
    assert_eq!(r["lookup"], "テスト商事株式会社");
    assert_eq!(r["errors"]["otherToken"]["code"], "GAIA_IA02");
    assert_eq!(r["errors"]["limit"]["code"], "CB_VA01");
    assert_eq!(r["errors"]["notFound"]["status"], 404);
    assert_eq!(r["meta"]["guestTotal"], "5");
    assert_eq!(r["meta"]["uniqueCompany"], true);
    assert_eq!(
        r["meta"]["apps"],
        serde_json::json!(["顧客管理", "活動履歴", "問い合わせ管理"])
    );
}

#[tokio::test]
async fn cli_kintone_exports_and_imports_csv() {
    let k = start().await;
    // Export: every record by $id paging, and ordered through a cursor (run side by side).
    let (all, ordered) = tokio::join!(
        cli(&k, &["record", "export", "--app", "1"]),
        cli(
            &k,
            &[
                "record",
                "export",
                "--app",
                "1",
                "--order-by",
                "売上高 desc",
                "--fields",
                "会社名,売上高",
            ],
        )
    );
    let csv = check("record export", &all);
    let ordered = check("record export --order-by", &ordered);
    let table = rows(&csv);
    assert_eq!(table.len(), 31, "{csv}");
    let col = |name: &str| {
        table[0]
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", table[0]))
    };
    let (company, sales) = (col("会社名"), col("売上高"));
    assert!(table.iter().any(|r| r[company] == "株式会社みらい技研"));
    let ordered = rows(&ordered);
    assert_eq!(ordered[0], ["会社名", "売上高"]);
    assert_eq!(ordered[1], ["林ホールディングス株式会社", "480000000"]);
    assert_eq!(ordered.len(), 31);
    assert_eq!(table.iter().filter(|r| r[sales] == "480000000").count(), 1);

    // Import: add two rows, then upsert by the unique 会社名.
    let dir = std::env::temp_dir().join(format!("kintone-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let add = dir.join("add.csv");
    std::fs::write(
        &add,
        "\"会社名\",\"担当者名\",\"売上高\",\"都道府県\"\n\"株式会社インポート一号\",\"大城 亮\",\"1500000\",\"沖縄県\"\n\"インポート二号（株）\",\"\",\"\",\"\"\n",
    )
    .unwrap();
    check(
        "record import",
        &cli(
            &k,
            &[
                "record",
                "import",
                "--app",
                "1",
                "--file-path",
                add.to_str().unwrap(),
            ],
        )
        .await,
    );
    let upsert = dir.join("upsert.csv");
    std::fs::write(
        &upsert,
        "\"会社名\",\"売上高\"\n\"株式会社サンプル\",\"130000000\"\n\"株式会社インポート三号\",\"42\"\n",
    )
    .unwrap();
    check(
        "record import --update-key",
        &cli(
            &k,
            &[
                "record",
                "import",
                "--app",
                "1",
                "--file-path",
                upsert.to_str().unwrap(),
                "--update-key",
                "会社名",
            ],
        )
        .await,
    );
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(k.count(1).await, 33);
    let (_, v) = k
        .query(1, r#"会社名 like "インポート" order by $id asc"#)
        .await;
    let recs = v["records"].as_array().unwrap();
    let got: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| (value(r, "会社名"), value(r, "売上高")))
        .collect();
    assert_eq!(
        got,
        [
            ("株式会社インポート一号", "1500000"),
            ("インポート二号（株）", ""),
            ("株式会社インポート三号", "42")
        ]
    );
    assert_eq!(value(&recs[0], "都道府県"), "沖縄県");
    let (_, r) = k.record(1, 1).await;
    assert_eq!(value(&r["record"], "売上高"), "130000000");
    assert_eq!(
        value(&r["record"], "担当者名"),
        "山田 太郎",
        "columns not in the CSV stay"
    );
}
