//! A plugin worker lives no longer than its hub, and stopping a serving hub is bounded: a hub
//! killed with SIGKILL takes its hung worker with it, and SIGTERM during a hung call cancels the
//! call, records the run as interrupted (queued again, to resume at the next start) and exits
//! within `HUB_SHUTDOWN_SECS`, not the call timeout.

use crate::support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{plugin_dir, TestHub};

/// The `hub worker` processes whose parent is `pid`.
fn workers_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // After the parenthesised name: state, ppid.
        let mut rest = stat.rsplit(')').next().unwrap_or("").split_whitespace();
        let _state = rest.next();
        let ppid = rest.next().and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
        if ppid == Some(pid) && String::from_utf8_lossy(&cmdline).contains("worker\0--plugin") {
            out.push(child);
        }
    }
    out
}

/// A process's process group.
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the parenthesised name: state, ppid, pgrp.
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}

/// Whether a process still runs (a zombie runs nothing).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .and_then(|rest| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// What the tests need of a serving hub.
trait Serving {
    fn get(&self, path: &str) -> (u16, Value);
    fn post(&self, path: &str, body: &Value) -> (u16, Value);
    fn pid(&self) -> u32;
}

impl Serving for TestHub {
    fn get(&self, path: &str) -> (u16, Value) {
        TestHub::get(self, path)
    }
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        TestHub::post(self, path, body)
    }
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A serving hub with a flow whose source hangs in `read`, started and seen hanging; answers
/// the hub, the run id and the hub's worker processes (the hung one among them).
fn hub_in_a_hung_call(
    dir: &tempfile::TempDir,
    plugins: &tempfile::TempDir,
    env: &[(&str, &str)],
) -> (TestHub, String, Vec<u32>) {
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let hub = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        env,
    );
    let (run, workers) = hang_a_run(&hub, dir);
    (hub, run, workers)
}

/// Starts a run of a flow whose source hangs in `read` and waits until it hangs there; answers
/// the run id and the hub's worker processes (the hung one among them).
fn hang_a_run(hub: &impl Serving, dir: &tempfile::TempDir) -> (String, Vec<u32>) {
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "filestore", "name": "送信先", "registration_number": "TEST-0001", "phone": "03-0000-0000",
                "settings": {"path": dir.path().join("target").display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let target = body["id"].as_str().unwrap().to_string();
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "good", "name": "止まるコネクタ", "registration_number": "TEST-0001", "phone": "03-0000-0000",
                "settings": {"tenant": "hang", "misbehave": "hang"}, "credentials": {"api_token": "t"}}),
    );
    assert_eq!(s, 201, "{body}");
    let source = body["id"].as_str().unwrap().to_string();
    let (s, body) = hub.post(
        "/api/flows",
        &json!({"name": "hang flow", "source": {"connection": source, "object": "companies"},
                "target": {"connection": target, "object": "companies"}, "mapping": [{"from": "name", "to": "name"}]}),
    );
    assert_eq!(s, 201, "{body}");
    let flow = body["id"].as_str().unwrap().to_string();
    let (s, body) = hub.post(&format!("/api/flows/{flow}/run"), &json!({}));
    assert_eq!(s, 202, "{body}");
    let run = body["run_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, r) = hub.get(&format!("/api/runs/{run}"));
        if r["status"] == "running" && !workers_of(hub.pid()).is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the run never started: {r}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Time for the read to reach the plugin and hang there.
    std::thread::sleep(Duration::from_secs(2));
    let (_, r) = hub.get(&format!("/api/runs/{run}"));
    assert_eq!(r["status"], "running", "{r}");
    let workers = workers_of(hub.pid());
    assert!(!workers.is_empty(), "no worker process");
    (run, workers)
}

