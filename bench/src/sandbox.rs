//! The sandbox emulators as their own process (`hub sandbox`), so that the hub's memory figures
//! hold only the hub; their `/_sandbox` controls (faults, counters, seeding, raw data).

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::{hub_exe, kill_term};

pub struct Sandbox {
    child: Child,
    /// `hub sandbox`'s announcement: URLs and credentials.
    pub a: Value,
    http: reqwest::blocking::Client,
}

/// The API servers whose counters the benchmarks read.
pub const KINTONE: &str = "kintone";
pub const ZOHO: &str = "zoho_crm";
pub const ZOHO_ACCOUNTS: &str = "zoho_accounts";

impl Sandbox {
    pub fn start() -> Result<Sandbox> {
        let mut child = Command::new(hub_exe()?)
            .arg("sandbox")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let out = child.stdout.take().context("sandbox stdout")?;
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line)?;
        let a: Value = serde_json::from_str(line.trim())
            .with_context(|| format!("hub sandbox did not announce itself: {line}"))?;
        Ok(Sandbox {
            child,
            a,
            http: reqwest::blocking::Client::builder()
                .timeout(std::time::Duration::from_secs(1800))
                .build()?,
        })
    }

    pub fn url(&self, name: &str) -> String {
        self.a[name].as_str().unwrap_or_default().to_string()
    }

    fn send(&self, r: reqwest::blocking::RequestBuilder, what: &str) -> Result<Value> {
        let r = r.send().with_context(|| what.to_string())?;
        let status = r.status();
        let text = r.text()?;
        if !status.is_success() {
            bail!("{what}: {status} {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Latency, concurrency limit and error rate of one emulator (`sandbox::Faults` fields).
    pub fn faults(&self, name: &str, faults: Value) -> Result<()> {
        let url = format!("{}/_sandbox/faults", self.url(name));
        self.send(self.http.put(&url).json(&faults), &url)?;
        Ok(())
    }

    /// The same faults on every API server the benchmarks use.
    pub fn faults_all(&self, faults: &Value) -> Result<()> {
        for n in [KINTONE, ZOHO] {
            self.faults(n, faults.clone())?;
        }
        Ok(())
    }

    pub fn reset_stats(&self) -> Result<()> {
        for n in [KINTONE, ZOHO, ZOHO_ACCOUNTS] {
            let url = format!("{}/_sandbox/stats/reset", self.url(n));
            self.send(self.http.post(&url), &url)?;
        }
        Ok(())
    }

    /// Requests per `METHOD /route` since the last reset.
    pub fn stats(&self, name: &str) -> Result<Calls> {
        let url = format!("{}/_sandbox/stats", self.url(name));
        let v = self.send(self.http.get(&url), &url)?;
        let mut by_route = BTreeMap::new();
        if let Some(m) = v["requests"].as_object() {
            for (k, n) in m {
                by_route.insert(k.clone(), n.as_u64().unwrap_or(0));
            }
        }
        let injected = v["injected"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        Ok(Calls { by_route, injected })
    }

    /// Adds `n` generated customers to 顧客管理 (app 1), outside the API.
    pub fn kintone_generate(&self, n: usize) -> Result<()> {
        let url = format!("{}/_sandbox/kintone/apps/1/records", self.url(KINTONE));
        // In chunks: one request for a million records would hold the emulator's lock long.
        let mut left = n;
        while left > 0 {
            let k = left.min(100_000);
            self.send(
                self.http
                    .post(&url)
                    .json(&json!({"records": [], "generate": k})),
                &url,
            )?;
            left -= k;
        }
        Ok(())
    }

    pub fn kintone_count(&self) -> Result<u64> {
        let url = format!("{}/_sandbox/kintone/apps/1", self.url(KINTONE));
        let v = self.send(self.http.get(&url), &url)?;
        Ok(v["records"].as_u64().unwrap_or(0))
    }

    /// kintone cursors open now (the API allows 10 per domain).
    pub fn kintone_live_cursors(&self) -> Result<u64> {
        let url = format!("{}/_sandbox/kintone/cursors", self.url(KINTONE));
        Ok(self.send(self.http.get(&url), &url)?["live"]
            .as_u64()
            .unwrap_or(0))
    }

    pub fn kintone_reset(&self) -> Result<()> {
        let url = format!("{}/_sandbox/kintone/reset", self.url(KINTONE));
        self.send(self.http.post(&url), &url)?;
        Ok(())
    }

    pub fn kintone_token(&self) -> String {
        self.a["credentials"]["kintone"]["apps"][0]["api_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A kintone REST call on app 1 with its API token.
    pub fn kintone_api(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.url(KINTONE));
        let mut r = self
            .http
            .request(method.parse()?, &url)
            .header("X-Cybozu-API-Token", self.kintone_token());
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r, &format!("{method} {url}"))
    }

    /// Every record of app 1 as (会社名 → field values), read through the API by $id.
    pub fn kintone_all(&self, fields: &[&str]) -> Result<Vec<BTreeMap<String, String>>> {
        let mut out = Vec::new();
        let mut last = 0u64;
        loop {
            let q = format!("$id > {last} order by $id asc limit 500");
            let mut url = reqwest::Url::parse(&format!("{}/k/v1/records.json", self.url(KINTONE)))?;
            url.query_pairs_mut()
                .append_pair("app", "1")
                .append_pair("query", &q);
            for (i, f) in fields.iter().chain(["$id"].iter()).enumerate() {
                url.query_pairs_mut()
                    .append_pair(&format!("fields[{i}]"), f);
            }
            let v = self.send(
                self.http
                    .get(url.clone())
                    .header("X-Cybozu-API-Token", self.kintone_token()),
                "kintone records",
            )?;
            let recs = v["records"].as_array().cloned().unwrap_or_default();
            for r in &recs {
                let mut m = BTreeMap::new();
                for f in fields.iter().chain(["$id"].iter()) {
                    let val = &r[*f]["value"];
                    m.insert(
                        f.to_string(),
                        val.as_str().map(str::to_string).unwrap_or_default(),
                    );
                }
                last = m["$id"].parse().unwrap_or(last);
                out.push(m);
            }
            if recs.len() < 500 {
                return Ok(out);
            }
        }
    }

    /// Every record of a Zoho org's module, raw (every field), outside the API.
    pub fn zoho_all(&self, org: &str, module: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let page = 50_000;
        loop {
            let url = format!(
                "{}/_sandbox/zoho/orgs/{org}/modules/{module}/records?offset={}&limit={page}",
                self.url(ZOHO),
                out.len()
            );
            let v = self.send(self.http.get(&url), &url)?;
            let data = v["data"].as_array().cloned().unwrap_or_default();
            let n = data.len();
            out.extend(data);
            if n < page {
                return Ok(out);
            }
        }
    }

    /// How many records a Zoho org's module holds.
    pub fn zoho_count(&self, org: &str, module: &str) -> Result<u64> {
        let url = format!(
            "{}/_sandbox/zoho/orgs/{org}/modules/{module}/records?limit=0",
            self.url(ZOHO)
        );
        let v = self.send(self.http.get(&url), &url)?;
        Ok(v["count"].as_u64().unwrap_or(0))
    }

    /// The org's OAuth client and refresh token (`org` 0 = A, 1 = B).
    pub fn zoho_org(&self, org: usize) -> Value {
        self.a["credentials"]["zoho"]["orgs"][org].clone()
    }

    /// A fresh access token for org `A`/`B`, minted without the consent page.
    pub fn zoho_access_token(&self, org: &str) -> Result<String> {
        let url = format!("{}/_sandbox/zoho/tokens", self.url(ZOHO_ACCOUNTS));
        let v = self.send(self.http.post(&url).json(&json!({"org": org})), &url)?;
        Ok(v["access_token"].as_str().unwrap_or_default().to_string())
    }

    /// A Zoho REST call with a bearer token (`Zoho-oauthtoken`).
    pub fn zoho_api(&self, token: &str, method: &str, path: &str, body: Value) -> Result<Value> {
        let url = format!("{}{path}", self.url(ZOHO));
        self.send(
            self.http
                .request(method.parse()?, &url)
                .header("Authorization", format!("Zoho-oauthtoken {token}"))
                .json(&body),
            &format!("{method} {url}"),
        )
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        kill_term(&mut self.child);
    }
}

/// One emulator's counters.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub by_route: BTreeMap<String, u64>,
    pub injected: u64,
}

impl Calls {
    pub fn total(&self) -> u64 {
        self.by_route.values().sum()
    }

    /// Write calls (POST/PUT/PATCH/DELETE).
    pub fn writes(&self) -> u64 {
        self.by_route
            .iter()
            .filter(|(k, _)| !k.starts_with("GET"))
            .map(|(_, n)| n)
            .sum()
    }

    /// `route: n` pairs for a report cell.
    pub fn describe(&self) -> String {
        self.by_route
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
