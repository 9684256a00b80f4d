//! 奉行 CSV's 取込フォーマット edited as a table of columns (issue 20 point 6), not as JSON: on a
//! 奉行 connection's page the administrator adds columns (object id, header, field id, order)
//! without the page reloading, removes one, saves, and the connection reads its CSV objects
//! with those headers; editing again shows the same rows.

use serde_json::{json, Value};

use crate::audit::Audit;
use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ csv-columns";
const TABLE: &str = "#s-csv_import_formats-table";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_import_format_is_edited_as_a_table_of_columns() {
    run_in_browser("csv-columns", |hub, b| Box::pin(scenario(hub, b))).await;
}

fn cell(row: usize, part: &str) -> String {
    format!("{TABLE} tbody tr:nth-child({row}) input[name='s.csv_import_formats.{part}']")
}

async fn fill(b: &Browser, row: usize, values: [&str; 4]) -> R {
    for (part, v) in ["object", "header", "field", "order"].iter().zip(values) {
        b.type_into(&cell(row, part), v).await?;
    }
    Ok(())
}

async fn rows(b: &Browser) -> R<Value> {
    b.js(&format!(
        "return Array.from(document.querySelectorAll(\"{TABLE} tbody tr\")).map(tr => \
         Array.from(tr.querySelectorAll('input')).map(i => i.value))"
    ))
    .await
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    if !loaded
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m["id"] == "obc"))
    {
        return Err("the OBC connector is not loaded: run `cargo build --workspace`".into());
    }
    let root = hub.dir.path().join("bugyo-csv");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let c = hub
        .api(
            "POST",
            "/api/connections",
            Some(json!({"connector": "obc", "name": "奉行 CSV", "registration_number": "OBC-CSV-0001",
                "phone": "03-0000-0000", "settings": {"csv_root": root.display().to_string()}})),
        )
        .await?;
    let id = c["id"].as_str().ok_or("no connection id")?.to_string();

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    b.goto(&url(&format!("/connections/{id}"))).await?;
    b.find(TABLE).await?;
    b.sees(&[
        "CSV 取込フォーマット",
        "オブジェクトID",
        "列の見出し",
        "項目ID",
        "順番",
    ])
    .await?;
    if !b
        .all("textarea[name='s.csv_import_formats'], input[name='s.csv_import_formats']")
        .await?
        .is_empty()
    {
        return Err("the format should not be a JSON text box any more".into());
    }
    let start = b.all(&format!("{TABLE} tbody tr")).await?.len();
    if start != 1 {
        return Err(format!("an empty format shows one empty row, not {start}"));
    }

    // Rows are added and removed in place.
    b.js("window.__csvMarker = true").await?;
    fill(b, 1, ["csv_customers", "得意先名", "name", "2"]).await?;
    for _ in 0..3 {
        b.click("#s-csv_import_formats-add").await?;
    }
    if b.all(&format!("{TABLE} tbody tr")).await?.len() != 4 {
        return Err("列を追加 should add a row each time".into());
    }
    fill(b, 2, ["csv_customers", "得意先CD", "code", "1"]).await?;
    fill(b, 3, ["csv_customers", "電話", "tel", "3"]).await?;
    fill(b, 4, ["csv_customers", "不要な列", "memo", "4"]).await?;
    b.click(&format!(
        "{TABLE} tbody tr:nth-child(4) button[data-remove-row]"
    ))
    .await?;
    if b.all(&format!("{TABLE} tbody tr")).await?.len() != 3 {
        return Err("削除 should remove the row".into());
    }
    if b.js("return window.__csvMarker === true").await? != json!(true) {
        return Err("adding or removing a column reloaded the page".into());
    }
    b.shot("csv-columns-filled").await?;
    let mut audit = Audit::new("ja");
    audit.page(b, "csv-columns").await?;
    b.click("#connection-save").await?;
    b.sees(&["接続「奉行 CSV」の設定を保存しました"]).await?;

    // Stored in the connector's shape, in column order, and read by it.
    let saved = hub
        .api("GET", &format!("/api/connections/{id}"), None)
        .await?;
    let text = saved["settings"]["csv_import_formats"]
        .as_str()
        .unwrap_or("");
    if text != r#"{"csv_customers": {"得意先CD": "code", "得意先名": "name", "電話": "tel"}}"# {
        return Err(format!(
            "the stored format is not the expected JSON: {saved}"
        ));
    }
    let objects = hub
        .api("GET", &format!("/api/connections/{id}/objects"), None)
        .await?;
    let customers = objects
        .as_array()
        .and_then(|a| a.iter().find(|o| o["id"] == "csv_customers"))
        .ok_or_else(|| format!("no csv_customers object: {objects}"))?;
    let labels: Vec<&str> = customers["fields"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["label"].as_str()).collect())
        .unwrap_or_default();
    if labels != ["得意先CD", "得意先名", "電話"] {
        return Err(format!(
            "the connector should read the new headers: {labels:?}"
        ));
    }

    // Editing again shows the columns in their order, with an empty row to add one.
    b.goto(&url(&format!("/connections/{id}"))).await?;
    b.find(TABLE).await?;
    let shown = rows(b).await?;
    let want = json!([
        ["csv_customers", "得意先CD", "code", "1"],
        ["csv_customers", "得意先名", "name", "2"],
        ["csv_customers", "電話", "tel", "3"],
        ["csv_customers", "", "", "4"],
    ]);
    if shown != want {
        return Err(format!("the table should show the saved columns: {shown}"));
    }
    b.shot("csv-columns-saved").await?;

    // A column without its field id is refused, saying which row.
    b.type_into(&cell(4, "header"), "住所").await?;
    b.click("#connection-save").await?;
    b.sees(&["4行目: オブジェクトID・列の見出し・項目IDをすべて入れてください"])
        .await?;
    if b.value(&cell(4, "header")).await? != "住所" {
        return Err("the refused page should show the column as typed".into());
    }
    audit.page(b, "csv-columns-refused").await?;
    let kept = hub
        .api("GET", &format!("/api/connections/{id}"), None)
        .await?;
    if kept["settings"]["csv_import_formats"].as_str() != Some(text) {
        return Err(format!("a refused change must not be stored: {kept}"));
    }
    audit.verdict()
}
