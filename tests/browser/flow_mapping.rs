//! Mapping without code (issue 20 point 6): a Notes 連絡先 → 奉行 取引先 flow built in the
//! editor. 奉行 needs 取引先コード and 取引先名, which no Notes field fits: the editor lists them as
//! required, adds a row for each, refuses to save while they are empty (saying so in the row),
//! and saves them as 固定値. Adding a row and choosing a transform happen without reloading the
//! page. The flow then runs (今すぐ実行) and its run page reads SUCCESS with the record written.

use serde_json::{json, Value};

use crate::audit::Audit;
use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ mapping";
const FLOW: &str = "Notes 連絡先を奉行の取引先へ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notes_to_bugyo_flow_is_saved_with_constants_and_runs() {
    run_in_browser("flow-mapping", |hub, b| Box::pin(scenario(hub, b))).await;
}

async fn connection(hub: &Hub, body: Value) -> R<String> {
    let c = hub.api("POST", "/api/connections", Some(body)).await?;
    c["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no connection id in {c}"))
}

/// The 1-based position of the mapping row writing `field` (for `:nth-child`).
async fn row_of(b: &Browser, field: &str) -> R<usize> {
    let n = b
        .js(&format!(
            "var rows = Array.from(document.querySelectorAll('#mapping tbody tr')); \
             return rows.findIndex(r => r.querySelector('select[name=map_to]').value === '{field}') + 1;"
        ))
        .await?;
    match n.as_u64() {
        Some(n) if n > 0 => Ok(n as usize),
        _ => Err(format!("no mapping row writes '{field}'")),
    }
}

fn in_row(n: usize, css: &str) -> String {
    format!("#mapping tbody tr:nth-child({n}) {css}")
}

