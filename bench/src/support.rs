//! Starting the release `hub` and reading its memory.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const MASTER_KEY: &str = "2222222222222222222222222222222222222222222222222222222222222222";

/// The `hub` built beside this benchmark (target/release/hub).
pub fn hub_exe() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let hub = exe
        .parent()
        .context("bench executable has no directory")?
        .join("hub");
    if !hub.exists() {
        bail!(
            "{} is missing: run `cargo build --release --workspace` first",
            hub.display()
        );
    }
    Ok(hub)
}

/// A plugin directory with only the named libraries of the build.
pub fn plugin_dir(names: &[&str]) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let build = hub_exe()?
        .parent()
        .map(Path::to_path_buf)
        .context("no build dir")?;
    for name in names {
        let file = format!("lib{}.so", name.replace('-', "_"));
        let src = build.join(&file);
        if !src.exists() {
            bail!(
                "{} is missing: run `cargo build --release --workspace` first",
                src.display()
            );
        }
        std::os::unix::fs::symlink(&src, dir.path().join(&file))?;
    }
    Ok(dir)
}

pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub struct Hub {
    pub child: Child,
    pub url: String,
    pub token: String,
}

impl Hub {
    pub fn start(database: &str, plugins: &Path, envs: &[(&str, &str)]) -> Result<Hub> {
        let exe = hub_exe()?;
        let out = Command::new(&exe)
            .args(["token", "create", "bench", "--database", database])
            .env("HUB_MASTER_KEY", MASTER_KEY)
            .output()?;
        if !out.status.success() {
            bail!("hub token create: {}", String::from_utf8_lossy(&out.stderr));
        }
        let token = String::from_utf8(out.stdout)?.trim().to_string();
        let port = free_port()?;
        let child = Command::new(&exe)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                database,
            ])
            .arg("--plugins")
            .arg(plugins)
            .env("HUB_MASTER_KEY", MASTER_KEY)
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let hub = Hub {
            child,
            url: format!("http://127.0.0.1:{port}"),
            token,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if reqwest::blocking::get(format!("{}/healthz", hub.url))
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(hub);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the hub did not start within 30 s")
    }

    /// Resident memory of the hub process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        rss_mib(self.child.id())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// This machine, for the report.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    format!("{cores} cores ({cpu}), {mem:.0} GiB RAM")
}
