//! `hub token create|list|revoke` against a real `hub serve`: a token's role is enforced on
//! `/api` (403 `forbidden`), `--expires` takes only Nd / Nh, and a revoked token gets 401. A
//! token made the old way (`hub token create NAME`) is still an admin one.

use crate::support;

use serde_json::Value;
use support::{databases, TestHub};

fn call(hub: &TestHub, method: &str, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::blocking::Client::new()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{}", hub.url, path),
        )
        .bearer_auth(token)
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

/// `hub token create ARGS`: the token (the first line printed) and everything printed.
fn create(hub: &TestHub, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let (code, out) = hub.cli(&all, &[], &[]);
    let token = out.lines().next().unwrap_or_default().trim().to_string();
    (code, token, out)
}

#[test]
fn token_roles_expiry_and_revocation_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()) {
        let hub = TestHub::start(&db, tempfile::tempdir().unwrap(), &[], &[]);

        let (code, op, out) = create(&hub, &["x", "--role", "operator", "--expires", "90d"]);
        assert_eq!(code, 0, "{out}");
        assert!(op.starts_with("rkh_"), "{out}");
        let (s, body) = call(&hub, "GET", "/api/flows", &op);
        assert_eq!(s, 200, "{body}");
        let (s, body) = call(&hub, "DELETE", "/api/flows/does-not-exist", &op);
        assert_eq!(s, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
        assert!(body["error"]["message"].as_str().unwrap().contains("admin"));
        // Running is the operator's: not refused for its role (the flow does not exist).
        let (s, body) = call(&hub, "POST", "/api/flows/does-not-exist/run", &op);
        assert_eq!(s, 404, "{body}");

        let (code, ro, out) = create(&hub, &["viewer", "--role", "read-only", "--expires", "12h"]);
        assert_eq!(code, 0, "{out}");
        let (s, _) = call(&hub, "GET", "/api/runs", &ro);
        assert_eq!(s, 200);
        let (s, body) = call(&hub, "POST", "/api/flows/does-not-exist/run", &ro);
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (403, Some("forbidden"))
        );

        // `hub agent watch` with an operator token: uploads need admin, and it says so.
        let watched = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(watched.path().join("csv_customers")).unwrap();
        std::fs::write(watched.path().join("csv_customers/a.csv"), "x\n").unwrap();
        let out = std::process::Command::new(support::HUB)
            .args([
                "agent",
                "watch",
                "--once",
                "--settle-ms",
                "50",
                "--server",
                &hub.url,
            ])
            .args(["--connection", "does-not-exist", "--dir"])
            .arg(watched.path())
            .env("HUB_AGENT_TOKEN", &op)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.contains("403") && text.contains("admin token"),
            "{text}"
        );

        // Without --role: admin, as before roles existed (the test hub's own token too).
        let (code, admin, _) = create(&hub, &["script"]);
        assert_eq!(code, 0);
        let (s, body) = call(&hub, "DELETE", "/api/flows/does-not-exist", &admin);
        assert_eq!(s, 404, "{body}");
        let (s, _) = call(&hub, "DELETE", "/api/flows/does-not-exist", &hub.token);
        assert_eq!(s, 404);

        // Lifetimes other than Nd / Nh, and unknown roles, are refused and make nothing.
        for bad in ["0d", "garbage", "90", "0h", "-3d"] {
            let (code, _, out) = create(&hub, &["bad", &format!("--expires={bad}")]);
            assert_eq!(code, 1, "--expires {bad}: {out}");
            assert!(out.contains("--expires") && out.contains("90d"), "{out}");
        }
        let (code, _, out) = create(&hub, &["bad", "--role", "root"]);
        assert_eq!(code, 1);
        assert!(out.contains("--role"), "{out}");

        let (code, out) = hub.cli(&["token", "list", "--json"], &[], &[]);
        assert_eq!(code, 0, "{out}");
        let list: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        let names: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["test", "x", "viewer", "script"], "{out}");
        assert_eq!(list[1]["role"], "operator");
        assert_eq!(list[1]["state"], "active");
        assert!(list[1]["expires_at"].as_str().unwrap().ends_with("+09:00"));
        assert!(list[1]["last_used_at"].is_string(), "{out}");
        assert!(!out.contains(&op[4..]), "a token's value is never listed");
        let (code, table) = hub.cli(&["token", "list"], &[], &[]);
        assert_eq!(code, 0);
        assert!(
            table.contains("read_only") && table.contains("operator"),
            "{table}"
        );

        let (code, out) = hub.cli(&["token", "revoke", "x"], &[], &[]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("revoked"), "{out}");
        let (s, body) = call(&hub, "GET", "/api/flows", &op);
        assert_eq!(
            (s, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
        let id = list[2]["id"].as_str().unwrap();
        let (code, _) = hub.cli(&["token", "revoke", id], &[], &[]);
        assert_eq!(code, 0);
        let (s, _) = call(&hub, "GET", "/api/runs", &ro);
        assert_eq!(s, 401);
        let (code, out) = hub.cli(&["token", "revoke", "nobody"], &[], &[]);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("not found"), "{out}");
        let (code, out) = hub.cli(&["token", "list", "--json"], &[], &[]);
        assert_eq!(code, 0);
        let list: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(list[1]["state"], "revoked");
        assert!(list[1]["revoked_at"].is_string());
        hub.stop();
    }
}
