//! Zoho CRM ⇄ IBM Notes through the real hub, plugins and sandbox (the seed manual "IBM Notes
//! 連携"): contacts two-way, created both ways, an edit on both sides of one record settled by
//! "CRM のデータを優先" (source wins) and, in a second flow, "Notes のデータを優先" (target
//! wins); private Notes entries never reach Zoho; an idle run writes nothing. Then to-dos →
//! Zoho Tasks and events → Zoho Events one way, and the Notes change_password action.

use crate::support;

use reqwest::blocking::Client;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

fn run_and_wait(hub: &TestHub, flow: &str) -> Value {
    let (s, body) = hub.post(&format!("/api/flows/{flow}/run"), &json!({}));
    assert_eq!(s, 202, "{body}");
    let run = body["run_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, r) = hub.get(&format!("/api/runs/{run}"));
        if !matches!(r["status"].as_str(), Some("queued" | "running")) {
            return r;
        }
        assert!(Instant::now() < deadline, "run did not finish: {r}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn counts(run: &Value) -> (Option<&str>, i64, i64, i64) {
    let c = |k: &str| run["counts"][k].as_i64().unwrap_or(-1);
    (
        run["status"].as_str(),
        c("created"),
        c("updated"),
        c("failed"),
    )
}

fn assert_idle(hub: &TestHub, flow: &str) {
    let idle = run_and_wait(hub, flow);
    assert_eq!(counts(&idle), (Some("success"), 0, 0, 0), "{idle}");
}

/// The sandbox's two emulators as a user of each system sees them.
struct Systems {
    http: Client,
    crm: String,
    accounts: String,
    notes_db: String,
    notes_user: String,
    notes_password: String,
}

impl Systems {
    fn zoho(&self, module: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!(
                "{}/_sandbox/zoho/orgs/A/modules/{module}/records",
                self.crm
            ))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v.get("data")
            .or(Some(&v))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn zoho_contact(&self, email: &str) -> Option<Value> {
        self.zoho("Contacts")
            .into_iter()
            .find(|c| c["Email"] == email)
    }

    /// A user edits a Zoho record through the API.
    fn zoho_edit(&self, module: &str, id: &Value, data: Value) {
        let token: Value = self
            .http
            .post(format!("{}/_sandbox/zoho/tokens", self.accounts))
            .json(&json!({"org": "A"}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let mut data = data;
        data["id"] = id.clone();
        let r = self
            .http
            .put(format!("{}/crm/v8/{module}", self.crm))
            .header(
                "Authorization",
                format!(
                    "Zoho-oauthtoken {}",
                    token["access_token"].as_str().unwrap()
                ),
            )
            .json(&json!({ "data": [data] }))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().unwrap());
    }

    fn das(&self, method: reqwest::Method, rest: &str, body: Option<Value>) -> Value {
        let mut rb = self
            .http
            .request(method, format!("{}{rest}", self.notes_db))
            .basic_auth(&self.notes_user, Some(&self.notes_password));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap();
        assert!(r.status().is_success(), "DAS {rest}: {}", r.status());
        r.json().unwrap_or(Value::Null)
    }

    /// Every Notes contact the owner can read, as view entries (with `@unid`).
    fn notes_contacts(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 0.. {
            let v = self.das(
                reqwest::Method::GET,
                &format!(
                    "/api/data/collections/name/($Contacts)?start={}&count=100",
                    page * 100
                ),
                None,
            );
            let entries = v.as_array().cloned().unwrap_or_default();
            let n = entries.len();
            out.extend(entries);
            if n < 100 {
                return out;
            }
        }
        out
    }

    fn notes_contact(&self, email: &str) -> Option<Value> {
        let unid = self
            .notes_contacts()
            .into_iter()
            .find(|e| e["MailAddress"] == email)?["@unid"]
            .as_str()?
            .to_string();
        Some(self.das(
            reqwest::Method::GET,
            &format!("/api/data/documents/unid/{unid}"),
            None,
        ))
    }

    /// A user edits a Notes document.
    fn notes_edit(&self, unid: &str, items: Value) {
        self.das(
            reqwest::Method::PATCH,
            &format!("/api/data/documents/unid/{unid}"),
            Some(items),
        );
    }
}

fn texts(records: &[Value], field: &str) -> BTreeSet<String> {
    records
        .iter()
        .filter_map(|r| r[field].as_str().map(String::from))
        .collect()
}

#[test]
fn zoho_contacts_and_notes_contacts_both_ways_then_tasks_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let plugins = plugin_dir(&["connector-zoho-crm", "connector-notes"]);
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &["--sandbox"],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "1")],
    );
    let a = hub.announcement();
    let d = &a["credentials"]["domino"];
    let sys = Systems {
        http: Client::new(),
        crm: a["zoho_crm"].as_str().unwrap().into(),
        accounts: a["zoho_accounts"].as_str().unwrap().into(),
        notes_db: format!(
            "{}/{}",
            d["server"].as_str().unwrap(),
            d["database"].as_str().unwrap()
        ),
        notes_user: d["username"].as_str().unwrap().into(),
        notes_password: d["password"].as_str().unwrap().into(),
    };
    let (_, conns) = hub.get("/api/connections");
    let conn_of = |connector: &str, name_part: &str| -> String {
        conns
            .as_array()
            .unwrap()
            .iter()
            .find(|c| {
                c["connector"] == connector && c["name"].as_str().unwrap().contains(name_part)
            })
            .map(|c| c["id"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no sandbox connection {connector} {name_part}: {conns}"))
    };
    let zoho = conn_of("zoho-crm", "組織A");
    let notes = conn_of("notes", "IBM Notes");
    let (s, check) = hub.post(&format!("/api/connections/{notes}/check"), &json!({}));
    assert_eq!((s, &check["ok"]), (200, &json!(true)), "{check}");

    let contact_flow = |name: &str, conflict: &str| -> String {
        let mapping: Vec<Value> = [
            ("Last_Name", "LastName"),
            ("First_Name", "FirstName"),
            ("Email", "MailAddress"),
            ("Phone", "OfficePhoneNumber"),
            ("Title", "JobTitle"),
            ("Department", "Department"),
        ]
        .iter()
        .map(|(from, to)| json!({"from": from, "to": to}))
        .collect();
        let (s, body) = hub.post(
            "/api/flows",
            &json!({"name": name, "direction": "two_way", "conflict": conflict,
                    "source": {"connection": zoho, "object": "Contacts"},
                    "target": {"connection": notes, "object": "contacts"},
                    "mapping": mapping,
                    "match_keys": [{"source": "Email", "target": "MailAddress", "normalize": "nfkc"}]}),
        );
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().unwrap().to_string()
    };

    // 1. Contacts both ways, Zoho data preferred on a conflict.
    let crm_wins = contact_flow(
        "Zoho 連絡先 ⇄ Notes 連絡先(CRM のデータを優先)",
        "source_wins",
    );
    let zoho_before = sys.zoho("Contacts");
    let notes_before = sys.notes_contacts();
    let first = run_and_wait(&hub, &crm_wins);
    let (status, created, _, failed) = counts(&first);
    assert_eq!((status, failed), (Some("success"), 0), "{first}");
    let zoho_emails = texts(&sys.zoho("Contacts"), "Email");
    let notes_emails = texts(&sys.notes_contacts(), "MailAddress");
    let public_notes = [
        "t.yamada@sample.example.jp",
        "h.sato@test-shoji.example.jp",
        "john.smith@sample-trading.example.com",
    ];
    for e in public_notes {
        assert!(zoho_emails.contains(e), "{e} reached Zoho: {zoho_emails:?}");
    }
    for e in texts(&zoho_before, "Email") {
        assert!(
            notes_emails.contains(&e),
            "{e} reached Notes: {notes_emails:?}"
        );
    }
    // Every Zoho contact with an e-mail address went to Notes; every Notes contact the owner
    // sees went to Zoho except two private ones (加藤: Mark Private, 山本: Readers).
    let with_email = zoho_before
        .iter()
        .filter(|c| c["Email"].is_string())
        .count();
    assert_eq!(
        created as usize,
        with_email + notes_before.len() - 2,
        "{first}"
    );
    let sato = sys
        .notes_contact("ichiro.sato@yamada-ss.example.jp")
        .unwrap();
    assert_eq!(
        (sato["LastName"].as_str(), sato["JobTitle"].as_str()),
        (Some("佐藤"), Some("部長"))
    );

    // Idle: nothing is written back (no echo) on either side.
    assert_idle(&hub, &crm_wins);

    // Both sides edit 山田 太郎's title: CRM wins, on both sides. (Both systems stamp changes
    // to the second: an edit in the very second of the hub's own write would look like it.)
    std::thread::sleep(Duration::from_millis(1100));
    let z = sys.zoho_contact("t.yamada@sample.example.jp").unwrap();
    let n = sys.notes_contact("t.yamada@sample.example.jp").unwrap();
    sys.notes_edit(
        n["@unid"].as_str().unwrap(),
        json!({"JobTitle": "営業部 部長(Notes で変更)"}),
    );
    sys.zoho_edit(
        "Contacts",
        &z["id"],
        json!({"Title": "営業本部長(CRM で変更)"}),
    );
    let edit = run_and_wait(&hub, &crm_wins);
    assert_eq!(counts(&edit), (Some("success"), 0, 1, 0), "{edit}");
    assert_eq!(
        sys.zoho_contact("t.yamada@sample.example.jp").unwrap()["Title"],
        "営業本部長(CRM で変更)"
    );
    assert_eq!(
        sys.notes_contact("t.yamada@sample.example.jp").unwrap()["JobTitle"],
        "営業本部長(CRM で変更)"
    );
    assert_idle(&hub, &crm_wins);

    // 2. The same pair with Notes data preferred: linking finds them equal, then a both-sides
    // edit keeps Notes' value.
    let notes_wins = contact_flow(
        "Zoho 連絡先 ⇄ Notes 連絡先(Notes のデータを優先)",
        "target_wins",
    );
    let link = run_and_wait(&hub, &notes_wins);
    assert_eq!(counts(&link), (Some("success"), 0, 0, 0), "{link}");
    std::thread::sleep(Duration::from_millis(1100));
    let z = sys.zoho_contact("h.sato@test-shoji.example.jp").unwrap();
    let n = sys.notes_contact("h.sato@test-shoji.example.jp").unwrap();
    sys.notes_edit(
        n["@unid"].as_str().unwrap(),
        json!({"JobTitle": "総務部 部長(Notes で変更)"}),
    );
    sys.zoho_edit(
        "Contacts",
        &z["id"],
        json!({"Title": "総務課長(CRM で変更)"}),
    );
    let edit = run_and_wait(&hub, &notes_wins);
    assert_eq!(counts(&edit), (Some("success"), 0, 1, 0), "{edit}");
    assert_eq!(
        sys.zoho_contact("h.sato@test-shoji.example.jp").unwrap()["Title"],
        "総務部 部長(Notes で変更)"
    );
    assert_eq!(
        sys.notes_contact("h.sato@test-shoji.example.jp").unwrap()["JobTitle"],
        "総務部 部長(Notes で変更)"
    );
    assert_idle(&hub, &notes_wins);

    // Private Notes contacts never reached Zoho.
    let zoho_emails = texts(&sys.zoho("Contacts"), "Email");
    for e in [
        "megumi.kato@example.jp",
        "a.yamamoto@sample.example.jp",
        "matsumoto@test-shoji.example.jp",
    ] {
        assert!(!zoho_emails.contains(e), "private {e} is in Zoho");
    }

    // 3. To-dos → Zoho Tasks, one way.
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "Notes ToDo → Zoho タスク", "source": {"connection": notes, "object": "todos"},
                "target": {"connection": zoho, "object": "Tasks"},
                "mapping": [{"from": "Subject", "to": "Subject"},
                            {"from": "DueDateTime", "to": "Due_Date", "transform": {"date_format": "%Y-%m-%d"}},
                            {"from": "Importance", "to": "Priority", "transform": {"map": {"1": "High", "2": "Normal", "3": "Low"}, "default": "Normal"}},
                            {"from": "Body", "to": "Description"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let todos = body["id"].as_str().unwrap().to_string();
    let run = run_and_wait(&hub, &todos);
    assert_eq!(counts(&run), (Some("success"), 6, 0, 0), "{run}");
    let tasks = sys.zoho("Tasks");
    let quote = tasks
        .iter()
        .find(|t| t["Subject"] == "株式会社サンプル 見積書を送付")
        .unwrap();
    assert_eq!(quote["Priority"], "High");
    assert!(quote["Due_Date"].as_str().unwrap().len() == 10, "{quote}");
    let subjects = texts(&tasks, "Subject");
    for s in ["健康診断の予約", "人事評価シートの提出"] {
        assert!(!subjects.contains(s), "private to-do {s} is in Zoho");
    }
    assert_idle(&hub, &todos);

    // 4. Events → Zoho Events, one way.
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "Notes 予定 → Zoho 予定", "source": {"connection": notes, "object": "events"},
                "target": {"connection": zoho, "object": "Events"},
                "mapping": [{"from": "summary", "to": "Event_Title"}, {"from": "start", "to": "Start_DateTime"},
                            {"from": "end", "to": "End_DateTime"}, {"from": "all_day", "to": "All_day"},
                            {"from": "location", "to": "Venue"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let events = body["id"].as_str().unwrap().to_string();
    let run = run_and_wait(&hub, &events);
    assert_eq!(counts(&run), (Some("success"), 7, 0, 0), "{run}");
    let titles = texts(&sys.zoho("Events"), "Event_Title");
    assert!(
        titles.contains("定例会議") && titles.contains("経営会議"),
        "{titles:?}"
    );
    for s in ["歯医者", "人事面談", "休暇", "役員報酬の検討"] {
        assert!(!titles.contains(s), "private event {s} is in Zoho");
    }
    assert_idle(&hub, &events);

    // 4b. A flow that reads only today's events (its own choice; the connection reads all).
    let org_b = conn_of("zoho-crm", "組織B");
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "今日の予定 → 組織B", "source": {"connection": notes, "object": "events"},
                "target": {"connection": org_b, "object": "Events"},
                "mapping": [{"from": "summary", "to": "Event_Title"}, {"from": "start", "to": "Start_DateTime"},
                            {"from": "end", "to": "End_DateTime"}],
                "filters": {"source_options": {"events_window": "today"}}}),
    );
    assert_eq!(s, 201, "{body}");
    let today = body["id"].as_str().unwrap().to_string();
    let (_, saved) = hub.get(&format!("/api/flows/{today}"));
    let chosen = saved.pointer("/filters/source_options/events_window");
    assert_eq!(chosen, Some(&json!("today")), "{saved}");
    let run = run_and_wait(&hub, &today);
    // Today holds 朝会 and the private 歯医者, which stays in Notes.
    assert_eq!(counts(&run), (Some("success"), 1, 0, 0), "{run}");

    // 5. The Notes password changes in Domino; the connection is updated through its action.
    let r = sys
        .http
        .put(format!(
            "{}/_sandbox/domino/users/{}/password",
            d["server"].as_str().unwrap(),
            sys.notes_user
        ))
        .json(&json!({"password": "changed-in-Domino-7"}))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (_, check) = hub.post(&format!("/api/connections/{notes}/check"), &json!({}));
    assert_eq!(check["ok"], false, "{check}");
    let (s, body) = hub.post(
        &format!("/api/connections/{notes}/actions/change_password"),
        &json!({"new_password": "changed-in-Domino-7"}),
    );
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["result"]["changed"], true, "{body}");
    assert!(!body.to_string().contains("changed-in-Domino-7"), "{body}");
    let (_, check) = hub.post(&format!("/api/connections/{notes}/check"), &json!({}));
    assert_eq!(check["ok"], true, "{check}");
    assert_idle(&hub, &crm_wins);

    let logs = hub.stop();
    for line in logs.lines().filter(|l| !l.starts_with('{')) {
        assert!(
            !line.contains("changed-in-Domino-7"),
            "the password is in the log: {line}"
        );
    }
}
