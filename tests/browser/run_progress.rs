//! Live progress: 今すぐ実行 on a flow's page shows a progress bar whose counts grow, with a
//! percentage and 残り約 N 秒 (the file-store source tells its total), and the result when the run
//! ends; the preview shown before disappears as the run starts. A run under way when the
//! dashboard opens is followed in its row. The target is slowed (`write_delay_ms`) so that a run
//! of 300 records lasts a few seconds.

use serde_json::{json, Value};
use std::path::Path;

use crate::audit::Audit;
use crate::run_actions::Records;
use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ run-progress";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_flow_shows_live_progress_and_the_preview_goes() {
    run_in_browser("run-progress", |hub, b| Box::pin(scenario(hub, b))).await;
}

fn add_companies(dir: &Path, from: usize, n: usize) -> R {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut src = Records::open(dir)?;
    for i in from..from + n {
        src.add(json!({"name": format!("株式会社テスト{i:04}"), "phone": "03-0000-0000"}));
    }
    src.save()
}

/// The number after 読込 in the progress text (0 when none yet).
fn read_count(text: &str) -> i64 {
    text.split("読込 ")
        .nth(1)
        .and_then(|r| r.split([' ', '件']).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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
    for (name, dir, settings) in [
        ("送信元", &a, json!({"path": a.display().to_string()})),
        (
            "送信先（遅い）",
            &t,
            json!({"path": t.display().to_string(), "write_delay_ms": "300"}),
        ),
    ] {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let c = hub
            .api(
                "POST",
                "/api/connections",
                Some(json!({"connector": "filestore", "name": name, "registration_number": "TEST-0001",
                    "phone": "03-0000-0000", "settings": settings})),
            )
            .await?;
        let id = c["id"].as_str().unwrap_or("").to_string();
        if id.is_empty() {
            return Err(format!("connection not created: {c}"));
        }
        conns.push(id);
    }
    let flow = hub
        .api(
            "POST",
            "/api/flows",
            Some(json!({"name": "会社 大量", "source": {"connection": conns[0], "object": "companies"},
                "target": {"connection": conns[1], "object": "companies"},
                "mapping": [{"from": "name", "to": "name"}, {"from": "phone", "to": "phone"}],
                "match_keys": [{"source": "name", "target": "name", "normalize": "company_name"}]})),
        )
        .await?;
    let flow = flow["id"].as_str().unwrap_or("").to_string();
    add_companies(&a, 0, 300)?;

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    // At phone width, as a person checking from a phone would.
    b.window(375, 800).await?;
    b.goto(&url(&format!("/flows/{flow}"))).await?;
    b.click("#flow-preview").await?;
    b.find("#preview").await?;
    b.sees(&["プレビュー"]).await?;

    // 今すぐ実行: the preview goes at once; the bar appears and its count grows.
    b.click(&format!("form.run-now[data-flow='{flow}'] button"))
        .await?;
    if !b.all("#preview").await?.is_empty() {
        return Err("the preview shown before is still there after 今すぐ実行".into());
    }
    let box_ = format!("#progress-{flow}");
    let bar = format!("document.querySelector('{box_} [role=progressbar]')");
    b.until(
        "a progress bar with a count",
        &format!("{bar} && !{bar}.hidden && /読込 [1-9]/.test(document.querySelector('{box_}').innerText)"),
    )
    .await?;
    let first = b.text(&box_).await?;
    b.until(
        "the percentage and the estimate",
        &format!("{bar}.getAttribute('aria-valuenow') !== null && /残り約 \\d+ (秒|分)/.test(document.querySelector('{box_}').innerText)"),
    )
    .await?;
    let later_js = format!(
        "var m = /読込 (\\d+)/.exec(document.querySelector('{box_}').innerText); return m ? Number(m[1]) : 0"
    );
    let n0 = read_count(&first);
    b.until(
        "the count to grow",
        &format!("(function () {{ {later_js} }})() > {n0} || document.querySelector('{box_}').getAttribute('data-status') === 'success'"),
    )
    .await?;
    let during = b.text(&box_).await?;
    let running = b
        .js(&format!(
            "return document.querySelector('{box_}').getAttribute('data-status')"
        ))
        .await?;
    if running == json!("running") {
        if read_count(&during) <= n0 {
            return Err(format!("the count did not grow: {first} → {during}"));
        }
        if !(during.contains("/ 300件") && during.contains('%') && during.contains("書込")) {
            return Err(format!(
                "the bar should say 読込 N / 300件, 書込 and a percentage: {during}"
            ));
        }
        b.shot("run-progress-375").await?;
        b.fits_width().await?;
    } else {
        return Err(format!(
            "the run ended before its progress could be seen growing: {first} → {during}"
        ));
    }

    // The end: the bar gives way to the result; the preview stays gone.
    b.until(
        "the run to finish",
        &format!("document.querySelector('{box_}').getAttribute('data-status') === 'success'"),
    )
    .await?;
    let hidden = b.js(&format!("return {bar}.hidden")).await?;
    let end = b.text(&box_).await?;
    if hidden != Value::Bool(true) || !end.contains("SUCCESS") || !end.contains("読込 300件") {
        return Err(format!("after the run the bar should be gone and the result shown: {end} (bar hidden: {hidden})"));
    }
    if !b.all("#preview").await?.is_empty() {
        return Err("the preview came back after the run".into());
    }
    b.shot("run-progress-done-375").await?;

    // A run under way when the dashboard opens is followed in the flow's row.
    add_companies(&a, 300, 200)?;
    let queued = hub
        .api("POST", &format!("/api/flows/{flow}/run"), None)
        .await?;
    let run = queued["run_id"].as_str().unwrap_or("").to_string();
    b.goto(&url("/")).await?;
    b.find(&format!("{box_}[data-run='{run}']")).await?;
    b.until(
        "the dashboard row's progress bar",
        &format!(
            "{bar} && !{bar}.hidden && /読込/.test(document.querySelector('{box_}').innerText)"
        ),
    )
    .await?;
    b.shot("run-progress-dashboard-375").await?;
    b.fits_width().await?;
    // The moving bar is as accessible as the rest of the page (axe-core, tests/browser/audit.rs).
    let mut audit = Audit::new("ja");
    audit.as_shown(b).await?;
    audit.verdict()?;
    b.until(
        "the dashboard row's run to finish",
        &format!("document.querySelector('{box_}').getAttribute('data-status') === 'success'"),
    )
    .await?;
    let end = b.text(&box_).await?;
    if !end.contains("読込 200件") {
        return Err(format!(
            "the dashboard row should end with the second run's counts: {end}"
        ));
    }
    Ok(())
}
