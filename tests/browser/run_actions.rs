//! 処理履歴 → a run's page: 失敗分のみ再実行 and 元に戻す pressed in a real browser, with their
//! confirmations (cancel first, then accept) and results. Two file-store connections (the
//! test connector keeps records in JSON files, edited here by hand), one flow between them.

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{run_in_browser, set_up_admin, Browser, Hub, R};

const ADMIN: &str = "admin";
const PASSWORD: &str = "長いパスフレーズ run-actions";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The test connector's object file (`{next_id, clock, records: {id: {version, modified,
/// deleted, fields}}}`), read and written whole; no run is active while the test edits it.
pub(crate) struct Records {
    path: PathBuf,
    data: Value,
}

impl Records {
    pub(crate) fn open(dir: &Path) -> R<Records> {
        let path = dir.join("companies.json");
        let data = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| e.to_string())?,
            Err(_) => json!({"next_id": 1, "clock": 0, "records": {}}),
        };
        Ok(Records { path, data })
    }

    fn tick(&mut self) -> i64 {
        let t = now_ms().max(self.data["clock"].as_i64().unwrap_or(0) + 1);
        self.data["clock"] = json!(t);
        t
    }

    pub(crate) fn add(&mut self, fields: Value) {
        let id = self.data["next_id"].as_u64().unwrap_or(1);
        self.data["next_id"] = json!(id + 1);
        let m = self.tick();
        self.data["records"][id.to_string()] =
            json!({"version": 1, "modified": m, "deleted": false, "fields": fields});
    }

    /// Changes a record by hand (a new version, a later modified stamp).
    pub(crate) fn change(&mut self, id: &str, f: impl FnOnce(&mut Map<String, Value>)) {
        let m = self.tick();
        let r = &mut self.data["records"][id];
        let v = r["version"].as_u64().unwrap_or(1);
        r["version"] = json!(v + 1);
        r["modified"] = json!(m);
        if let Some(obj) = r.as_object_mut() {
            f(obj);
        }
    }

    pub(crate) fn id_of(&self, name: &str) -> R<String> {
        self.data["records"]
            .as_object()
            .and_then(|m| {
                m.iter()
                    .find(|(_, r)| r["fields"]["name"] == json!(name))
                    .map(|(id, _)| id.clone())
            })
            .ok_or(format!("no record named {name} in {}", self.path.display()))
    }

    pub(crate) fn save(&self) -> R {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, self.data.to_string()).map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())
    }
}

