//! The flow editor's read filters: a Notes calendar flow set to 今日の予定 in the browser is
//! saved with that choice, a choice the object does not offer is refused by the API, and the
//! choice survives the form's reloads.

use serde_json::{json, Value};

use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ filters";
const FLOW: &str = "今日の予定を送る";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calendar_flow_reads_only_today_when_told_so() {
    run_in_browser("flow-filters", |hub, b| Box::pin(scenario(hub, b))).await;
}

async fn notes_connection(hub: &Hub, a: &Value, name: &str) -> R<String> {
    let d = &a["credentials"]["domino"];
    let c = hub
        .api(
            "POST",
            "/api/connections",
            Some(json!({"connector": "notes", "name": name, "registration_number": "TEST-0002",
                "phone": "03-0000-0000",
                "settings": {"server_url": d["server"], "database": d["database"], "username": d["username"],
                    "events_window": "all"},
                "credentials": {"password": d["password"]}})),
        )
        .await?;
    c["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("no connection id in {c}"))
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    if !loaded
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m["id"] == "notes"))
    {
        return Err("the Notes connector is not loaded: run `cargo build --workspace`".into());
    }
    let (_sandbox, a) = hub.sandbox()?;
    let src = notes_connection(hub, &a, "Notes 送信元").await?;
    let dst = notes_connection(hub, &a, "Notes 送信先").await?;

    let refused = hub
        .api(
            "POST",
            "/api/flows",
            Some(
                json!({"name": "x", "source": {"connection": src, "object": "events"},
                "target": {"connection": dst, "object": "events"},
                "mapping": [{"from": "summary", "to": "summary"}],
                "filters": {"source_options": {"events_window": "next_week"}}}),
            ),
        )
        .await;
    match refused {
        Err(e) if e.contains("422") && e.contains("filters.source_options.events_window") => {}
        other => {
            return Err(format!(
                "an unknown window should be refused with 422: {other:?}"
            ))
        }
    }

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;

    b.goto(&url("/flows/new")).await?;
    b.type_into("#name", FLOW).await?;
    b.select("#src_conn", &src).await?;
    b.until(
        "the source objects",
        "document.querySelectorAll('#src_obj option').length > 1",
    )
    .await?;
    b.select("#src_obj", "events").await?;
    let window = "[name='src_opt.events_window']";
    b.until(
        "the events window choice",
        &format!("document.querySelector(\"{window}\") !== null"),
    )
    .await?;
    b.sees(&["送信元: 予定の対象期間", "接続の設定に従う", "今日の予定"])
        .await?;
    if !b.value(window).await?.is_empty() {
        return Err("a new flow should follow the connection's window until one is chosen".into());
    }
    b.select(window, "today").await?;
    b.select("#dst_conn", &dst).await?;
    b.until(
        "the target objects",
        "document.querySelectorAll('#dst_obj option').length > 1",
    )
    .await?;
    b.select("#dst_obj", "events").await?;
    b.until(
        "the target fields",
        "document.querySelector('select[name=map_to]').options.length > 1",
    )
    .await?;
    if b.value(window).await? != "today" {
        return Err("the window chosen before the form reloaded was lost".into());
    }
    b.click("input[name=direction][value=one_way]").await?;
    b.js(&format!(
        "document.querySelector(\"{window}\").scrollIntoView({{block: 'center'}})"
    ))
    .await?;
    b.shot("flow-form-events-window").await?;
    b.click("#flow-save").await?;
    b.sees(&[&format!("連携サービス「{FLOW}」を保存しました")])
        .await?;
    let path = b.path().await?;
    let id = path
        .strip_prefix("/flows/")
        .ok_or_else(|| format!("after saving, expected the flow's page, got {path}"))?;
    let saved = hub.api("GET", &format!("/api/flows/{id}"), None).await?;
    let chosen = saved.pointer("/filters/source_options/events_window");
    if chosen != Some(&json!("today")) {
        return Err(format!(
            "the saved flow should read today's events: {saved}"
        ));
    }

    // Editing shows the saved choice.
    b.goto(&url(&format!("/flows/{id}/edit"))).await?;
    if b.value(window).await? != "today" {
        return Err("the edit form should show the saved window".into());
    }
    Ok(())
}