fn wait_gone(workers: &[u32], within: Duration) -> Vec<u32> {
    let deadline = Instant::now() + within;
    loop {
        let left: Vec<u32> = workers.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_hub_killed_with_sigkill_takes_its_hung_worker_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(&["test-plugin-good", "test-plugin-filestore"]);
    let (mut hub, _run, workers) = hub_in_a_hung_call(&dir, &plugins, &[("HUB_RUNNERS", "1")]);
    hub.child.kill().unwrap();
    let _ = hub.child.wait();
    let left = wait_gone(&workers, Duration::from_secs(5));
    for pid in &left {
        // Not left behind for the next test either.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    assert!(
        left.is_empty(),
        "workers {left:?} outlived their hub by 5 s (of {workers:?})"
    );
}

#[test]
fn sigterm_during_a_hung_call_interrupts_the_run_and_exits_within_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(&["test-plugin-good", "test-plugin-filestore"]);
    let (mut hub, run, workers) = hub_in_a_hung_call(
        &dir,
        &plugins,
        &[("HUB_RUNNERS", "1"), ("HUB_SHUTDOWN_SECS", "5")],
    );
    let started = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &hub.child.id().to_string()])
        .status();
    let status = loop {
        if let Some(status) = hub.child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = hub.child.kill();
            for pid in &workers {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            panic!(
                "the hub did not exit within 30 s of SIGTERM:\n{}",
                hub.logs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(7),
        "SIGTERM took {took:?} (bound 5 s)"
    );
    assert!(status.success(), "{status:?}\n{}", hub.logs());
    let left = wait_gone(&workers, Duration::from_secs(3));
    assert!(left.is_empty(), "workers {left:?} outlived the hub");

    // Started again without runners (so nothing claims the resumption): the run is recorded as
    // interrupted and a run resuming it is queued.
    let db = hub.database_url.clone();
    drop(hub);
    let again = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "0")],
    );
    let (_, r) = again.get(&format!("/api/runs/{run}"));
    assert_eq!(r["status"], "interrupted", "{r}");
    let (_, runs) = again.get("/api/runs?status=queued");
    let list = runs
        .as_array()
        .cloned()
        .or_else(|| runs["runs"].as_array().cloned())
        .or_else(|| runs["items"].as_array().cloned())
        .unwrap_or_default();
    assert!(
        list.iter().any(|q| q["trigger"] == "retry"),
        "no queued run resumes the interrupted one: {runs}"
    );
}

/// `hub serve` as a terminal runs it: the leader of its own process group, which Ctrl-C
/// signals as a whole.
struct GroupHub {
    child: std::process::Child,
    url: String,
    token: String,
    http: reqwest::blocking::Client,
}

impl GroupHub {
    fn start(db: &str, plugins: &std::path::Path, env: &[(&str, &str)]) -> GroupHub {
        use std::os::unix::process::CommandExt;
        let out = std::process::Command::new(support::HUB)
            .args(["token", "create", "t", "--database", db])
            .env("HUB_MASTER_KEY", support::MASTER_KEY)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let port = support::free_port();
        let child = std::process::Command::new(support::HUB)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                db,
            ])
            .arg("--plugins")
            .arg(plugins)
            .env("HUB_MASTER_KEY", support::MASTER_KEY)
            .env("HUB_FILES_ROOT", std::env::temp_dir())
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        let hub = GroupHub {
            child,
            url: format!("http://127.0.0.1:{port}"),
            token,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while hub
            .http
            .get(format!("{}/healthz", hub.url))
            .send()
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(Instant::now() < deadline, "the hub did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        hub
    }
}

impl Serving for GroupHub {
    fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for GroupHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ctrl-C in the terminal signals the hub's whole process group: the workers are not in it (a
/// worker killed by SIGINT would fail its run as crashed); the hub cancels the call itself and
/// the run is interrupted, as with SIGTERM.
#[test]
fn ctrl_c_interrupts_the_run_rather_than_crashing_its_worker() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = plugin_dir(&["test-plugin-good", "test-plugin-filestore"]);
    let db = format!("sqlite://{}/hub.db", dir.path().display());
    let mut hub = GroupHub::start(
        &db,
        plugins.path(),
        &[("HUB_RUNNERS", "1"), ("HUB_SHUTDOWN_SECS", "5")],
    );
    let (run, workers) = hang_a_run(&hub, &dir);
    for w in &workers {
        assert_ne!(
            process_group(*w),
            Some(hub.child.id()),
            "worker {w} is in the hub's process group: Ctrl-C would kill it too"
        );
    }
    let started = Instant::now();
    let _ = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{}", hub.child.id())])
        .status();
    let status = loop {
        if let Some(status) = hub.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the hub did not exit within 30 s of Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(7));
    let left = wait_gone(&workers, Duration::from_secs(3));
    assert!(left.is_empty(), "workers {left:?} outlived the hub");
    drop(hub);

    let again = TestHub::start_env(
        &db,
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
        &[("HUB_RUNNERS", "0")],
    );
    let (_, r) = again.get(&format!("/api/runs/{run}"));
    assert_eq!(r["status"], "interrupted", "{r}");
}
