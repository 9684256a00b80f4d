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

/// A plugin directory with only the named libraries of the build (by package name).
pub fn plugin_dir(names: &[&str]) -> Result<tempfile::TempDir> {
    let dir = tempfile::tempdir()?;
    let build = hub_exe()?
        .parent()
        .map(Path::to_path_buf)
        .context("no build dir")?;
    for name in names {
        let file = library_file(name);
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
    pub database: String,
    pub plugins: PathBuf,
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
            // The benchmarks' file-store folders are temporary ones.
            .env("HUB_FILES_ROOT", std::env::temp_dir())
            .env("RUST_LOG", "warn")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let hub = Hub {
            child,
            url: format!("http://127.0.0.1:{port}"),
            token,
            database: database.to_string(),
            plugins: plugins.to_path_buf(),
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory of the hub process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        rss_mib(self.child.id())
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        kill_term(&mut self.child);
    }
}

/// SIGTERM, then SIGKILL after 10 s.
pub fn kill_term(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub fn rss_mib(pid: u32) -> f64 {
    crate::mem::status_mib(pid, "VmRSS:")
}

/// The value after `--name` in the scenario's options.
pub fn opt(opts: &[String], name: &str) -> Option<String> {
    opts.iter()
        .position(|o| o == name)
        .and_then(|i| opts.get(i + 1).cloned())
}

/// A numeric option, or its default.
pub fn num<T: std::str::FromStr>(opts: &[String], name: &str, default: T) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    match opt(opts, name) {
        Some(v) => v.parse().map_err(|e| anyhow::anyhow!("{name} {v}: {e}")),
        None => Ok(default),
    }
}

/// `--name 10000,100000`.
pub fn list(opts: &[String], name: &str, default: &[usize]) -> Result<Vec<usize>> {
    match opt(opts, name) {
        Some(v) => v
            .split(',')
            .map(|x| {
                x.trim()
                    .replace('_', "")
                    .parse()
                    .map_err(|e| anyhow::anyhow!("{name} {v}: {e}"))
            })
            .collect(),
        None => Ok(default.to_vec()),
    }
}

/// `10k`, `100k`, `1M`.
pub fn short(n: usize) -> String {
    if n >= 1_000_000 && n / 1_000_000 * 1_000_000 == n {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n / 1_000 * 1_000 == n {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// The command line that reproduces a scenario, for its report.
pub fn command(scenario: &str, opts: &[String]) -> String {
    let mut c = format!("cargo run --release -p bench -- {scenario}");
    for o in opts {
        c.push(' ');
        c.push_str(o);
    }
    c
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

#[cfg(test)]
mod tests {
    use super::{percentile, short};

    #[test]
    fn sizes_and_percentiles() {
        assert_eq!(short(10_000), "10k");
        assert_eq!(short(1_000_000), "1M");
        assert_eq!(short(2_500), "2500");
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 0.5), 3);
        assert_eq!(percentile(&[], 0.99), 0);
    }
}
