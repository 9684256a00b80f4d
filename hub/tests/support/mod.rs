//! Starts a real `hub serve` process on a free port with its own database, and talks to it.

#![allow(dead_code)]

use reqwest::blocking::Client;
use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const HUB: &str = env!("CARGO_BIN_EXE_hub");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The directory cargo put the workspace's cdylibs in (target/<profile>/).
pub fn artifact_dir() -> PathBuf {
    Path::new(HUB).parent().unwrap().to_path_buf()
}

pub struct TestHub {
    pub url: String,
    pub token: String,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    pub child: Child,
    client: Client,
}

/// Database URLs to test against: SQLite always, PostgreSQL when HUB_TEST_POSTGRES_URL is set.
pub fn databases(dir: &Path) -> Vec<String> {
    let mut out = vec![format!("sqlite://{}/data/hub.db", dir.display())];
    match std::env::var("HUB_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push(fresh_postgres(&url)),
        _ => eprintln!("PostgreSQL variant skipped: HUB_TEST_POSTGRES_URL is not set"),
    }
    out
}

/// A new empty database on the PostgreSQL server, made with psql-free SQL over `hub`'s own driver.
pub fn fresh_postgres(admin_url: &str) -> String {
    let name = format!("hub_test_{}_{}", std::process::id(), rand_suffix());
    let status = Command::new("psql")
        .args([admin_url, "-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql must be installed to run the PostgreSQL variant");
    assert!(
        status.success(),
        "cannot create test database on {admin_url}"
    );
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn rand_suffix() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish() % 1_000_000
}

impl TestHub {
    pub fn start(
        database_url: &str,
        dir: tempfile::TempDir,
        extra_args: &[&str],
        plugins: &[PathBuf],
    ) -> TestHub {
        let port = free_port();
        let key = "11".repeat(32);
        let mut token_cmd = Command::new(HUB);
        token_cmd
            .args(["token", "create", "test", "--database", database_url])
            .env("HUB_MASTER_KEY", &key);
        let out = token_cmd.output().expect("run hub token create");
        assert!(
            out.status.success(),
            "hub token create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let mut cmd = Command::new(HUB);
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            database_url,
        ])
        .args(extra_args)
        .env("HUB_MASTER_KEY", &key)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        for p in plugins {
            cmd.arg("--plugins").arg(p);
        }
        let child = cmd.spawn().expect("spawn hub serve");
        let hub = TestHub {
            url: format!("http://127.0.0.1:{port}"),
            token,
            database_url: database_url.to_string(),
            dir,
            child,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        hub.wait_ready();
        hub
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(r) = self.client.get(format!("{}/healthz", self.url)).send() {
                if r.status().is_success() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("hub did not answer /healthz within 30 s");
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}{}", self.url, path))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    pub fn send(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self
            .client
            .request(m, format!("{}{}", self.url, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let r = rb.send().unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, Some(body))
    }

    /// Stops the hub and returns everything it logged.
    pub fn stop(mut self) -> String {
        unsafe {
            libc_kill(self.child.id() as i32, 15);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut logs = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut logs);
        }
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut logs);
        }
        logs
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
