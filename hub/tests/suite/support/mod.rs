//! Starts a real `hub serve` process on a free port with its own database, and talks to it.

#![allow(dead_code)]

pub mod filestore;
pub mod mail;

use reqwest::blocking::Client;
use serde_json::Value;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const HUB: &str = env!("CARGO_BIN_EXE_hub");
pub const MASTER_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";

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

/// The library file cargo builds for a workspace package: the shipped connectors' libraries are
/// named `renkei_connector_*` (`connector-kintone` → `librenkei_connector_kintone.so`), the
/// test plugins' after their package (`test-plugin-good` → `libtest_plugin_good.so`).
pub fn library_file(package: &str) -> String {
    let lib = package.replace('-', "_");
    if lib.starts_with("connector_") {
        format!("librenkei_{lib}.so")
    } else {
        format!("lib{lib}.so")
    }
}

/// A plugin directory holding only the named cdylibs of the build (linked, not copied), by
/// package name.
pub fn plugin_dir(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let file = library_file(name);
        let src = artifact_dir().join(&file);
        assert!(
            src.exists(),
            "{} is missing: run `cargo build --workspace` first",
            src.display()
        );
        std::os::unix::fs::symlink(&src, dir.path().join(&file)).unwrap();
    }
    dir
}

/// Database URLs to test against: SQLite always, PostgreSQL when HUB_TEST_POSTGRES_URL is set.
pub fn databases(dir: &Path) -> Vec<String> {
    let mut out = vec![format!("sqlite://{}/data/hub.db", dir.display())];
    match std::env::var("HUB_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => out.push(fresh_postgres(&url)),
        _ => skipped("PostgreSQL variant (HUB_TEST_POSTGRES_URL is not set)"),
    }
    out
}

/// A new empty database on the PostgreSQL server.
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
    h.finish() % 1_000_000_000
}

pub struct TestHub {
    pub url: String,
    pub token: String,
    pub database_url: String,
    pub dir: tempfile::TempDir,
    pub child: Child,
    client: Client,
    /// Everything the hub printed so far (its pipes are drained continuously, so a chatty hub
    /// never blocks on a full pipe).
    logs: Arc<Mutex<String>>,
}

fn drain(pipe: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(pipe);
        let mut line = String::new();
        while let Ok(n) = std::io::BufRead::read_line(&mut r, &mut line) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().push_str(&line);
            line.clear();
        }
    });
}

fn hub_command(
    args: &[&str],
    database_url: &str,
    plugins: &[PathBuf],
    envs: &[(&str, &str)],
) -> Command {
    let mut cmd = Command::new(HUB);
    cmd.args(args)
        .args(["--database", database_url])
        .env("HUB_MASTER_KEY", MASTER_KEY)
        // The tests' folders (CSV watch folders…) are temporary ones.
        .env("HUB_FILES_ROOT", std::env::temp_dir())
        .envs(envs.iter().copied());
    for p in plugins {
        cmd.arg("--plugins").arg(p);
    }
    cmd
}

impl TestHub {
    pub fn start(
        database_url: &str,
        dir: tempfile::TempDir,
        extra_args: &[&str],
        plugins: &[PathBuf],
    ) -> TestHub {
        Self::start_env(database_url, dir, extra_args, plugins, &[])
    }

    pub fn start_env(
        database_url: &str,
        dir: tempfile::TempDir,
        extra_args: &[&str],
        plugins: &[PathBuf],
        envs: &[(&str, &str)],
    ) -> TestHub {
        let port = free_port();
        let out = hub_command(&["token", "create", "test"], database_url, &[], envs)
            .output()
            .expect("run hub token create");
        assert!(
            out.status.success(),
            "hub token create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--listen", listen.as_str()];
        args.extend_from_slice(extra_args);
        let mut child = hub_command(&args, database_url, plugins, envs)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hub serve");
        let logs = Arc::new(Mutex::new(String::new()));
        if let Some(out) = child.stdout.take() {
            drain(out, logs.clone());
        }
        if let Some(err) = child.stderr.take() {
            drain(err, logs.clone());
        }
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
            logs,
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
        self.send("GET", path, None)
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

    /// Runs `hub ARGS --database DB` with this hub's key; answers the exit code and output.
    pub fn cli(&self, args: &[&str], plugins: &[PathBuf], envs: &[(&str, &str)]) -> (i32, String) {
        let out = hub_command(args, &self.database_url, plugins, envs)
            .output()
            .expect("run hub");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    /// Starts `hub ARGS` without waiting (to kill it).
    pub fn spawn_cli(&self, args: &[&str], plugins: &[PathBuf], envs: &[(&str, &str)]) -> Child {
        hub_command(args, &self.database_url, plugins, envs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn hub")
    }

    /// Stops the hub (SIGTERM, then SIGKILL after 10 s) and returns everything it logged.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100)); // let the drains read the last lines
        let logs = self.logs.lock().unwrap().clone();
        logs
    }

    /// The sandbox's announcement line (`hub serve --sandbox`), once it has been printed.
    pub fn announcement(&self) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(line) = self
                .logs()
                .lines()
                .find(|l| l.starts_with('{') && l.contains("\"zoho_accounts\""))
            {
                return serde_json::from_str(line).expect("the announcement is one JSON line");
            }
            assert!(
                Instant::now() < deadline,
                "no sandbox announcement in:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the hub printed so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Says that a test's variant did not run, where a person sees it (the harness captures
/// `eprintln!` of passing tests, not the stderr handle) and in `HUB_TEST_SKIP_LOG` when set
/// (`.ci/run` fails when anything was skipped).
pub fn skipped(what: &str) {
    use std::io::Write;
    let line = format!("SKIPPED: {what}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(path) = std::env::var("HUB_TEST_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}
