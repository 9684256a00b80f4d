//! The seed manuals' scenarios through the HTTP API, with the real plugins against the sandbox:
//!
//! - (a) kintone 顧客管理 → Zoho 取引先 (seeds/004): the first run takes the 3,000 newest customers
//!   updated in the last 60 days, never an older one; later runs read only what changed since it
//!   began (the rest of the window only when it changes); 全件を取り込む takes in the rest.
//! - (b) activity write-back (seeds/004): Zoho タスク → kintone 活動履歴, each activity tied to
//!   the customer's record number through flow (a)'s links (`lookup_reverse`); an activity of a
//!   customer flow (a) never linked is not written and is reported (`lookup_missing`) when
//!   automatic registration is off (`options.register_missing_parent: false`; on, see
//!   `seed_writeback.rs`).
//! - (c) Zoho org A ⇄ org B (seeds/003) is `zoho_orgs_full_run.rs`.
//! - (d) customer import by name and company (seeds/004, 顧客インポート仕様): kintone 顧客管理 →
//!   Zoho 見込み客 (Leads); a blank 会社名 registers the person's name as both, a blank 担当者名
//!   the company's (`coalesce`), matched with the blank part taking the other's value before
//!   normalisation (`options.blank_key_parts`), so a customer already registered under its
//!   company name is found again; a record with neither is not imported.

use crate::support;

use chrono::{DateTime, Duration as Days, Utc};
use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

struct Env {
    hub: TestHub,
    _plugins: tempfile::TempDir,
    kintone: String,
    crm: String,
    zoho_accounts: String,
    /// API tokens of kintone apps 1 (顧客管理) and 2 (活動履歴).
    tokens: BTreeMap<String, String>,
    customers: String,
    activities: String,
    zoho_a: String,
}

fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-kintone", "connector-zoho-crm"]);
    let hub = TestHub::start_env(
        &db,
        dir,
        &["--sandbox"],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "1")],
    );
    let a = hub.announcement();
    let tokens = a["credentials"]["kintone"]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|app| {
            (
                app["id"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| app["id"].to_string()),
                app["api_token"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let (_, conns) = hub.get("/api/connections");
    let find = |part: &str| -> String {
        conns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().contains(part))
            .and_then(|c| c["id"].as_str())
            .unwrap_or_else(|| panic!("no connection named like {part}: {conns}"))
            .to_string()
    };
    Env {
        kintone: a["kintone"].as_str().unwrap().to_string(),
        crm: a["zoho_crm"].as_str().unwrap().to_string(),
        zoho_accounts: a["zoho_accounts"].as_str().unwrap().to_string(),
        tokens,
        customers: find("顧客管理"),
        activities: find("活動履歴"),
        zoho_a: find("組織A"),
        hub,
        _plugins: plugins,
    }
}

impl Env {
    /// Runs a flow through the API and waits for its result.
    fn run(&self, flow: &str) -> Value {
        let (s, body) = self.hub.post(&format!("/api/flows/{flow}/run"), &json!({}));
        assert_eq!(s, 202, "{body}");
        let run = body["run_id"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (_, r) = self.hub.get(&format!("/api/runs/{run}"));
            if !matches!(r["status"].as_str(), Some("queued" | "running")) {
                return r;
            }
            assert!(Instant::now() < deadline, "the run did not finish: {r}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// A kintone REST call with the app's API token.
    fn kintone(&self, method: &str, path: &str, app: &str, body: Value) -> Value {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = Client::new()
            .request(m, format!("{}/k/v1/{path}.json", self.kintone))
            .header("X-Cybozu-API-Token", &self.tokens[app])
            .json(&body)
            .send()
            .unwrap();
        let status = r.status();
        let v: Value = r.json().unwrap();
        assert!(status.is_success(), "{method} {path}: {v}");
        v
    }

    /// Every record of a kintone app (offset paging is fine for a test's few thousand).
    fn kintone_records(&self, app: &str, fields: &[&str]) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let q = format!("order by $id asc limit 500 offset {}", out.len());
            let page = self.kintone(
                "GET",
                "records",
                app,
                json!({"app": app, "query": q, "fields": fields}),
            );
            let records = page["records"].as_array().unwrap().clone();
            let n = records.len();
            out.extend(records);
            if n < 500 {
                return out;
            }
        }
    }

    /// Every record of a Zoho module of org A, as the emulator keeps it.
    fn zoho_records(&self, module: &str) -> Vec<Value> {
        let v: Value = Client::new()
            .get(format!(
                "{}/_sandbox/zoho/orgs/A/modules/{module}/records",
                self.crm
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["data"].as_array().cloned().unwrap_or_default()
    }

    fn zoho_token(&self) -> String {
        let t: Value = Client::new()
            .post(format!("{}/_sandbox/zoho/tokens", self.zoho_accounts))
            .json(&json!({"org": "A"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        t["access_token"].as_str().unwrap().to_string()
    }

    /// Flow (a): kintone 顧客管理 → Zoho 取引先, matched by company name, with the first-run
    /// window of the seed manual.
    fn customers_flow(&self) -> String {
        let (s, body) = self.hub.post(
            "/api/flows",
            &json!({"name": "kintone 顧客管理 → Zoho 取引先", "source": {"connection": self.customers, "object": "1"},
                    "target": {"connection": self.zoho_a, "object": "Accounts"},
                    "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"},
                                {"from": "郵便番号", "to": "Billing_Code"}, {"from": "都道府県", "to": "Billing_State"},
                                {"from": "住所", "to": "Billing_Street"}],
                    "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}],
                    "filters": {"modified_within_days": 60},
                    "options": {"initial_max_records": 3000},
                    "schedule": {"cron": "0 5 * * *", "timezone": "Asia/Tokyo"}}),
        );
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

fn value<'a>(record: &'a Value, code: &str) -> &'a Value {
    &record[code]["value"]
}

fn text(record: &Value, code: &str) -> String {
    value(record, code).as_str().unwrap_or_default().to_string()
}

fn counts(r: &Value) -> (i64, i64, i64, i64) {
    let c = &r["counts"];
    let n = |k: &str| c[k].as_i64().unwrap();
    (n("read"), n("created"), n("updated"), n("failed"))
}

fn account_names(env: &Env) -> BTreeSet<String> {
    env.zoho_records("Accounts")
        .iter()
        .filter_map(|a| a["Account_Name"].as_str().map(str::to_string))
        .collect()
}

/// kintone's own API adds customers (100 a call) with the given 更新日時; answers their ids.
fn add_customers(env: &Env, customers: &[(String, DateTime<Utc>)]) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in customers.chunks(100) {
        let records: Vec<Value> = chunk
            .iter()
            .map(|(name, at)| {
                json!({"会社名": {"value": name}, "電話番号": {"value": "03-1234-5678"},
                       "更新日時": {"value": at.format("%Y-%m-%dT%H:%M:%SZ").to_string()}})
            })
            .collect();
        let r = env.kintone(
            "POST",
            "records",
            "1",
            json!({"app": "1", "records": records}),
        );
        for id in r["ids"].as_array().unwrap() {
            ids.push(id.as_str().unwrap().to_string());
        }
    }
    ids
}

/// Waits for a run queued through the API.
fn wait(env: &Env, run: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (_, r) = env.hub.get(&format!("/api/runs/{run}"));
        if !matches!(r["status"].as_str(), Some("queued" | "running")) {
            return r;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {r}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Seed 004: 「初回連携時に、直近60日で更新のあった最大3,000件の顧客を一括で取り込みます。以降、24時間
/// に1回、自動でkintoneの更新情報を読み込みます」. The first run takes the 3,000 newest of the
/// window (kintone read newest first), and the flow then reads only what changed since it
/// began: the rest of the window is not imported by the next run (five edits are five writes),
/// only when it changes or with 全件を取り込む.
#[test]
fn first_run_takes_at_most_3000_recent_customers_then_only_what_is_new() {
    let env = start();
    let now = Utc::now();
    // 3,500 customers updated within the last 60 days (spread over 58 of them, a distinct second
    // each) and 300 older, through kintone's records.json.
    let recent: Vec<(String, DateTime<Utc>)> = (0..3500)
        .map(|i| {
            let at = now - Days::days(59) + Days::seconds(i * 1_430 + 7);
            (format!("初回検証商事{i:04}"), at)
        })
        .collect();
    let older: Vec<(String, DateTime<Utc>)> = (0..300)
        .map(|i| {
            let at = now - Days::days(61) - Days::seconds(i * 20_000 + 3);
            (format!("休眠検証商事{i:04}"), at)
        })
        .collect();
    // The sandbox's demo customers carry stamps relative to the day, so at some times of day
    // one lies on the 60-day boundary: the scenario starts from an app of its own customers.
    let demo: Vec<String> = env
        .kintone_records("1", &["$id"])
        .iter()
        .map(|c| text(c, "$id").to_string())
        .collect();
    for ids in demo.chunks(100) {
        env.kintone("DELETE", "records", "1", json!({"app": "1", "ids": ids}));
    }
    add_customers(&env, &recent);
    add_customers(&env, &older);

    // Every customer, newest first as kintone orders them; the window with ten minutes of
    // margin (no customer lies within it).
    let customers = env.kintone_records("1", &["$id", "会社名", "更新日時"]);
    let at = |c: &Value| -> DateTime<Utc> { text(c, "更新日時").parse().unwrap() };
    let id = |c: &Value| -> u64 { text(c, "$id").parse().unwrap() };
    let boundary = now - Days::days(60);
    let margin = Days::minutes(10);
    let near: Vec<&Value> = customers
        .iter()
        .filter(|c| at(c) <= boundary + margin && at(c) >= boundary - margin)
        .collect();
    assert!(
        near.is_empty(),
        "customers near the boundary {boundary}: {near:?}"
    );
    let mut window: Vec<&Value> = customers.iter().filter(|c| at(c) > boundary).collect();
    window.sort_by_key(|c| std::cmp::Reverse((at(c), id(c))));
    assert!(window.len() >= 3500, "{}", window.len());
    let (newest, skipped) = window.split_at(3000);
    let old: Vec<&Value> = customers.iter().filter(|c| at(c) < boundary).collect();
    assert!(old.len() >= 300);
    let before = account_names(&env);
    let names =
        |v: &[&Value]| -> BTreeSet<String> { v.iter().map(|c| text(c, "会社名")).collect() };

    let flow = env.customers_flow();
    let first = env.run(&flow);
    assert_eq!(first["status"], "success", "{first}");
    let (read, created, updated, failed) = counts(&first);
    assert_eq!(
        (read, created + updated, failed),
        (3000, 3000, 0),
        "{first}"
    );
    let after_first = account_names(&env);
    let not_in: Vec<String> = names(newest)
        .into_iter()
        .filter(|n| !after_first.contains(n))
        .collect();
    assert!(
        not_in.is_empty(),
        "the newest customers were not all taken: {not_in:?}"
    );
    let taken_later: Vec<String> = names(skipped)
        .union(&names(&old))
        .filter(|n| after_first.contains(*n) && !before.contains(*n))
        .cloned()
        .collect();
    assert!(
        taken_later.is_empty(),
        "older customers than the 3,000 newest were taken: {} e.g. {:?}",
        taken_later.len(),
        taken_later.iter().take(5).collect::<Vec<_>>()
    );
    // The oldest taken is newer than every one left.
    assert!(at(newest[2999]) > at(skipped[0]));

    // The next daily run: nothing changed, nothing is read.
    let idle = env.run(&flow);
    assert_eq!(idle["status"], "success", "{idle}");
    assert_eq!(counts(&idle), (0, 0, 0, 0), "{idle}");

    // Five edits: two imported customers, two of the window's rest and one older customer.
    let edited: Vec<&Value> = vec![newest[10], newest[2500], skipped[0], skipped[300], old[0]];
    for (i, c) in edited.iter().enumerate() {
        env.kintone(
            "PUT",
            "record",
            "1",
            json!({"app": "1", "id": text(c, "$id"), "record": {"電話番号": {"value": format!("03-9999-000{i}")}}}),
        );
    }
    let later = env.run(&flow);
    assert_eq!(later["status"], "success", "{later}");
    let (read, created, updated, failed) = counts(&later);
    assert_eq!((read, created, updated, failed), (5, 3, 2, 0), "{later}");
    let zoho = env.zoho_records("Accounts");
    for (i, c) in edited.iter().enumerate() {
        let name = text(c, "会社名");
        assert!(
            zoho.iter().any(|a| a["Account_Name"] == name.as_str()
                && a["Phone"] == format!("03-9999-000{i}").as_str()),
            "{name} did not reach Zoho"
        );
    }

    // 全件を取り込む: the estimate from kintone's count, then one run takes in the rest.
    let (s, estimate) = env.hub.get(&format!("/api/flows/{flow}/full-import"));
    assert_eq!(s, 200, "{estimate}");
    assert_eq!(estimate["records"], customers.len() as u64, "{estimate}");
    let requests = estimate["requests"].as_u64().unwrap();
    assert!(
        requests >= (customers.len() as u64).div_ceil(500),
        "{estimate}"
    );
    let (s, body) = env
        .hub
        .post(&format!("/api/flows/{flow}/full-import"), &json!({}));
    assert_eq!(s, 202, "{body}");
    let full = wait(&env, body["run_id"].as_str().unwrap());
    assert_eq!(full["status"], "success", "{full}");
    let (read, _, _, failed) = counts(&full);
    assert_eq!((read, failed), (customers.len() as i64, 0), "{full}");
    let after_full = account_names(&env);
    let left: Vec<String> = customers
        .iter()
        .map(|c| text(c, "会社名"))
        .filter(|n| !n.is_empty() && !after_full.contains(n))
        .collect();
    assert!(left.is_empty(), "not imported by the full import: {left:?}");

    // And on from the newest change, as before.
    let idle = env.run(&flow);
    assert_eq!(counts(&idle), (0, 0, 0, 0), "{idle}");
}

#[test]
fn activities_are_written_back_to_the_customer_record_they_belong_to() {
    let env = start();
    // A kintone lookup is written with the referenced app's token too (kintone checks that
    // the caller may view 顧客管理): the 活動履歴 connection carries both apps' tokens.
    let both = format!("{},{}", env.tokens["2"], env.tokens["1"]);
    let (s, body) = env.hub.send(
        "PUT",
        &format!("/api/connections/{}", env.activities),
        Some(&json!({"credentials": {"api_token": both}})),
    );
    assert_eq!(s, 200, "{body}");
    let customers_flow = env.customers_flow();
    let first = env.run(&customers_flow);
    assert_eq!(first["status"], "success", "{first}");

    // Zoho accounts by name after flow (a): kintone customers it created, and the seeded ones.
    let accounts: BTreeMap<String, String> = env
        .zoho_records("Accounts")
        .iter()
        .map(|a| {
            (
                a["Account_Name"].as_str().unwrap().to_string(),
                a["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let customers = env.kintone_records("1", &["$id", "会社名", "更新日時"]);
    let customer_id = |name: &str| -> String {
        customers
            .iter()
            .find(|c| text(c, "会社名") == name)
            .map(|c| text(c, "$id"))
            .unwrap_or_else(|| panic!("no kintone customer {name}"))
    };
    // 株式会社サンプル was created in Zoho by flow (a); 北海道フーズ was already there and
    // matched by name; 株式会社山田製作所 exists only in Zoho, so no link leads to kintone.
    let (sample, hokkaido, yamada) = (
        "株式会社サンプル",
        "北海道フーズ株式会社",
        "株式会社山田製作所",
    );
    for n in [sample, hokkaido, yamada] {
        assert!(
            accounts.contains_key(n),
            "no Zoho account {n}: {accounts:?}"
        );
    }

    // Only the test's activities: the seeded tasks go first.
    let token = env.zoho_token();
    let http = Client::new();
    let seeded: Vec<String> = env
        .zoho_records("Tasks")
        .iter()
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    let r = http
        .delete(format!("{}/crm/v8/Tasks?ids={}", env.crm, seeded.join(",")))
        .header("Authorization", format!("Zoho-oauthtoken {token}"))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    let task = |subject: &str, account: Option<&str>| {
        let mut t = json!({"Subject": subject, "Due_Date": "2026-04-15",
                           "Description": format!("{subject}の記録")});
        if let Some(a) = account {
            t["What_Id"] = json!({"id": accounts[a]});
        }
        t
    };
    let r: Value = http
        .post(format!("{}/crm/v8/Tasks", env.crm))
        .header("Authorization", format!("Zoho-oauthtoken {token}"))
        .json(&json!({"data": [
            task("見積書の送付", Some(sample)),
            task("冬季配送の打ち合わせ", Some(hokkaido)),
            task("部品共同購買の相談", Some(yamada)),
            task("社内勉強会", None),
        ]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let ids: Vec<String> = r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["details"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 4, "{r}");

    let (s, body) = env.hub.post(
        "/api/flows",
        &json!({"name": "Zoho タスク → kintone 活動履歴", "source": {"connection": env.zoho_a, "object": "Tasks"},
                "target": {"connection": env.activities, "object": "2"},
                "mapping": [{"from": "Subject", "to": "件名"}, {"from": "Due_Date", "to": "活動日"},
                            {"from": "Description", "to": "内容"},
                            {"from": "What_Id", "to": "顧客レコード番号", "transform": {"lookup_reverse": customers_flow}}],
                "options": {"register_missing_parent": false}}),
    );
    assert_eq!(s, 201, "{body}");
    let activity_flow = body["id"].as_str().unwrap().to_string();
    let run = env.run(&activity_flow);
    assert_eq!(run["status"], "partial", "{run}");
    // (The deleted seeded tasks may be read too, and skipped: they were never linked.)
    let (_, created, _, failed) = counts(&run);
    assert_eq!((created, failed), (3, 1), "{run}");
    let errors = run["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{run}");
    assert_eq!(
        (errors[0]["record"].as_str(), errors[0]["code"].as_str()),
        (Some(ids[2].as_str()), Some("lookup_missing")),
        "{run}"
    );
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&accounts[yamada]) && msg.contains("kintone 顧客管理 → Zoho 取引先"),
        "names the value and the flow: {msg}"
    );
    assert!(
        msg.contains("未登録") && msg.contains("自動登録はオフ") && msg.contains(yamada),
        "says the customer is not registered and the switch is off: {msg}"
    );

    // In 活動履歴, each activity points at its customer's record number, and kintone's own
    // lookup copied the company name from that record.
    let activities = env.kintone_records(
        "2",
        &["$id", "件名", "顧客レコード番号", "会社名", "活動日"],
    );
    let by_subject = |s: &str| activities.iter().find(|a| text(a, "件名") == s).cloned();
    let a = by_subject("見積書の送付").expect("the activity of 株式会社サンプル");
    assert_eq!(text(&a, "顧客レコード番号"), customer_id(sample), "{a}");
    assert_eq!(text(&a, "会社名"), sample, "{a}");
    assert_eq!(text(&a, "活動日"), "2026-04-15", "{a}");
    let h = by_subject("冬季配送の打ち合わせ").expect("the activity of 北海道フーズ");
    assert_eq!(text(&h, "顧客レコード番号"), customer_id(hokkaido), "{h}");
    assert_eq!(text(&h, "会社名"), hokkaido, "{h}");
    let own = by_subject("社内勉強会").expect("an activity without customer");
    assert_eq!(text(&own, "顧客レコード番号"), "", "{own}");
    assert!(
        by_subject("部品共同購買の相談").is_none(),
        "written without its customer"
    );

    // Idle: nothing is written again.
    let idle = env.run(&activity_flow);
    let (read, created, updated, _) = counts(&idle);
    assert_eq!((created, updated), (0, 0), "{idle} (read {read})");
}

/// Seeds/004 顧客インポート仕様: 会社名 blank → the person's name for both; 担当者名 blank → the
/// company name for both (Zoho needs a Last_Name: `coalesce`); both present → each as is;
/// neither → not imported. A customer Zoho already holds under its company name (written in
/// other widths and legal-form spellings) is matched, not created again.
#[test]
fn customers_import_by_name_and_company_with_blank_parts_taking_the_other() {
    let env = start();
    // The administrator unticks 必須 on 会社名 (customers that are a person only), as the
    // seed's app settings allow.
    env.kintone(
        "PUT",
        "preview/app/form/fields",
        "1",
        json!({"app": "1", "properties": {"会社名": {"code": "会社名", "required": false}}}),
    );
    env.kintone(
        "POST",
        "preview/app/deploy",
        "1",
        json!({"apps": [{"app": "1"}]}),
    );
    // Only this test's customers, written through kintone's bulk API: the seeded ones go.
    let seeded: Vec<String> = env
        .kintone_records("1", &["$id"])
        .iter()
        .map(|c| text(c, "$id"))
        .collect();
    let customer = |person: &str, company: &str| json!({"担当者名": {"value": person}, "会社名": {"value": company}});
    env.kintone(
        "POST",
        "bulkRequest",
        "1",
        json!({"requests": [
            {"method": "DELETE", "api": "/k/v1/records.json", "payload": {"app": "1", "ids": seeded}},
            {"method": "POST", "api": "/k/v1/records.json", "payload": {"app": "1", "records": [
                customer("山田 花子", "株式会社エービーシー"),   // (a) both
                customer("鈴木 一郎", ""),                      // (b) no company
                customer("", "株式会社XYZ商事"),                // (c) no person, already in Zoho
                customer("", ""),                               // (d) neither
                customer("", "合同会社みどり"),                 // (e) no person, new
            ]}},
        ]}),
    );
    assert_eq!(env.kintone_records("1", &["$id"]).len(), 5);

    // Zoho already holds (c), registered under its company name in both fields, spelt
    // otherwise: full-width letters, (株) for 株式会社.
    let token = env.zoho_token();
    let r: Value = Client::new()
        .post(format!("{}/crm/v8/Leads", env.crm))
        .header("Authorization", format!("Zoho-oauthtoken {token}"))
        .json(&json!({"data": [{"Last_Name": "株式会社ＸＹＺ商事", "Company": "(株)XYZ商事"}]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let existing = r["data"][0]["details"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"))
        .to_string();
    let before = env.zoho_records("Leads").len();

    let (s, body) = env.hub.post(
        "/api/flows",
        &json!({"name": "kintone 顧客管理 → Zoho 見込み客", "source": {"connection": env.customers, "object": "1"},
                "target": {"connection": env.zoho_a, "object": "Leads"},
                "mapping": [{"from": "担当者名", "to": "Last_Name", "transform": {"coalesce": ["担当者名", "会社名"]}},
                            {"from": "会社名", "to": "Company", "transform": {"coalesce": ["会社名", "担当者名"]}}],
                "match_keys": [{"source": "担当者名", "target": "Last_Name", "normalize": "nfkc"},
                               {"source": "会社名", "target": "Company", "normalize": "company_name"}],
                "options": {"blank_key_parts": "use_other"}}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();
    let (_, saved) = env.hub.get(&format!("/api/flows/{flow}"));
    assert_eq!(saved["options"]["blank_key_parts"], "use_other", "{saved}");
    // A coalesce naming a field the source does not have is refused at save.
    let (s, bad) = env.hub.post(
        "/api/flows",
        &json!({"name": "x", "source": {"connection": env.customers, "object": "1"},
                "target": {"connection": env.zoho_a, "object": "Leads"},
                "mapping": [{"from": "担当者名", "to": "Last_Name", "transform": {"coalesce": ["氏名", "会社名"]}}]}),
    );
    assert_eq!(s, 422, "{bad}");
    assert_eq!(bad["error"]["field"], "mapping[0].transform", "{bad}");

    let run = env.run(&flow);
    assert_eq!(run["status"], "success", "{run}");
    let c = &run["counts"];
    assert_eq!(
        (
            c["read"].as_i64(),
            c["created"].as_i64(),
            c["updated"].as_i64()
        ),
        (Some(5), Some(3), Some(1)),
        "(a), (b), (e) created, (c) matched: {run}"
    );
    assert_eq!(
        (c["skipped"].as_i64(), c["failed"].as_i64()),
        (Some(1), Some(0)),
        "(d) skipped and counted: {run}"
    );

    let leads = env.zoho_records("Leads");
    assert_eq!(leads.len(), before + 3, "{leads:?}");
    let by_last =
        |last: &str| -> Vec<&Value> { leads.iter().filter(|l| l["Last_Name"] == last).collect() };
    let company = |l: &Value| l["Company"].as_str().unwrap_or_default().to_string();
    let a = by_last("山田 花子");
    assert_eq!(a.len(), 1, "(a): {leads:?}");
    assert_eq!(company(a[0]), "株式会社エービーシー");
    let b = by_last("鈴木 一郎");
    assert_eq!(b.len(), 1, "(b): {leads:?}");
    assert_eq!(company(b[0]), "鈴木 一郎", "(b) the person's name for both");
    let e = by_last("合同会社みどり");
    assert_eq!(e.len(), 1, "(e) Last_Name from coalesce: {leads:?}");
    assert_eq!(company(e[0]), "合同会社みどり");
    let xyz: Vec<&Value> = leads
        .iter()
        .filter(|l| company(l).contains("XYZ商事") || company(l).contains("ＸＹＺ商事"))
        .collect();
    assert_eq!(xyz.len(), 1, "(c) no duplicate: {xyz:?}");
    assert_eq!(xyz[0]["id"], existing.as_str());
    assert_eq!(
        (xyz[0]["Last_Name"].as_str(), company(xyz[0]).as_str()),
        (Some("株式会社XYZ商事"), "株式会社XYZ商事"),
        "(c) written with the rule's values"
    );

    // Nothing new: the next run reads nothing and creates nothing.
    let idle = env.run(&flow);
    let (read, created, updated, failed) = counts(&idle);
    assert_eq!((read, created, updated, failed), (0, 0, 0, 0), "{idle}");
    assert_eq!(env.zoho_records("Leads").len(), before + 3);
}
