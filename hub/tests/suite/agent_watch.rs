//! `hub agent watch` against a serving hub: files in `<dir>/<object id>/` are uploaded to the
//! connection once they stop growing and moved into `sent/`; a hub that is down or a file the
//! hub refuses leaves the file in place to be tried again; the long-running mode picks up a
//! file dropped while it watches.

use crate::support;

use serde_json::json;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_port, plugin_dir, TestHub, HUB};

const OBJ: &str = "csv_customers";

fn agent(server: &str, dir: &Path, token: &str, conn: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(HUB);
    c.args(["agent", "watch", "--server", server, "--dir"])
        .arg(dir)
        .args(["--connection", conn, "--settle-ms", "150"])
        .args(extra)
        .env("HUB_AGENT_TOKEN", token)
        .env("RUST_LOG", "info");
    c
}

fn once(server: &str, dir: &Path, token: &str, conn: &str) -> (i32, String) {
    let out = agent(server, dir, token, conn, &["--once"])
        .output()
        .expect("run hub agent watch");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn cp932(text: &str) -> Vec<u8> {
    let (b, _, bad) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!bad);
    b.into_owned()
}

#[test]
fn the_agent_uploads_stable_files_and_retries_what_failed() {
    let plugins = plugin_dir(&["connector-obc"]);
    let data = tempfile::tempdir().unwrap();
    let hub = TestHub::start(
        &format!("sqlite://{}/hub.db", data.path().display()),
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
    );
    let root = data.path().join("hub-side");
    std::fs::create_dir_all(&root).unwrap();
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "obc", "name": "奉行 CSV", "registration_number": "OBC-CSV-0002",
                "phone": "03-0000-0000", "settings": {"csv_root": root.display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let conn = body["id"].as_str().unwrap().to_string();

    // The 奉行 PC's folder: one subfolder per object id.
    let pc = tempfile::tempdir().unwrap();
    let folder = pc.path().join(OBJ);
    std::fs::create_dir_all(&folder).unwrap();
    let first = cp932("取引先コード,取引先名\r\n000001,㈱髙﨑商事\r\n");
    std::fs::write(folder.join("取引先.csv"), &first).unwrap();
    std::fs::write(folder.join("~$取引先.csv"), b"lock").unwrap();

    // The hub is down: nothing is lost, the agent says so and exits 1.
    let dead = format!("http://127.0.0.1:{}", free_port());
    let (code, out) = once(&dead, pc.path(), &hub.token, &conn);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("upload failed"), "{out}");
    assert!(folder.join("取引先.csv").exists());

    // A wrong token stops the pass with what to do.
    let (code, out) = once(&hub.url, pc.path(), "wrong-token", &conn);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("hub token create"), "{out}");
    assert!(
        !out.contains("wrong-token"),
        "the token reached the log: {out}"
    );

    // The hub is up: sent, moved to sent/, and waiting in the hub's folder byte for byte.
    let (code, out) = once(&hub.url, pc.path(), &hub.token, &conn);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("sent"), "{out}");
    assert!(!folder.join("取引先.csv").exists());
    assert_eq!(
        std::fs::read(folder.join("sent").join("取引先.csv")).unwrap(),
        first
    );
    assert!(
        folder.join("~$取引先.csv").exists(),
        "temporary files are not sent"
    );
    assert_eq!(
        std::fs::read(root.join(OBJ).join("取引先.csv")).unwrap(),
        first
    );
    let (_, h) = hub.post(
        &format!("/api/connections/{conn}/actions/import_history"),
        &json!({"object": OBJ}),
    );
    let rows = h["result"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{h}");
    assert_eq!(rows[0]["state"], "未処理");
    assert_eq!(rows[0]["file"], "取引先.csv");

    // An object the connection does not have: refused, kept on the PC, exit 1.
    let unknown = pc.path().join("csv_nothing");
    std::fs::create_dir_all(&unknown).unwrap();
    std::fs::write(unknown.join("a.csv"), b"x").unwrap();
    let (code, out) = once(&hub.url, pc.path(), &hub.token, &conn);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("refused") && out.contains("csv_nothing"),
        "{out}"
    );
    assert!(unknown.join("a.csv").exists());
    std::fs::remove_dir_all(&unknown).unwrap();

    // Watching: a file of the same name dropped later is sent and queued behind the first,
    // at once on its file event (long before the next interval).
    let mut child = agent(
        &hub.url,
        pc.path(),
        &hub.token,
        &conn,
        &["--interval-secs", "600"],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("spawn hub agent watch");
    // Its first pass (at start) is over before the file comes, so only an event can send it.
    std::thread::sleep(Duration::from_secs(2));
    let second = cp932("取引先コード,取引先名\r\n000002,ｶﾌﾞｼｷｶﾞｲｼｬ①\r\n");
    std::fs::write(folder.join("取引先.csv"), &second).unwrap();
    let sent_again = folder.join("sent").join("取引先 (2).csv");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !sent_again.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(std::fs::read(&sent_again).unwrap(), second);
    let queued: Vec<Vec<u8>> = std::fs::read_dir(root.join(OBJ).join(".queue"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(
        queued,
        vec![second],
        "the second upload waits behind the first"
    );
    let (_, h) = hub.post(
        &format!("/api/connections/{conn}/actions/import_history"),
        &json!({}),
    );
    let waiting = h["result"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"] == "未処理")
        .count();
    assert_eq!(waiting, 2, "{h}");
    let _ = hub.stop();
}

/// As the manual's folder-watch app does: the agent makes a folder for every object of the
/// connection that takes files, and says which object each folder feeds.
#[test]
fn the_agent_makes_a_folder_per_object_that_takes_files() {
    let plugins = plugin_dir(&["connector-obc"]);
    let data = tempfile::tempdir().unwrap();
    let hub = TestHub::start(
        &format!("sqlite://{}/hub.db", data.path().display()),
        tempfile::tempdir().unwrap(),
        &[],
        &[plugins.path().to_path_buf()],
    );
    let root = data.path().join("hub-side");
    std::fs::create_dir_all(&root).unwrap();
    let (s, body) = hub.post(
        "/api/connections",
        &json!({"connector": "obc", "name": "奉行 CSV", "registration_number": "OBC-CSV-0003",
                "phone": "03-0000-0000", "settings": {"csv_root": root.display().to_string()}}),
    );
    assert_eq!(s, 201, "{body}");
    let conn = body["id"].as_str().unwrap().to_string();
    let pc = tempfile::tempdir().unwrap();
    let (code, out) = once(&hub.url, pc.path(), &hub.token, &conn);
    assert_eq!(code, 0, "{out}");
    assert!(pc.path().join(OBJ).is_dir(), "{out}");
    let line = out
        .lines()
        .find(|l| l.contains(&format!("{OBJ})")))
        .unwrap_or_else(|| panic!("no line names the object {OBJ}: {out}"));
    assert!(
        line.contains(&pc.path().join(OBJ).display().to_string()) && line.contains('→'),
        "{line}"
    );
    // Only objects that take files get a folder.
    let made: Vec<String> = std::fs::read_dir(pc.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(made.iter().all(|m| m.starts_with("csv_")), "{made:?}");
    hub.stop();
}
