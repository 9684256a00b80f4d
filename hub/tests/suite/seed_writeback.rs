//! Seed 004's write-back of meeting records (Zoho タスク → kintone 活動履歴) through the HTTP API,
//! with the real plugins against the sandbox (issue 22, points 4 and 5):
//!
//! - 顧客自動登録: an activity whose customer no kintone customer is linked to registers that
//!   customer in kintone 顧客管理 (through the customers flow's mapping the other way: the Zoho
//!   account's name → 会社名), links it in the customers flow so its next run creates nothing,
//!   and is written to it in the same run; a second run registers nothing. (Switched off, the
//!   activity fails `lookup_missing`: `seed_scenarios.rs`.)
//! - ユーザー連携: the activity's 担当者 (a kintone USER_SELECT) is the kintone user the Zoho
//!   owner is mapped to on the Zoho connection; an owner without a pair fails its activity
//!   (`user_unmapped`), which is not written, and is written once the pair is saved.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

struct Env {
    hub: TestHub,
    _plugins: tempfile::TempDir,
    kintone: String,
    crm: String,
    zoho_accounts: String,
    tokens: BTreeMap<String, String>,
    customers: String,
    activities: String,
    zoho_a: String,
}

fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    // An administrator for the web pages.
    let mut admin = std::process::Command::new(support::HUB)
        .args(["admin", "create", "boss", "--database", &db])
        .env("HUB_MASTER_KEY", support::MASTER_KEY)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut admin.stdin.take().unwrap(),
        b"correct horse battery 9\n",
    )
    .unwrap();
    assert!(admin.wait().unwrap().success());
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
    let env = Env {
        kintone: a["kintone"].as_str().unwrap().to_string(),
        crm: a["zoho_crm"].as_str().unwrap().to_string(),
        zoho_accounts: a["zoho_accounts"].as_str().unwrap().to_string(),
        tokens,
        customers: find("顧客管理"),
        activities: find("活動履歴"),
        zoho_a: find("組織A"),
        hub,
        _plugins: plugins,
    };
    // A kintone lookup is written with the referenced app's token too.
    let both = format!("{},{}", env.tokens["2"], env.tokens["1"]);
    let (s, body) = env.hub.send(
        "PUT",
        &format!("/api/connections/{}", env.activities),
        Some(&json!({"credentials": {"api_token": both}})),
    );
    assert_eq!(s, 200, "{body}");
    env
}

impl Env {
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

    fn kintone_records(&self, app: &str) -> Vec<Value> {
        let page = self.kintone(
            "GET",
            "records",
            app,
            json!({"app": app, "query": "order by $id asc limit 500"}),
        );
        page["records"].as_array().unwrap().clone()
    }

