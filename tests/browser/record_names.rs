//! Records by name (issue 20 point 3), in the page's language (point 4), from a user's side: a
//! run refuses a company's value and its page names the company, links its id to the record's
//! page and says which field and value were refused, in Japanese or in English; the flow's
//! プレビュー shows, per company, what will change, before → after.
//! Two file-store connections (the test connector refuses a `rank` other than A, B or C).

use serde_json::json;

use crate::audit::Audit;
use crate::run_actions::{run_and_wait, Records};
use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ record-names";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_and_previewed_records_are_shown_by_name() {
    run_in_browser("record-names", |hub, b| Box::pin(scenario(hub, b))).await;
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    if !loaded
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m["id"] == "filestore"))
    {
        return Err(
            "the file-store test plugin is not loaded: run `cargo build --workspace`".into(),
        );
    }
    let (a, t) = (hub.dir.path().join("a"), hub.dir.path().join("b"));
    let mut conns = Vec::new();
    for (name, dir) in [("送信元", &a), ("送信先", &t)] {
        let c = hub
            .api(
                "POST",
                "/api/connections",
                Some(json!({"connector": "filestore", "name": name, "registration_number": "TEST-0001",
                    "phone": "03-0000-0000", "settings": {"path": dir.display().to_string()}})),
            )
            .await?;
        conns.push(c["id"].as_str().unwrap_or("").to_string());
    }
    let flow = hub
        .api(
            "POST",
            "/api/flows",
            Some(json!({"name": "会社 A → B", "source": {"connection": conns[0], "object": "companies"},
                "target": {"connection": conns[1], "object": "companies"},
                "mapping": [{"from": "name", "to": "name"}, {"from": "phone", "to": "phone"},
                    {"from": "rank", "to": "rank"}],
                "match_keys": [{"source": "name", "target": "name", "normalize": "company_name"}]})),
        )
        .await?;
    let flow = flow["id"].as_str().unwrap_or("").to_string();
    std::fs::create_dir_all(&a).map_err(|e| e.to_string())?;
    let mut src = Records::open(&a)?;
    src.add(json!({"name": "一号商事株式会社", "phone": "03-0000-0000", "rank": "A"}));
    src.add(json!({"name": "二号商事株式会社", "phone": "03-0000-0001", "rank": "Z"}));
    src.save()?;
    let run = run_and_wait(hub, &flow).await?;
    if run["status"] != "partial" || run["counts"]["failed"] != 1 {
        return Err(format!("the run should refuse 二号商事: {run}"));
    }
    let run_id = run["id"].as_str().unwrap_or("").to_string();
    let two = src.id_of("二号商事株式会社")?;

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    b.goto(&url(&format!("/runs/{run_id}"))).await?;
    b.sees(&["二号商事株式会社", "項目「rank」の値「Z」"])
        .await?;
    let link = b.find("#run-errors a.record-link").await?;
    let href = link.attr("href").await.map_err(|e| e.to_string())?;
    let want = format!("https://filestore.invalid/companies/{two}");
    if href.as_deref() != Some(want.as_str()) {
        return Err(format!("the record's id should link to {want}: {href:?}"));
    }
    let text = link.text().await.map_err(|e| e.to_string())?;
    if !text.starts_with(&two) {
        return Err(format!(
            "the link should read the record's id {two}: {text}"
        ));
    }
    for (attr, value) in [("target", "_blank"), ("rel", "noopener")] {
        let got = link.attr(attr).await.map_err(|e| e.to_string())?;
        if got.as_deref() != Some(value) {
            return Err(format!(
                "the record link should have {attr}={value}: {got:?}"
            ));
        }
    }
    b.shot("record-names-run").await?;
    // Named rows and their links stay accessible and within a phone's width.
    let mut audit = Audit::new("ja");
    audit.page(b, "record-names-run").await?;

    // One language per page (issue 20 point 4): the refusal, ours and the connector's own words
    // under 詳細, reads in Japanese on the Japanese page and in English on the English one.
    let errors_text = "return document.querySelector('#run-errors').textContent;";
    let ja = b.js(errors_text).await?;
    let ja = ja.as_str().unwrap_or("");
    if !ja.contains("ランクはA・B・Cのいずれかです") || ja.contains("rank must be") {
        return Err(format!(
            "the Japanese run page should give the connector's Japanese words only: {ja}"
        ));
    }
    b.goto(&url(&format!("/runs/{run_id}?lang=en"))).await?;
    let en = b.js(errors_text).await?;
    let en = en.as_str().unwrap_or("");
    if !(en.contains("rank must be A, B or C") && en.contains(r#"Field "rank", value "Z""#))
        || en.contains("ランク")
        || en.contains("項目")
    {
        return Err(format!(
            "the English run page should read in English only: {en}"
        ));
    }
    b.goto(&url(&format!("/runs/{run_id}?lang=ja"))).await?;

    // Until it is written, the flow's page lists the refused company by name too.
    b.goto(&url(&format!("/flows/{flow}"))).await?;
    let pending = b.text("#pending").await?;
    if !pending.contains("二号商事株式会社") {
        return Err(format!("the pending list should name 二号商事: {pending}"));
    }

    // 一号商事's phone changes: the preview names it and shows the phone before → after.
    let mut src = Records::open(&a)?;
    let one = src.id_of("一号商事株式会社")?;
    src.change(&one, |r| r["fields"]["phone"] = json!("06-1111-2222"));
    src.save()?;
    b.goto(&url(&format!("/flows/{flow}"))).await?;
    b.click("#flow-preview").await?;
    b.find("#preview-changes").await?;
    let row = b
        .js(
            "const r = [...document.querySelectorAll('#preview-changes tbody tr')]
               .find(tr => tr.textContent.includes('一号商事株式会社'));
             return r ? r.textContent : '';",
        )
        .await?;
    let row = row.as_str().unwrap_or("");
    if !(row.contains("phone")
        && row.contains("03-0000-0000")
        && row.contains("→")
        && row.contains("06-1111-2222"))
    {
        return Err(format!(
            "the preview should show 一号商事's phone before → after: {row:?}"
        ));
    }
    b.shot("record-names-preview").await?;
    audit.page(b, "record-names-preview").await?;
    audit.verdict()
}
