//! Every screen, read with a screen reader's rules and on a phone (issue 20, point 9): sign-in
//! and setup (with their errors), the dashboard, a connection's page, each step of 新しい接続
//! (with its errors), the flow editor (new, refused, and an existing flow with mapping rows and
//! match keys), the flow page with failed records, its プレビュー and 全件を取り込む estimate,
//! 処理履歴 and a run with refused records, 連携トークンの更新, users, API tokens, inquiries,
//! お問い合わせ (with its errors) and help, in Japanese and in English. Each one at 1280 px and
//! at 375 px: no serious or critical axe-core violation, fields with errors tied to their
//! messages, and no sideways scrolling on the phone. Also what a keyboard user meets first: a
//! skip link to the content, and a visible focus outline on the dark header.

use serde_json::{json, Value};

use crate::audit::Audit;
use crate::run_actions::{run_and_wait, Records};
use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ a11y";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_japanese_is_accessible_and_fits_a_phone() {
    run_in_browser("a11y-ja", |hub, b| Box::pin(scenario(hub, b, "ja"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_in_english_is_accessible_and_fits_a_phone() {
    run_in_browser("a11y-en", |hub, b| Box::pin(scenario(hub, b, "en"))).await;
}

/// What the pages show: two file-store connections with a flow between them whose second run
/// refused a record (so the flow has a pending failure and the run has errors), and a kintone
/// connection against the sandbox.
struct World {
    flow: String,
    ok_run: String,
    partial_run: String,
    kintone: Option<String>,
    /// Whether the OAuth connector zoho-crm is loaded (its wizard runs against the sandbox).
    zoho: bool,
    /// The sandbox emulators' announcement (kintone's address and apps).
    sandbox: Value,
    _sandbox: Option<crate::support::Proc>,
}

async fn world(hub: &Hub) -> R<World> {
    let loaded = hub.api("GET", "/api/connectors", None).await?;
    let has = |id: &str| {
        loaded
            .as_array()
            .is_some_and(|a| a.iter().any(|m| m["id"] == id))
    };
    if !has("filestore") {
        return Err(
            "the file-store test plugin is not loaded: run `cargo build --workspace`".into(),
        );
    }
    let (a, t) = (hub.dir.path().join("a"), hub.dir.path().join("b"));
    let mut conns = Vec::new();
    for (name, dir) in [("送信元ファイル", &a), ("送信先ファイル", &t)] {
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
                "mapping": [{"from": "name", "to": "name"}, {"from": "phone", "to": "phone"}],
                "match_keys": [{"source": "name", "target": "name", "normalize": "company_name"}],
                "schedule": {"cron": "30 9 * * 1-5", "timezone": "Asia/Tokyo"}})),
        )
        .await?;
    let flow = flow["id"].as_str().unwrap_or("").to_string();
    std::fs::create_dir_all(&a).map_err(|e| e.to_string())?;
    let names = ["一号商事株式会社", "二号商事株式会社", "三号商事株式会社"];
    let mut src = Records::open(&a)?;
    for n in names {
        src.add(json!({"name": n, "phone": "03-0000-0000"}));
    }
    src.save()?;
    let first = run_and_wait(hub, &flow).await?;
    if first["status"] != "success" {
        return Err(format!("the first run should succeed: {first}"));
    }
    // 二号商事's target record is gone: the next run refuses it.
    let mut dst = Records::open(&t)?;
    let two = dst.id_of(names[1])?;
    dst.change(&two, |r| {
        r.insert("deleted".into(), json!(true));
    });
    dst.save()?;
    let mut src = Records::open(&a)?;
    for n in names {
        let id = src.id_of(n)?;
        src.change(&id, |r| r["fields"]["phone"] = json!("06-1111-2222"));
    }
    src.save()?;
    let partial = run_and_wait(hub, &flow).await?;
    if partial["status"] != "partial" {
        return Err(format!("the second run should refuse a record: {partial}"));
    }

    let (mut kintone, mut sandbox, mut announced) = (None, None, Value::Null);
    if has("kintone") || has("zoho-crm") {
        let (proc, ann) = hub.sandbox()?;
        sandbox = Some(proc);
        announced = ann;
    }
    if has("kintone") {
        let ann = &announced;
        let app: &Value = &ann["credentials"]["kintone"]["apps"][0];
        let app_id = app["id"].to_string().trim_matches('"').to_string();
        let c = hub
            .api(
                "POST",
                "/api/connections",
                Some(json!({"connector": "kintone", "name": "kintone 顧客管理", "registration_number": "1234-5678-9012",
                    "phone": "03-1234-5678", "settings": {"base_url": ann["kintone"], "apps": app_id},
                    "credentials": {"api_token": app["api_token"]}})),
            )
            .await?;
        kintone = c["id"].as_str().map(str::to_string);
    }
    Ok(World {
        flow,
        ok_run: first["id"].as_str().unwrap_or("").to_string(),
        partial_run: partial["id"].as_str().unwrap_or("").to_string(),
        zoho: has("zoho-crm") && !announced.is_null(),
        kintone,
        sandbox: announced,
        _sandbox: sandbox,
    })
}

