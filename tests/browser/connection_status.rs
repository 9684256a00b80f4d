//! One connection status (issue 20): a new kintone connection is 未確認 on the dashboard, its
//! own page and the tokens page, and 正常 with 最終確認 on all three after 接続テスト; the wizard
//! refuses an empty sign-in step where the credentials are entered.

use serde_json::{json, Value};

use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ status";
const NAME: &str = "状態を確かめる接続";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_unchecked_until_tested_on_every_page() {
    run_in_browser("connection-status", |hub, b| Box::pin(scenario(hub, b))).await;
}

/// The status word (and 最終確認 line) of the connection's row / page.
async fn status_at(b: &Browser, css: &str) -> R<String> {
    b.text(css).await
}

async fn expect_status(b: &Browser, css: &str, want: &str) -> R {
    let got = status_at(b, css).await?;
    if got.trim() != want {
        return Err(format!("{css} reads {got:?}, expected {want:?}"));
    }
    Ok(())
}

async fn scenario(hub: &Hub, b: &mut Browser) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    if !loaded
        .as_array()
        .is_some_and(|a| a.iter().any(|m| m["id"] == "kintone"))
    {
        return Err("the kintone connector is not loaded: run cargo build --workspace".into());
    }
    let (_sandbox, a) = hub.sandbox()?;
    let app: &Value = &a["credentials"]["kintone"]["apps"][0];
    let app_id = app["id"].to_string().trim_matches('"').to_string();
    let created = hub
        .api(
            "POST",
            "/api/connections",
            Some(json!({"connector": "kintone", "name": NAME, "registration_number": "1234-5678-9012",
                        "phone": "03-1234-5678",
                        "settings": {"base_url": a["kintone"], "apps": app_id},
                        "credentials": {"api_token": app["api_token"]}})),
        )
        .await?;
    let id = created["id"].as_str().ok_or("no id")?.to_string();
    let row = format!("tr[data-connection-id='{id}']");
    let badge = format!("{row} [data-connection-status]");

    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    b.goto(&url("/")).await?;
    b.find(&row).await?;
    expect_status(b, &badge, "未確認").await?;
    if b.text(&row).await?.contains("最終確認") {
        return Err("a connection never checked shows a 最終確認 time".into());
    }
    b.shot("status-home-unchecked").await?;
    b.goto(&url("/settings/tokens")).await?;
    expect_status(b, &badge, "未確認").await?;
    b.shot("status-tokens-unchecked").await?;

    // 接続テスト on the connection's page.
    b.goto(&url(&format!("/connections/{id}"))).await?;
    expect_status(b, "[data-connection-status]", "未確認").await?;
    b.click("#connection-test").await?;
    b.find("#check-result").await?;
    b.sees(&["接続できました", "最終確認"]).await?;
    expect_status(b, "[data-connection-status]", "正常").await?;
    b.shot("status-connection-checked").await?;

    b.goto(&url("/")).await?;
    expect_status(b, &badge, "正常").await?;
    if !b.text(&row).await?.contains("最終確認") {
        return Err("the dashboard shows no 最終確認 time after 接続テスト".into());
    }
    b.shot("status-home-ok").await?;
    b.goto(&url("/settings/tokens")).await?;
    expect_status(b, &badge, "正常").await?;
    if !b.text(&row).await?.contains("最終確認") {
        return Err("the tokens page shows no 最終確認 time after 接続テスト".into());
    }

    // The wizard: an empty sign-in step stays on step 2, the error on the token field.
    b.goto(&url("/connections/new")).await?;
    b.click("input[name='connector'][value='kintone']").await?;
    b.click("#wizard-next").await?;
    b.find("[name='c.api_token']").await?;
    b.click("#wizard-next").await?;
    b.find("[data-error-for='c.api_token']").await?;
    if b.path().await? != "/connections/new/signin" {
        return Err(format!(
            "an empty sign-in step went on to {}",
            b.path().await?
        ));
    }
    b.sees(&["「APIトークン」、または", "のいずれかを入力してください"])
        .await?;
    b.find("[name='c.api_token']").await?;
    b.shot("wizard-2-credentials-missing").await?;
    // With the token, on to step 3.
    b.type_into(
        "[name='c.api_token']",
        app["api_token"].as_str().unwrap_or(""),
    )
    .await?;
    b.click("#wizard-next").await?;
    b.find("#registered").await?;
    Ok(())
}