    fn zoho(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let t: Value = Client::new()
            .post(format!("{}/_sandbox/zoho/tokens", self.zoho_accounts))
            .json(&json!({"org": "A"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = t["access_token"].as_str().unwrap().to_string();
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = Client::new()
            .request(m, format!("{}/crm/v8/{path}", self.crm))
            .header("Authorization", format!("Zoho-oauthtoken {token}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        assert!(status.is_success(), "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

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

    /// Only the test's tasks: the seeded ones go. Answers the new tasks' ids.
    fn replace_tasks(&self, tasks: Vec<Value>) -> Vec<String> {
        let seeded: Vec<String> = self
            .zoho_records("Tasks")
            .iter()
            .filter_map(|t| t["id"].as_str().map(str::to_string))
            .collect();
        if !seeded.is_empty() {
            self.zoho("DELETE", &format!("Tasks?ids={}", seeded.join(",")), None);
        }
        self.add_tasks(tasks)
    }

    fn add_tasks(&self, tasks: Vec<Value>) -> Vec<String> {
        let r = self.zoho("POST", "Tasks", Some(json!({ "data": tasks })));
        r["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                d["details"]["id"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{r}"))
                    .to_string()
            })
            .collect()
    }

    /// kintone 顧客管理 → Zoho 取引先, matched by company name.
    fn customers_flow(&self) -> String {
        let (s, body) = self.hub.post(
            "/api/flows",
            &json!({"name": "kintone 顧客管理 → Zoho 取引先", "source": {"connection": self.customers, "object": "1"},
                    "target": {"connection": self.zoho_a, "object": "Accounts"},
                    "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"}],
                    "match_keys": [{"source": "会社名", "target": "Account_Name", "normalize": "company_name"}]}),
        );
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Zoho タスク → kintone 活動履歴 with `extra` mapping rows and `options`.
    fn activity_flow(&self, customers_flow: &str, extra: Vec<Value>, options: Value) -> String {
        let mut mapping = vec![
            json!({"from": "Subject", "to": "件名"}),
            json!({"from": "Due_Date", "to": "活動日"}),
            json!({"from": "What_Id", "to": "顧客レコード番号", "transform": {"lookup_reverse": customers_flow}}),
        ];
        mapping.extend(extra);
        let (s, body) = self.hub.post(
            "/api/flows",
            &json!({"name": "Zoho タスク → kintone 活動履歴", "source": {"connection": self.zoho_a, "object": "Tasks"},
                    "target": {"connection": self.activities, "object": "2"},
                    "mapping": mapping, "options": options}),
        );
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

fn text(record: &Value, code: &str) -> String {
    record[code]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn counts(r: &Value) -> (i64, i64, i64) {
    let c = &r["counts"];
    let n = |k: &str| c[k].as_i64().unwrap();
    (n("created"), n("updated"), n("failed"))
}

fn task(subject: &str, account: Option<&str>) -> Value {
    let mut t = json!({"Subject": subject, "Due_Date": "2026-04-15"});
    if let Some(a) = account {
        t["What_Id"] = json!({ "id": a });
    }
    t
}

#[test]
fn an_activity_of_an_unknown_customer_registers_it_once_and_is_linked_to_it() {
    let env = start();
    let customers_flow = env.customers_flow();
    let first = env.run(&customers_flow);
    assert_eq!(first["status"], "success", "{first}");

    // Two accounts only Zoho knows: one seeded (株式会社山田製作所), one new.
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
    let (sample, yamada, fresh) = ("株式会社サンプル", "株式会社山田製作所", "株式会社新規開拓");
    let r = env.zoho(
        "POST",
        "Accounts",
        Some(json!({"data": [{"Account_Name": fresh}]})),
    );
    let fresh_id = r["data"][0]["details"]["id"].as_str().unwrap().to_string();
    let customers_before = env.kintone_records("1");
    let named = |records: &[Value], name: &str| -> Vec<Value> {
        records
            .iter()
            .filter(|c| text(c, "会社名") == name)
            .cloned()
            .collect()
    };
    assert!(named(&customers_before, yamada).is_empty());
    assert!(named(&customers_before, fresh).is_empty());

    let ids = env.replace_tasks(vec![
        task("見積書の送付", Some(&accounts[sample])),
        task("部品共同購買の相談", Some(&accounts[yamada])),
        task("工場見学", Some(&accounts[yamada])),
        task("初回訪問", Some(&fresh_id)),
    ]);
    assert_eq!(ids.len(), 4);

    // The switch is on by default (seed 004) and the flow says so.
    let flow = env.activity_flow(&customers_flow, vec![], json!({}));
    let (_, saved) = env.hub.get(&format!("/api/flows/{flow}"));
    assert_eq!(saved["options"]["register_missing_parent"], true, "{saved}");

    let run = env.run(&flow);
    assert_eq!(run["status"], "success", "{run}");
    let (created, _, failed) = counts(&run);
    assert_eq!(
        (created, failed),
        (6, 0),
        "two customers and four activities: {run}"
    );
    let msg = run["message"].as_str().unwrap_or_default();
    assert!(msg.contains("2件自動登録"), "{run}");

    // Each unknown customer is in kintone once, under the Zoho account's name.
    let customers = env.kintone_records("1");
    assert_eq!(customers.len(), customers_before.len() + 2);
    let y = named(&customers, yamada);
    let f = named(&customers, fresh);
    assert_eq!((y.len(), f.len()), (1, 1), "{customers:?}");
    let (y_id, f_id) = (text(&y[0], "$id"), text(&f[0], "$id"));

    // The activities point at them (and kintone's lookup copied the company name).
    let activities = env.kintone_records("2");
    let by_subject = |s: &str| {
        activities
            .iter()
            .find(|a| text(a, "件名") == s)
            .cloned()
            .unwrap_or_else(|| panic!("no activity {s}: {activities:?}"))
    };
    for (subject, id, name) in [
        ("部品共同購買の相談", &y_id, yamada),
        ("工場見学", &y_id, yamada),
        ("初回訪問", &f_id, fresh),
    ] {
        let a = by_subject(subject);
        assert_eq!(&text(&a, "顧客レコード番号"), id, "{a}");
        assert_eq!(text(&a, "会社名"), name, "{a}");
    }
    assert_eq!(
        text(&by_subject("見積書の送付"), "会社名"),
        sample,
        "a linked customer is used as before"
    );

    // The customers flow knows them: its next run creates no second Zoho account.
    let zoho_before = env.zoho_records("Accounts").len();
    let again = env.run(&customers_flow);
    assert_eq!(again["status"], "success", "{again}");
    assert_eq!(counts(&again).0, 0, "{again}");
    assert_eq!(env.zoho_records("Accounts").len(), zoho_before);

    // A second run of the activities, and a new activity of a registered customer: no
    // duplicate customer.
    let idle = env.run(&flow);
    assert_eq!(counts(&idle), (0, 0, 0), "{idle}");
    env.add_tasks(vec![task("納品立ち会い", Some(&accounts[yamada]))]);
    let later = env.run(&flow);
    assert_eq!(later["status"], "success", "{later}");
    assert_eq!(counts(&later), (1, 0, 0), "only the activity: {later}");
    assert!(
        later["message"]
            .as_str()
            .is_none_or(|m| !m.contains("自動登録")),
        "{later}"
    );
    let customers = env.kintone_records("1");
    assert_eq!(named(&customers, yamada).len(), 1, "{customers:?}");
    assert_eq!(customers.len(), customers_before.len() + 2);
}

#[test]
fn the_owner_is_written_as_the_mapped_kintone_user_and_an_unmapped_one_is_reported() {
    let env = start();
    let customers_flow = env.customers_flow();
    assert_eq!(env.run(&customers_flow)["status"], "success");
    let sample = env
        .zoho_records("Accounts")
        .iter()
        .find(|a| a["Account_Name"] == "株式会社サンプル")
        .and_then(|a| a["id"].as_str().map(str::to_string))
        .unwrap();
    let users = env.zoho("GET", "users?type=AllUsers", None);
    let owner = users["users"][0]["id"].as_str().unwrap().to_string();
    let email = users["users"][0]["email"].as_str().unwrap().to_string();
    env.replace_tasks(vec![task("ユーザー連携の確認会", Some(&sample))]);

    // The map is empty at first; a bad one is refused and an operator may only read it.
    let path = format!("/api/connections/{}/user-map", env.zoho_a);
    let (s, empty) = env.hub.get(&path);
    assert_eq!((s, empty), (200, json!({"pairs": []})));
    let (s, bad) = env.hub.send(
        "PUT",
        &path,
        Some(&json!({"pairs": [{"from": owner, "to": "sato"}, {"from": owner, "to": "suzuki"}]})),
    );
    assert_eq!(
        (s, bad["error"]["field"].as_str()),
        (400, Some("pairs[1].from")),
        "{bad}"
    );

    let flow = env.activity_flow(
        &customers_flow,
        vec![json!({"from": "Owner", "to": "担当者", "transform": {"user_map": env.zoho_a}})],
        json!({}),
    );
    let before = env.kintone_records("2").len();
    let run = env.run(&flow);
    assert_eq!(run["status"], "partial", "{run}");
    assert_eq!(counts(&run), (0, 0, 1), "{run}");
    let e = &run["errors"][0];
    assert_eq!(e["code"], "user_unmapped", "{run}");
    assert!(
        e["message"].as_str().unwrap().contains(&owner),
        "names the user: {e}"
    );
    assert_eq!(
        env.kintone_records("2").len(),
        before,
        "not written with another user"
    );

    // Mapped (by the Zoho user's email, as the administrator knows it): written as suzuki.
    let (s, saved) = env.hub.send(
        "PUT",
        &path,
        Some(&json!({"pairs": [{"from": email.to_uppercase(), "to": "suzuki"}]})),
    );
    assert_eq!(s, 200, "{saved}");
    assert_eq!(env.hub.get(&path).1["pairs"][0]["to"], "suzuki");
    let run = env.run(&flow);
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(counts(&run), (1, 0, 0), "{run}");
    let a = env
        .kintone_records("2")
        .into_iter()
        .find(|a| text(a, "件名") == "ユーザー連携の確認会")
        .expect("written");
    assert_eq!(a["担当者"]["type"], "USER_SELECT", "{a}");
    let codes: Vec<&str> = a["担当者"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["code"].as_str())
        .collect();
    assert_eq!(codes, ["suzuki"], "{a}");

    // Mapped by id to a login kintone does not know: kintone refuses, nothing is written.
    env.hub.send(
        "PUT",
        &path,
        Some(&json!({"pairs": [{"from": owner, "to": "nobody"}]})),
    );
    env.add_tasks(vec![task("追加の打ち合わせ", Some(&sample))]);
    let run = env.run(&flow);
    assert_eq!(counts(&run).2, 1, "{run}");
    assert!(
        !env.kintone_records("2")
            .iter()
            .any(|a| text(a, "件名") == "追加の打ち合わせ"),
        "refused by kintone"
    );
}

/// A minimal browser: one session cookie, the page's CSRF token.
struct Browser {
    base: String,
    http: Client,
    cookie: String,
}

impl Browser {
    fn signed_in(env: &Env) -> Browser {
        let mut b = Browser {
            base: env.hub.url.clone(),
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: String::new(),
        };
        let page = b.get("/login");
        let token = csrf(&page);
        let (s, page) = b.post(
            "/login",
            &[
                ("_csrf", &token),
                ("username", "boss"),
                ("password", "correct horse battery 9"),
                ("next", "/"),
            ],
        );
        assert_eq!(s, 303, "{page}");
        b
    }

    fn take_cookie(&mut self, r: &reqwest::blocking::Response) {
        for v in r.headers().get_all(reqwest::header::SET_COOKIE) {
            let v = v.to_str().unwrap();
            if let Some(rest) = v.strip_prefix("renkei_session=") {
                self.cookie = rest.split(';').next().unwrap().to_string();
            }
        }
    }

    fn get(&mut self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", format!("renkei_session={}", self.cookie))
            .send()
            .unwrap();
        self.take_cookie(&r);
        r.text().unwrap()
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Cookie", format!("renkei_session={}", self.cookie))
            .form(form)
            .send()
            .unwrap();
        self.take_cookie(&r);
        (r.status().as_u16(), r.text().unwrap())
    }
}

fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"_csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 20;
    page[at..].split('"').next().unwrap().to_string()
}

/// The flow editor offers the switch for a flow with a lookup (ticked by default), and the
/// Zoho connection's page edits its user mapping.
#[test]
fn the_editor_shows_the_switch_and_the_connection_page_edits_the_user_map() {
    let env = start();
    let customers_flow = env.customers_flow();
    let flow = env.activity_flow(&customers_flow, vec![], json!({}));
    let mut b = Browser::signed_in(&env);
    let page = b.get(&format!("/flows/{flow}/edit"));
    let at = page
        .find("name=\"register_missing_parent\"")
        .expect("the switch on a flow with a lookup");
    assert!(
        page[at..].split('>').next().unwrap().contains("checked"),
        "on by default"
    );
    assert!(page.contains("参照先にない顧客は自動登録する"), "{page}");
    let page = b.get(&format!("/flows/{customers_flow}/edit?lang=en"));
    assert!(
        !page.contains("name=\"register_missing_parent\""),
        "no switch without a lookup"
    );

    let path = format!("/connections/{}", env.zoho_a);
    let page = b.get(&path);
    assert!(page.contains("ユーザー連携"), "{page}");
    let token = csrf(&page);
    let (s, page) = b.post(
        &path,
        &[
            ("_csrf", token.as_str()),
            ("_action", "user_map"),
            ("um_from", "sato@example.jp"),
            ("um_to", "sato"),
            ("um_from", "4410"),
            ("um_to", "suzuki"),
            ("um_from", ""),
            ("um_to", ""),
        ],
    );
    assert_eq!(s, 303, "{page}");
    let (_, map) = env
        .hub
        .get(&format!("{path}/user-map").replace("/connections", "/api/connections"));
    assert_eq!(
        map,
        json!({"pairs": [{"from": "sato@example.jp", "to": "sato"}, {"from": "4410", "to": "suzuki"}]})
    );
    let page = b.get(&format!("{path}?lang=en"));
    assert!(page.contains("value=\"sato@example.jp\""), "{page}");
    assert!(page.contains("User mapping"), "{page}");
    // A user mapped twice is refused on the form, with what was typed kept.
    let token = csrf(&page);
    let (s, page) = b.post(
        &path,
        &[
            ("_csrf", token.as_str()),
            ("_action", "user_map"),
            ("um_from", "4410"),
            ("um_to", "sato"),
            ("um_from", "4410"),
            ("um_to", "takahashi"),
        ],
    );
    assert_eq!(s, 400, "{page}");
    assert!(page.contains("value=\"takahashi\""), "{page}");
    assert_eq!(
        env.hub
            .get(&format!("/api/connections/{}/user-map", env.zoho_a))
            .1["pairs"][1]["to"],
        "suzuki"
    );
}