async fn scenario(hub: &Hub, b: &mut Browser, lang: &'static str) -> R {
    let url = |p: &str| format!("{}{p}", hub.url);
    let w = world(hub).await?;
    let mut audit = Audit::new(lang);

    // ---- setup (first administrator), with its errors; sign-in, with its error ------------------
    b.goto(&url(&format!("/?lang={lang}"))).await?;
    b.find(&format!("html[lang='{lang}'] #setup-submit"))
        .await?;
    audit.page(b, "setup").await?;
    b.type_into("#username", ADMIN).await?;
    b.type_into("#password", "short").await?;
    b.type_into("#password_confirm", "different").await?;
    b.click("#setup-submit").await?;
    b.find(".field-error").await?;
    audit.page(b, "setup-errors").await?;
    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    if let Err(e) = keyboard(b).await {
        audit.finding(e);
    }
    b.click("#logout").await?;
    b.find("#login-submit").await?;
    audit.page(b, "login").await?;
    b.type_into("#username", ADMIN).await?;
    b.type_into("#password", "wrong password").await?;
    b.click("#login-submit").await?;
    b.find("#form-error").await?;
    audit.page(b, "login-refused").await?;
    b.type_into("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.find("#new-connection").await?;

    // ---- the dashboard and a connection's page -------------------------------------------------
    b.find(&format!("tr[data-flow-id='{}'] .pending-badge", w.flow))
        .await?;
    audit.page(b, "dashboard").await?;
    if let Some(k) = &w.kintone {
        b.goto(&url(&format!("/connections/{k}"))).await?;
        b.find("#connection-save").await?;
        audit.page(b, "connection").await?;
        b.type_into("#name", " ").await?;
        b.type_into("#phone", "12345").await?;
        b.click("#connection-save").await?;
        b.find(".field-error").await?;
        audit.page(b, "connection-errors").await?;
        wizard(b, &hub.url, &mut audit, &w.sandbox).await?;
    }
    if w.zoho {
        oauth(b, &hub.url, &mut audit, &w.sandbox).await?;
    }

    // ---- the flow editor, the flow's page ------------------------------------------------------
    b.goto(&url("/flows/new")).await?;
    b.find("#flow-form").await?;
    audit.page(b, "flow-new").await?;
    b.click("#flow-save").await?;
    b.find(".field-error").await?;
    audit.page(b, "flow-new-errors").await?;
    b.goto(&url(&format!("/flows/{}/edit", w.flow))).await?;
    b.until(
        "the mapping rows with their fields",
        "document.querySelector('select[name=map_from]').options.length > 1 && document.querySelector('select[name=mk_source]')",
    )
    .await?;
    audit.page(b, "flow-edit").await?;
    // The mapping rows on a phone, for the eye (each cell named by its column).
    b.window(crate::audit::PHONE, 812).await?;
    b.js("document.getElementById('mapping').scrollIntoView()")
        .await?;
    b.shot(&format!("a11y-{lang}-flow-edit-mapping-375px"))
        .await?;
    b.type_into("#cron", "every morning").await?;
    b.click("#flow-save").await?;
    b.find(".field-error").await?;
    audit.page(b, "flow-edit-errors").await?;
    b.goto(&url(&format!("/flows/{}", w.flow))).await?;
    b.find("#pending").await?;
    audit.page(b, "flow").await?;
    b.click("#flow-preview").await?;
    b.find("#preview").await?;
    audit.page(b, "flow-preview").await?;
    b.goto(&url(&format!("/flows/{}", w.flow))).await?;
    b.click("#flow-full-import").await?;
    b.find("#full-import").await?;
    audit.page(b, "flow-full-import").await?;

    // ---- 処理履歴 and two runs -----------------------------------------------------------------
    b.goto(&url("/runs")).await?;
    b.find("#all-runs").await?;
    audit.page(b, "runs").await?;
    b.goto(&url(&format!("/runs/{}", w.partial_run))).await?;
    b.find("#run-errors").await?;
    audit.page(b, "run-partial").await?;
    b.goto(&url(&format!("/runs/{}", w.ok_run))).await?;
    b.find("#run-counts").await?;
    audit.page(b, "run-success").await?;

    // ---- settings ------------------------------------------------------------------------------
    for (path, ready, name) in [
        ("/settings/tokens", "#tokens", "tokens"),
        ("/settings/users", "#users", "users"),
        ("/settings/api-tokens", "#api-tokens", "api-tokens"),
        ("/settings/inquiries", "main", "inquiries"),
    ] {
        b.goto(&url(path)).await?;
        b.find(ready).await?;
        audit.page(b, name).await?;
    }
    b.goto(&url("/settings/users")).await?;
    b.find("#users").await?;
    b.click("form[action='/settings/users'] button[type=submit]")
        .await?;
    b.find(".field-error").await?;
    audit.page(b, "users-errors").await?;
    b.goto(&url("/settings/api-tokens")).await?;
    b.type_into("#name", "会計システム連携").await?;
    b.click("form[action='/settings/api-tokens'] button[type=submit]")
        .await?;
    b.find("#created-token").await?;
    audit.page(b, "api-token-created").await?;

    // ---- お問い合わせ, help --------------------------------------------------------------------
    b.goto(&url("/contact")).await?;
    b.find("#contact-form").await?;
    audit.page(b, "contact").await?;
    b.type_into("#contact-email", "not-an-email").await?;
    b.click("#contact-submit").await?;
    b.find("[data-error-for='email']").await?;
    audit.page(b, "contact-errors").await?;
    for (field, value) in [
        ("company", "株式会社テスト商事"),
        ("name", "山田 太郎"),
        ("email", "taro@example.co.jp"),
        ("registration_number", "1234-5678-9012"),
        ("connector_name", "kintone"),
    ] {
        b.type_into(&format!("#contact-{field}"), value).await?;
    }
    b.click("#contact-submit").await?;
    b.find("#inquiries tbody tr td.mono").await?;
    audit.page(b, "contact-sent").await?;
    b.goto(&url("/settings/inquiries")).await?;
    b.find("[data-inquiry-id]").await?;
    audit.page(b, "inquiries-one").await?;
    for (path, name) in [("/help", "help"), ("/help/start", "help-start")] {
        b.goto(&url(path)).await?;
        b.find("main h1").await?;
        audit.page(b, name).await?;
    }
    b.goto(&url("/runs/no-such-run")).await?;
    b.find("main").await?;
    audit.page(b, "not-found").await?;
    audit.verdict()
}

/// 新しい接続 with kintone: each step as it first shows and with its errors, then 完了.
async fn wizard(b: &mut Browser, hub_url: &str, audit: &mut Audit, ann: &Value) -> R {
    let app: &Value = &ann["credentials"]["kintone"]["apps"][0];
    b.goto(&format!("{hub_url}/connections/new")).await?;
    b.find("input[name='connector'][value='kintone']").await?;
    audit.page(b, "wizard-1").await?;
    b.click("#wizard-next").await?;
    b.find("#form-error").await?;
    audit.page(b, "wizard-1-error").await?;
    b.click("input[name='connector'][value='kintone']").await?;
    b.click("#wizard-next").await?;
    b.find("[name='c.api_token']").await?;
    audit.page(b, "wizard-2").await?;
    b.click("#wizard-next").await?;
    b.find(".field-error").await?;
    audit.page(b, "wizard-2-errors").await?;
    let token = app["api_token"].as_str().unwrap_or("");
    b.type_into("[name='c.api_token']", token).await?;
    b.click("#wizard-next").await?;
    b.find("#registered").await?;
    audit.page(b, "wizard-3").await?;
    b.type_into("#registration_number", "<bad>").await?;
    b.type_into("#phone", "12345").await?;
    b.click("#wizard-next").await?;
    b.find("[data-error-for='phone']").await?;
    audit.page(b, "wizard-3-errors").await?;
    b.click("#registered").await?;
    b.type_into("#registration_number", "1234-5678-0001")
        .await?;
    b.type_into("#phone", "03-1234-5678").await?;
    b.click("#wizard-next").await?;
    b.find("#wizard-save").await?;
    audit.page(b, "wizard-4").await?;
    b.click("#wizard-save").await?;
    b.find(".field-error").await?;
    audit.page(b, "wizard-4-errors").await?;
    b.type_into("#name", "kintone 案件管理").await?;
    let base = ann["kintone"].as_str().unwrap_or("");
    b.type_into("[name='s.base_url']", base).await?;
    let app_id = app["id"].to_string().trim_matches('"').to_string();
    b.type_into("[name='s.apps']", &app_id).await?;
    b.click("#connection-test").await?;
    b.find("#check-result").await?;
    audit.page(b, "wizard-4-tested").await?;
    b.click("#wizard-save").await?;
    b.find("#wizard-done").await?;
    audit.page(b, "wizard-5-done").await
}

/// 新しい接続 with Zoho CRM (OAuth): the client step, the settings before and after signing in
/// at the sandbox's accounts server; then the connection's page with its token.
async fn oauth(b: &mut Browser, hub_url: &str, audit: &mut Audit, ann: &Value) -> R {
    let org = &ann["credentials"]["zoho"]["orgs"][0];
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    b.goto(&format!("{hub_url}/connections/new")).await?;
    b.click("input[name='connector'][value='zoho-crm']").await?;
    b.click("#wizard-next").await?;
    b.find("[name='c.client_id']").await?;
    audit.page(b, "oauth-1-client").await?;
    b.type_into("[name='c.client_id']", &text(&org["client_id"]))
        .await?;
    b.type_into("[name='c.client_secret']", &text(&org["client_secret"]))
        .await?;
    b.type_into("[name='s.accounts_url']", &text(&ann["zoho_accounts"]))
        .await?;
    b.click("#wizard-next").await?;
    b.click("#registered").await?;
    b.type_into("#registration_number", "ZOHO-0001").await?;
    b.type_into("#phone", "03-5555-0000").await?;
    b.click("#wizard-next").await?;
    b.find("#oauth-signin").await?;
    audit.page(b, "oauth-2-settings").await?;
    b.type_into("#name", "Zoho CRM 本番").await?;
    b.type_into("[name='s.api_domain']", &text(&ann["zoho_crm"]))
        .await?;
    b.click("#oauth-signin").await?;
    // The provider's own page (not the hub's): sign in there and accept.
    b.find("button[value='allow']").await?;
    if let Ok(e) =
        b.c.find(fantoccini::Locator::Css("input[name='email']"))
            .await
    {
        e.send_keys(&text(&org["user"]["email"]))
            .await
            .map_err(|e| e.to_string())?;
        b.type_into("input[name='password']", &text(&org["user"]["password"]))
            .await?;
    }
    b.click("button[value='allow']").await?;
    b.find("#wizard-save").await?;
    audit.page(b, "oauth-3-signed-in").await?;
    b.click("#wizard-save").await?;
    b.find("#wizard-done").await?;
    b.click("#wizard-to-list").await?;
    b.find("#connections").await?;
    let link = b
        .js("var a = Array.from(document.querySelectorAll('#connections a')).find(function (a) { return a.textContent.indexOf('Zoho CRM 本番') >= 0; }); return a ? a.getAttribute('href') : null;")
        .await?;
    let link = link.as_str().ok_or("the Zoho connection is not listed")?;
    b.goto(&format!("{hub_url}{link}")).await?;
    b.find("#connection-save").await?;
    audit.page(b, "oauth-connection").await
}

/// A keyboard user: the first Tab reaches a skip link that leads to the content; the next
/// reaches the dark header, where the focused link shows an outline unlike the header.
async fn keyboard(b: &Browser) -> R {
    b.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
        .await?;
    b.tab().await?;
    let skip = b
        .js("var a = document.activeElement; \
             var t = a && a.hash ? document.getElementById(a.hash.slice(1)) : null; \
             var r = a.getBoundingClientRect(); \
             return {tag: a.tagName, text: a.textContent, target: t ? t.tagName : null, \
                     visible: r.width > 1 && r.height > 1 && r.top >= 0};")
        .await?;
    if skip["tag"] != json!("A")
        || skip["target"] != json!("MAIN")
        || skip["visible"] != json!(true)
    {
        return Err(format!(
            "the first Tab should show a skip link to the page's main content: {skip}"
        ));
    }
    b.tab().await?;
    let outline = b
        .js("var a = document.activeElement, s = getComputedStyle(a); \
             return {in_header: !!a.closest('.topbar'), text: a.textContent, style: s.outlineStyle, \
                     width: parseFloat(s.outlineWidth), color: s.outlineColor, \
                     header: getComputedStyle(document.querySelector('.topbar')).backgroundColor};")
        .await?;
    if outline["in_header"] != json!(true)
        || outline["style"] == json!("none")
        || outline["width"].as_f64().unwrap_or(0.0) < 2.0
        || outline["color"] == outline["header"]
    {
        return Err(format!(
            "the focused header link should show a visible outline: {outline}"
        ));
    }
    Ok(())
}
