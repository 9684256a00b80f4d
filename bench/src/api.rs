//! The hub's HTTP API and CLI as the benchmarks drive them: connections to the sandbox, flows,
//! runs (through the serving hub, or `hub run` in the foreground).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sandbox::{Sandbox, KINTONE, ZOHO, ZOHO_ACCOUNTS};
use crate::support::{hub_exe, Hub, MASTER_KEY};

/// A finished run as `GET /api/runs/{id}` answers it, with its wall time seen from here.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub status: String,
    pub counts: Value,
    pub seconds: f64,
    pub message: String,
}

impl RunResult {
    pub fn count(&self, k: &str) -> i64 {
        self.counts[k].as_i64().unwrap_or(0)
    }

    pub fn ok(&self) -> bool {
        self.status == "success"
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()
        .unwrap_or_default()
}

impl Hub {
    fn answer(r: reqwest::blocking::Response, what: &str) -> Result<Value> {
        let status = r.status();
        let text = r.text()?;
        if !status.is_success() {
            bail!("{what}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn get(&self, path: &str) -> Result<Value> {
        let r = client()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()?;
        Self::answer(r, &format!("GET {path}"))
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let r = client()
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()?;
        Self::answer(r, &format!("POST {path}"))
    }

    fn id_of(v: &Value) -> Result<String> {
        v["id"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("no id in {v}"))
    }

    /// A kintone connection to app 1 (顧客管理) and a Zoho CRM connection to org A (or B).
    pub fn sandbox_connections(&self, sb: &Sandbox, zoho_org: usize) -> Result<(String, String)> {
        let kintone = self.post(
            "/api/connections",
            &json!({"connector": "kintone", "name": "bench kintone 顧客管理",
                    "registration_number": "BENCH-0001", "phone": "03-0000-0000",
                    "settings": {"base_url": sb.url(KINTONE), "apps": "1"},
                    "credentials": {"api_token": sb.kintone_token()}}),
        )?;
        let org = sb.zoho_org(zoho_org);
        let zoho = self.post(
            "/api/connections",
            &json!({"connector": "zoho-crm", "name": format!("bench Zoho {}", org["org"].as_str().unwrap_or("")),
                    "registration_number": "BENCH-0001", "phone": "03-0000-0000",
                    "settings": {"accounts_url": sb.url(ZOHO_ACCOUNTS), "api_domain": sb.url(ZOHO)},
                    "credentials": {"client_id": org["client_id"], "client_secret": org["client_secret"],
                                    "refresh_token": org["refresh_token"]}}),
        )?;
        Ok((Self::id_of(&kintone)?, Self::id_of(&zoho)?))
    }

    /// A file-store connection (the test connector) in `dir`.
    pub fn filestore_connection(&self, name: &str, dir: &std::path::Path) -> Result<String> {
        let v = self.post(
            "/api/connections",
            &json!({"connector": "filestore", "name": name, "registration_number": "BENCH-0001",
                    "phone": "03-0000-0000", "settings": {"path": dir.display().to_string()}}),
        )?;
        Self::id_of(&v)
    }

    pub fn create_flow(&self, spec: &Value) -> Result<String> {
        Self::id_of(&self.post("/api/flows", spec)?)
    }

    /// `POST /api/flows/{id}/run` and waits for the run to end (the hub needs a runner).
    pub fn run_flow(&self, flow: &str) -> Result<RunResult> {
        let started = Instant::now();
        let v = self.post(&format!("/api/flows/{flow}/run"), &json!({}))?;
        let run = v["run_id"]
            .as_str()
            .with_context(|| format!("no run_id in {v}"))?
            .to_string();
        loop {
            let r = self.get(&format!("/api/runs/{run}"))?;
            let status = r["status"].as_str().unwrap_or("").to_string();
            if !matches!(status.as_str(), "queued" | "running" | "") {
                return Ok(RunResult {
                    status,
                    counts: r["counts"].clone(),
                    seconds: started.elapsed().as_secs_f64(),
                    message: r["message"].as_str().unwrap_or("").to_string(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `POST /api/flows/{id}/preview`: reads the source through, writes nothing.
    pub fn preview(&self, flow: &str) -> Result<(Value, f64)> {
        let started = Instant::now();
        let v = self.post(&format!("/api/flows/{flow}/preview"), &json!({}))?;
        Ok((v, started.elapsed().as_secs_f64()))
    }

    fn cli_command(&self, args: &[&str], envs: &[(&str, &str)]) -> Result<Command> {
        let mut c = Command::new(hub_exe()?);
        c.args(args)
            .args(["--database", &self.database])
            .arg("--plugins")
            .arg(&self.plugins)
            .env("HUB_MASTER_KEY", MASTER_KEY)
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied());
        Ok(c)
    }

    /// `hub run FLOW` in the foreground: exit status and standard output.
    pub fn cli_run(&self, flow: &str, envs: &[(&str, &str)]) -> Result<(bool, String)> {
        let out = self
            .cli_command(&["run", flow], envs)?
            .stderr(Stdio::null())
            .output()?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        ))
    }

    pub fn spawn_cli_run(&self, flow: &str, envs: &[(&str, &str)]) -> Result<Child> {
        Ok(self
            .cli_command(&["run", flow], envs)?
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?)
    }
}

/// `created N` / `updated N` from `hub run`'s summary line.
pub fn summary_count(out: &str, label: &str) -> i64 {
    out.split(&format!("{label} "))
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// The flow the sync benchmarks use: 顧客管理 → Zoho 取引先, matched by 会社名 (Zoho's upsert).
pub fn kintone_to_zoho_flow(kintone: &str, zoho: &str) -> Value {
    json!({"name": "bench kintone 顧客管理 → Zoho 取引先",
           "source": {"connection": kintone, "object": "1"},
           "target": {"connection": zoho, "object": "Accounts"},
           "mapping": [{"from": "会社名", "to": "Account_Name"}, {"from": "電話番号", "to": "Phone"},
                       {"from": "郵便番号", "to": "Billing_Code"}, {"from": "都道府県", "to": "Billing_State"},
                       {"from": "住所", "to": "Billing_Street"}],
           "match_keys": [{"source": "会社名", "target": "Account_Name"}]})
}