/// Whether the page is still the one loaded before (a reload would drop the marker).
async fn not_reloaded(b: &Browser, what: &str) -> R {
    if b.js("return window.__mappingMarker === true").await? != json!(true) {
        return Err(format!("{what} reloaded the page"));
    }
    Ok(())
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    let has = |id: &str| {
        loaded
            .as_array()
            .is_some_and(|a| a.iter().any(|m| m["id"] == id))
    };
    if !has("notes") || !has("obc") {
        return Err(
            "the Notes and OBC connectors are not loaded: run `cargo build --workspace`".into(),
        );
    }
    let (_sandbox, a) = hub.sandbox()?;
    let d = &a["credentials"]["domino"];
    let notes = connection(
        hub,
        json!({"connector": "notes", "name": "Notes 本社", "registration_number": "TEST-0001",
            "phone": "03-0000-0000",
            "settings": {"server_url": d["server"], "database": d["database"], "username": d["username"]},
            "credentials": {"password": d["password"]}}),
    )
    .await?;
    let o = &a["credentials"]["obc"];
    let obc = connection(
        hub,
        json!({"connector": "obc", "name": "奉行クラウド", "registration_number": "OBC-0001",
            "phone": "03-0000-0000", "settings": {"base_url": a["obc"]},
            "credentials": {"client_id": o["client_id"], "client_secret": o["client_secret"],
                "subscription_key": o["subscription_key"], "fixed_access_token": o["fixed_access_token"]}}),
    )
    .await?;

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    b.goto(&url("/flows/new")).await?;
    b.type_into("#name", FLOW).await?;
    b.select("#src_conn", &notes).await?;
    b.until(
        "the source objects",
        "document.querySelectorAll('#src_obj option').length > 1",
    )
    .await?;
    b.select("#src_obj", "contacts").await?;
    b.until(
        "the source fields",
        "document.querySelector('select[name=map_from]').options.length > 1",
    )
    .await?;
    b.select("#dst_conn", &obc).await?;
    b.until(
        "the target objects",
        "document.querySelectorAll('#dst_obj option').length > 1",
    )
    .await?;
    b.select("#dst_obj", "customers").await?;

    // The target's required fields, each not set yet, and a row for each.
    b.find("#required-fields").await?;
    b.sees(&[
        "送信先の必須項目",
        "取引先コード (code): 未設定",
        "取引先名 (name): 未設定",
    ])
    .await?;
    let code = row_of(b, "code").await?;
    let name = row_of(b, "name").await?;
    b.shot("flow-mapping-required").await?;

    // Saving now is refused, and the page says why next to the row.
    b.click("input[name=direction][value=one_way]").await?;
    b.click("#flow-save").await?;
    b.find(".field-error[data-error-for^='mapping_row.']")
        .await?;
    b.sees(&[
        "対応付けに入力の足りない行があります",
        "必須項目「code」の値がありません。送信元の項目を選ぶか、変換で「固定値」を選んで値を入れてください",
    ])
        .await?;
    let said = b.text(&in_row(code, ".field-error")).await?;
    if !said.contains("「code」") {
        return Err(format!("the error should sit in the code row: {said}"));
    }
    if b.value(&in_row(code, "select[name=map_from]"))
        .await
        .is_err()
    {
        return Err("the code row is gone after the refusal".into());
    }
    b.shot("flow-mapping-refused").await?;
    // Every control labelled, errors tied to their rows, no sideways scrolling at 375 px.
    let mut audit = Audit::new("ja");
    audit.page(b, "flow-mapping-refused").await?;

    // From here on the page must not reload: rows and transforms change in place.
    b.js("window.__mappingMarker = true").await?;
    let kind = in_row(code, "select[name=map_kind]");
    let constant = in_row(code, "input[name=map_const]");
    if b.find(&constant)
        .await?
        .is_displayed()
        .await
        .map_err(|e| e.to_string())?
    {
        return Err("the fixed value input should show only for 固定値".into());
    }
    let labels = b
        .js(&format!(
            "return Array.from(document.querySelector(\"{kind}\").options).map(o => o.text)"
        ))
        .await?;
    for want in [
        "そのまま",
        "固定値",
        "姓名の分割（姓）",
        "連結",
        "日付の書式",
        "値の変換表",
        "全角・半角をそろえる",
    ] {
        if !labels
            .as_array()
            .is_some_and(|l| l.iter().any(|x| x == want))
        {
            return Err(format!("the transform list has no {want}: {labels}"));
        }
    }
    b.select(&kind, "constant").await?;
    b.type_into(&constant, "N0001").await?;
    b.select(&in_row(name, "select[name=map_kind]"), "constant")
        .await?;
    b.type_into(&in_row(name, "input[name=map_const]"), "ノーツ連絡先")
        .await?;
    b.sees(&["取引先コード (code): 設定済み", "取引先名 (name): 設定済み"])
        .await?;
    not_reloaded(b, "choosing 固定値").await?;

    // 行を追加: one more row, in place; it writes the office phone into 電話番号.
    let before = b.all("#mapping tbody tr").await?.len();
    b.click("#add-map-row").await?;
    let after = b.all("#mapping tbody tr").await?.len();
    if after != before + 1 {
        return Err(format!("行を追加 should add one row: {before} → {after}"));
    }
    not_reloaded(b, "行を追加").await?;
    let keys = b.all("#match-keys tbody tr").await?.len();
    b.click("#add-key-row").await?;
    if b.all("#match-keys tbody tr").await?.len() != keys + 1 {
        return Err("the match keys' 行を追加 should add one row".into());
    }
    not_reloaded(b, "the match keys' 行を追加").await?;
    b.select(&in_row(after, "select[name=map_from]"), "OfficePhoneNumber")
        .await?;
    b.select(&in_row(after, "select[name=map_to]"), "tel")
        .await?;
    // And one more: 住所1 joined from 都道府県, 市区町村 and 番地 (連結 shows its inputs).
    b.click("#add-map-row").await?;
    let joined = after + 1;
    b.select(&in_row(joined, "select[name=map_from]"), "OfficeState")
        .await?;
    b.select(&in_row(joined, "select[name=map_to]"), "address1")
        .await?;
    b.select(&in_row(joined, "select[name=map_kind]"), "concat")
        .await?;
    let shown = b
        .js(&format!(
            "return Array.from(document.querySelectorAll(\"{}\")).filter(l => !l.hidden).map(l => l.innerText.trim())",
            in_row(joined, ".tf-param")
        ))
        .await?;
    if shown != json!(["2つめ以降の項目（カンマ区切り）", "区切り文字"]) {
        return Err(format!(
            "連結 should show its fields and separator only: {shown}"
        ));
    }
    b.type_into(
        &in_row(joined, "input[name=map_fields]"),
        "OfficeCity, OfficeStreetAddress",
    )
    .await?;
    b.type_into(&in_row(joined, "input[name=map_sep]"), " ")
        .await?;
    not_reloaded(b, "choosing 連結").await?;
    // The editor paired 郵便番号 by its label; some contacts have none, which 奉行 refuses as
    // null: the row is emptied (an empty row is not saved).
    let zip = row_of(b, "postalCode").await?;
    b.select(&in_row(zip, "select[name=map_from]"), "").await?;
    b.select(&in_row(zip, "select[name=map_to]"), "").await?;
    // The newest three contacts for this first run (two of them private: skipped).
    b.type_into("#initial_max_records", "3").await?;
    b.js("document.getElementById('mapping').scrollIntoView()")
        .await?;
    b.shot("flow-mapping-filled").await?;
    b.click("#flow-save").await?;
    b.sees(&[&format!("連携サービス「{FLOW}」を保存しました")])
        .await?;
    let path = b.path().await?;
    let id = path
        .strip_prefix("/flows/")
        .ok_or_else(|| format!("after saving, expected the flow's page, got {path}"))?
        .to_string();
    b.sees(&[
        "固定値「N0001」",
        "固定値「ノーツ連絡先」",
        "OfficePhoneNumber",
        "OfficeState, OfficeCity, OfficeStreetAddress （連結）",
    ])
    .await?;
    let saved = hub.api("GET", &format!("/api/flows/{id}"), None).await?;
    let rules = saved["mapping"].as_array().cloned().unwrap_or_default();
    let constant_of = |to: &str| {
        rules
            .iter()
            .find(|r| r["to"] == to)
            .map(|r| r["transform"].clone())
    };
    if constant_of("code") != Some(json!({"constant": "N0001"}))
        || constant_of("name") != Some(json!({"constant": "ノーツ連絡先"}))
    {
        return Err(format!(
            "the saved mapping should hold the constants: {saved}"
        ));
    }
    if constant_of("address1")
        != Some(
            json!({"concat": ["OfficeState", "OfficeCity", "OfficeStreetAddress"], "separator": " "}),
        )
    {
        return Err(format!(
            "the saved mapping should join the address: {saved}"
        ));
    }

    // Editing shows the choices again.
    b.goto(&url(&format!("/flows/{id}/edit"))).await?;
    let code = row_of(b, "code").await?;
    if b.value(&in_row(code, "select[name=map_kind]")).await? != "constant"
        || b.value(&in_row(code, "input[name=map_const]")).await? != "N0001"
    {
        return Err("the edit form should show 固定値 N0001 for code".into());
    }

    // 今すぐ実行, then the run's page.
    b.goto(&url(&format!("/flows/{id}"))).await?;
    b.click(&format!("form.run-now[data-flow='{id}'] button"))
        .await?;
    let progress = format!("document.getElementById('progress-{id}')");
    b.until(
        "the run to finish",
        &format!("['success','partial','failed','interrupted'].includes({progress}.getAttribute('data-status'))"),
    )
    .await?;
    b.until(
        "the run in the flow's history",
        "document.querySelector('#recent-runs-box a.badge') !== null",
    )
    .await?;
    b.click("#recent-runs-box a.badge").await?;
    b.find("#run-counts").await?;
    b.sees(&["SUCCESS", FLOW]).await?;
    let counts = b
        .js("return Array.from(document.querySelectorAll('#run-counts tbody td')).map(td => td.innerText)")
        .await?;
    // 読込, 作成, 更新, 変更なし, スキップ, 失敗…: every contact writes the one customer N0001.
    if counts.get(0) != Some(&json!("3"))
        || counts.get(1) != Some(&json!("1"))
        || counts.get(5) != Some(&json!("0"))
    {
        return Err(format!(
            "the run should read three contacts and create one customer: {counts}"
        ));
    }
    b.shot("flow-mapping-run").await?;
    Ok(())
}