pub(crate) async fn run_and_wait(hub: &Hub, flow: &str) -> R<Value> {
    let queued = hub
        .api("POST", &format!("/api/flows/{flow}/run"), None)
        .await?;
    let id = queued["run_id"].as_str().unwrap_or("").to_string();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let run = hub.api("GET", &format!("/api/runs/{id}"), None).await?;
        if !matches!(run["status"].as_str(), Some("queued" | "running")) {
            return Ok(run);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(format!("run {id} did not finish within 30 s"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_failed_and_undo_from_the_run_page() {
    run_in_browser("run-actions", |hub, b| Box::pin(scenario(hub, b))).await;
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
                "mapping": [{"from": "name", "to": "name"}, {"from": "phone", "to": "phone"}],
                "match_keys": [{"source": "name", "target": "name", "normalize": "company_name"}]})),
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
    if first["status"] != "success" || first["counts"]["created"] != 3 {
        return Err(format!("the first run should create 3 records: {first}"));
    }

    // 二号商事's target record is gone, so the next run fails on it; then it comes back.
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
    if partial["status"] != "partial" || partial["counts"]["failed"] != 1 {
        return Err(format!(
            "the second run should fail on one record: {partial}"
        ));
    }
    let partial_id = partial["id"].as_str().unwrap_or("").to_string();
    let mut dst = Records::open(&t)?;
    dst.change(&two, |r| {
        r.insert("deleted".into(), json!(false));
    });
    dst.save()?;

    // Sign in (first administrator) and open the failed run from 処理履歴.
    set_up_admin(b, &hub.url, ADMIN, PASSWORD).await?;
    // Until it is written, the refused record keeps the flow marked on the dashboard and
    // listed on the flow's page: a later run does not hide it.
    b.goto(&url("/")).await?;
    b.sees(&["要対応: 失敗 1件"]).await?;
    b.goto(&url(&format!("/flows/{flow}"))).await?;
    b.sees(&[
        "未解決の失敗データ（1件）",
        "最初に再試行",
        "対応不要にする",
        &two,
    ])
    .await?;
    b.shot("run-actions-pending").await?;
    b.goto(&url(&format!("/runs/{partial_id}"))).await?;
    b.find("#run-actions").await?;
    b.sees(&[
        "PARTIAL",
        "失敗分のみ再実行",
        "元に戻す",
        "エラー詳細",
        "not_found",
    ])
    .await?;
    b.shot("run-actions-partial").await?;

    // 失敗分のみ再実行: cancelling the confirmation does nothing; accepting starts the retry.
    b.js("window.confirm = function () { return false; };")
        .await?;
    b.click("#retry-failed").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    if b.path().await? != format!("/runs/{partial_id}") {
        return Err("a cancelled confirmation still started the retry".into());
    }
    b.js("window.confirm = function () { return true; };")
        .await?;
    b.click("#retry-failed").await?;
    b.sees(&["失敗分のみ再実行を開始しました"]).await?;
    let retry_path = b.path().await?;
    if retry_path == format!("/runs/{partial_id}") {
        return Err("the retry did not open its own run page".into());
    }
    b.sees(&[
        "SUCCESS",
        "この処理は、次の処理の失敗分のみ再実行です",
        &partial_id,
    ])
    .await?;
    b.shot("run-actions-retried").await?;
    let retry = hub
        .api("GET", &format!("/api/{}", &retry_path[1..]), None)
        .await?;
    if retry["trigger"] != "retry"
        || retry["counts"]["updated"] != 1
        || retry["counts"]["read"] != 1
    {
        return Err(format!(
            "the retry should write only the failed record: {retry}"
        ));
    }
    let dst = Records::open(&t)?;
    if dst.data["records"][&two]["fields"]["phone"] != "06-1111-2222" {
        return Err(format!(
            "the failed record was not written by the retry: {}",
            dst.data
        ));
    }
    // Written: the flow no longer needs attention.
    b.goto(&url("/")).await?;
    if b.body().await?.contains("要対応") {
        return Err(
            "the dashboard still marks the flow after its failed record was written".into(),
        );
    }

    // 元に戻す on the partial run: 三号商事 was changed in B since, so it is left alone.
    let mut dst = Records::open(&t)?;
    let three = dst.id_of(names[2])?;
    dst.change(&three, |r| r["fields"]["phone"] = json!("06-9999-9999"));
    dst.save()?;
    b.goto(&url(&format!("/runs/{partial_id}"))).await?;
    b.find("#undo-run").await?;
    b.js("window.confirm = function () { return true; };")
        .await?;
    b.click("#undo-run").await?;
    b.sees(&[
        "元に戻しました: 1 件",
        "戻さなかったデータ 1 件",
        "この処理は、次の処理を元に戻したものです",
        "changed_since",
        "処理の後で変更されたため元に戻していません",
    ])
    .await?;
    b.shot("run-actions-undone").await?;
    let dst = Records::open(&t)?;
    let one = dst.id_of(names[0])?;
    let phone = |id: &str| dst.data["records"][id]["fields"]["phone"].clone();
    if phone(&one) != "03-0000-0000" || phone(&three) != "06-9999-9999" {
        return Err(format!(
            "undo should restore 一号商事 and leave 三号商事: {}",
            dst.data
        ));
    }
    // The undone run offers no second undo and says it was undone.
    b.goto(&url(&format!("/runs/{partial_id}"))).await?;
    b.sees(&["この処理は元に戻されています"]).await?;
    if !b.all("#undo-run").await?.is_empty() {
        return Err("an undone run still offers 元に戻す".into());
    }
    b.shot("run-actions-undone-run").await
}
