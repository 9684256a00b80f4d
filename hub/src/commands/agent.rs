//! `hub agent watch`: runs on the PC where 奉行 writes its CSV files and sends each one to a
//! hub (`PUT /api/connections/{id}/objects/{object}/files/{name}`). Every subfolder of the
//! watched folder is an object id; a file is sent once its size and modified time stayed the
//! same for the settle time, then moved to `<object>/sent/`. A failed upload leaves the file
//! where it is and is tried again later. Nothing here knows a connector.
//!
//! A pass starts when the folder reports a change (`notify`, debounced) or when the interval
//! has passed, whichever comes first: network drives (SMB shares) often report nothing, so
//! the interval keeps polling, and the agent polls alone if the folder cannot be watched.

use anyhow::{bail, Context, Result};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{new_debouncer, DebounceEventResult, Debouncer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

pub struct WatchArgs {
    pub server: String,
    pub dir: PathBuf,
    pub token: String,
    pub connection: String,
    pub once: bool,
    pub interval: Duration,
    pub settle: Duration,
}

/// The folder sent files are moved into, inside each object's folder.
const SENT: &str = "sent";
/// Attempts per file within one pass for failures that may pass (network, 5xx, 429).
const ATTEMPTS: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
}

fn look(p: &Path) -> Option<Seen> {
    let m = std::fs::metadata(p).ok()?;
    m.is_file().then(|| Seen {
        len: m.len(),
        modified: m.modified().ok(),
    })
}

/// A name the agent sends: not hidden, not an editor's or downloader's temporary file.
fn sendable(name: &str) -> bool {
    let lower = name.to_lowercase();
    !(name.starts_with('.')
        || name.starts_with("~$")
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".crdownload")
        || lower.ends_with('~'))
}

/// (object, file) pairs waiting in `dir/<object>/`.
fn waiting(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let objects = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the watched folder {}", dir.display()))?;
    for obj in objects.flatten() {
        let Ok(object) = obj.file_name().into_string() else {
            continue;
        };
        if object.starts_with('.') || !obj.path().is_dir() {
            continue;
        }
        let Ok(files) = std::fs::read_dir(obj.path()) else {
            continue;
        };
        for f in files.flatten() {
            let Ok(name) = f.file_name().into_string() else {
                continue;
            };
            if sendable(&name) && f.path().is_file() {
                out.push((object.clone(), f.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

enum Outcome {
    Sent(String),
    /// May pass: try again later.
    Retry(String),
    /// The hub refused this file (bad name, unknown object, too large): not again until it
    /// changes.
    Refused(String),
    /// The agent's settings are wrong (token, connection): stop the pass.
    Fatal(String),
}

fn upload_url(server: &str, connection: &str, object: &str, name: &str) -> Result<reqwest::Url> {
    let mut url = reqwest::Url::parse(server)
        .with_context(|| format!("--server {server} is not a URL (e.g. https://hub.example.jp)"))?;
    url.path_segments_mut()
        .map_err(|_| anyhow::anyhow!("--server {server} cannot have a path"))?
        .pop_if_empty()
        .extend([
            "api",
            "connections",
            connection,
            "objects",
            object,
            "files",
            name,
        ]);
    Ok(url)
}

/// The message of an error answer (`{"error": {"message"}}`), else the body.
fn error_text(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

async fn upload(
    client: &reqwest::Client,
    args: &WatchArgs,
    object: &str,
    path: &Path,
) -> Result<Outcome> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let url = upload_url(&args.server, &args.connection, object, &name)?;
    let body = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Ok(Outcome::Retry(format!("cannot read the file: {e}"))),
    };
    let resp = client
        .put(url)
        .bearer_auth(&args.token)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Retry(format!("cannot reach {}: {e}", args.server))),
    };
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    Ok(match status.as_u16() {
        200..=299 => {
            let msg = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| {
                    let m = &v["result"]["message"];
                    m["ja"].as_str().or(m.as_str()).map(str::to_string)
                })
                .unwrap_or_default();
            Outcome::Sent(msg)
        }
        401 => Outcome::Fatal(format!(
            "the hub refused the token ({status}: unknown, expired or revoked): create one with `hub token create` and pass it with --token"
        )),
        // Uploads change a connection's data: they need an admin token.
        403 => Outcome::Fatal(format!(
            "the hub refused the token ({status}): {}; uploads need an admin token (`hub token create agent`)",
            error_text(&text)
        )),
        404 => Outcome::Fatal(format!(
            "connection {} was not found on the hub ({status}): {}",
            args.connection,
            error_text(&text)
        )),
        400 | 413 | 422 => Outcome::Refused(format!("{status}: {}", error_text(&text))),
        _ => Outcome::Retry(format!("{status}: {}", error_text(&text))),
    })
}

/// Moves a sent file into `<object>/sent/`, under a free name.
fn move_to_sent(path: &Path) -> std::io::Result<PathBuf> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let sent = parent.join(SENT);
    std::fs::create_dir_all(&sent)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file")
        .to_string();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name.as_str(), ""),
    };
    for n in 1.. {
        let candidate = if n == 1 {
            sent.join(&name)
        } else {
            sent.join(format!("{stem} ({n}){ext}"))
        };
        if !candidate.exists() {
            std::fs::rename(path, &candidate)?;
            return Ok(candidate);
        }
    }
    unreachable!("an unbounded range always yields")
}

struct Agent {
    args: WatchArgs,
    client: reqwest::Client,
    /// Files the hub refused, by their size and time: sent again only once they change.
    refused: HashMap<PathBuf, Seen>,
    /// Failures by file and when to try again.
    backoff: HashMap<PathBuf, (u32, Instant)>,
}

#[derive(Default)]
struct PassReport {
    sent: usize,
    failed: usize,
    fatal: Option<String>,
}

impl Agent {
    async fn pass(&mut self) -> Result<PassReport> {
        let mut report = PassReport::default();
        let candidates: Vec<(String, PathBuf, Seen)> = waiting(&self.args.dir)?
            .into_iter()
            .filter_map(|(o, p)| look(&p).map(|s| (o, p, s)))
            .filter(|(_, p, s)| self.refused.get(p) != Some(s))
            .filter(|(_, p, _)| {
                self.backoff
                    .get(p)
                    .is_none_or(|(_, at)| Instant::now() >= *at)
            })
            .collect();
        if candidates.is_empty() {
            return Ok(report);
        }
        // One settle wait per pass: a file still being written changes size or time.
        tokio::time::sleep(self.args.settle).await;
        for (object, path, before) in candidates {
            if look(&path) != Some(before) {
                tracing::info!(file = %path.display(), "still being written; sent once it settles");
                continue;
            }
            let mut attempt = 0;
            let outcome = loop {
                attempt += 1;
                match upload(&self.client, &self.args, &object, &path).await? {
                    Outcome::Retry(why) if attempt < ATTEMPTS => {
                        tracing::warn!(file = %path.display(), attempt, "upload failed, retrying: {why}");
                        tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                    }
                    other => break other,
                }
            };
            match outcome {
                Outcome::Sent(msg) => {
                    self.backoff.remove(&path);
                    match move_to_sent(&path) {
                        Ok(to) => {
                            tracing::info!(object = %object, file = %path.display(), bytes = before.len, moved_to = %to.display(), "sent: {msg}")
                        }
                        // Sent but not moved: it would be sent again, which the hub's
                        // duplicate check makes harmless; say so.
                        Err(e) => {
                            tracing::error!(file = %path.display(), "sent, but cannot move it into {SENT}/ ({e}); it will be sent again")
                        }
                    }
                    report.sent += 1;
                }
                Outcome::Retry(why) => {
                    let failures = self.backoff.get(&path).map(|b| b.0).unwrap_or(0) + 1;
                    let wait = (self.args.interval * 2u32.saturating_pow(failures.min(6)))
                        .min(Duration::from_secs(300));
                    self.backoff
                        .insert(path.clone(), (failures, Instant::now() + wait));
                    tracing::warn!(file = %path.display(), failures, retry_in_secs = wait.as_secs(), "upload failed: {why}");
                    report.failed += 1;
                }
                Outcome::Refused(why) => {
                    self.refused.insert(path.clone(), before);
                    tracing::error!(file = %path.display(), "the hub refused the file (sent again only after it changes): {why}");
                    report.failed += 1;
                }
                Outcome::Fatal(why) => {
                    report.fatal = Some(why);
                    report.failed += 1;
                    return Ok(report);
                }
            }
        }
        Ok(report)
    }
}

/// Creates `<dir>/<object id>/` for every object of the connection that takes files (as the
/// folder-watch app of the manual does) and prints which object each folder feeds. A hub that
/// cannot be reached now is not fatal: the folders may be there already, and passes retry.
async fn prepare_folders(client: &reqwest::Client, args: &WatchArgs) -> Result<()> {
    let mut url = upload_url(&args.server, &args.connection, "x", "x")?;
    url.path_segments_mut()
        .map_err(|_| anyhow::anyhow!("--server {} cannot have a path", args.server))?
        .pop()
        .pop()
        .pop();
    let resp = match client.get(url).bearer_auth(&args.token).send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the connection's objects now; watching the folders that exist");
            return Ok(());
        }
    };
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    match status.as_u16() {
        200..=299 => {}
        401 => bail!("the hub refused the token ({status}): create one with `hub token create agent` and pass it with --token"),
        // Said again, and decided, by the uploads: the token's role is checked before the
        // connection's existence there, so their answer is the more useful one.
        404 => {
            tracing::warn!(connection = %args.connection, "the hub does not know this connection: {}", error_text(&text));
            return Ok(());
        }
        _ => {
            tracing::warn!(%status, "cannot list the connection's objects now: {}", error_text(&text));
            return Ok(());
        }
    }
    let objects: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    let mut fed = 0;
    for o in &objects {
        if o["capabilities"]["files"] != serde_json::Value::Bool(true) {
            continue;
        }
        let Some(id) = o["id"]
            .as_str()
            .filter(|id| !id.is_empty() && !id.contains(['/', '\\']) && *id != "." && *id != "..")
        else {
            continue;
        };
        let folder = args.dir.join(id);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
        let name = o["name"]["ja"]
            .as_str()
            .or(o["name"].as_str())
            .unwrap_or(id);
        println!("{} → {name} ({id})", folder.display());
        fed += 1;
    }
    if fed == 0 {
        println!(
            "connection {} has no object that takes files: check the connection's settings (e.g. the CSV watch folder)",
            args.connection
        );
    }
    Ok(())
}

pub async fn watch(args: WatchArgs) -> Result<ExitCode> {
    if !args.dir.is_dir() {
        bail!(
            "--dir {} is not a folder: create it, with a subfolder per object id (e.g. {}/csv_customers)",
            args.dir.display(),
            args.dir.display()
        );
    }
    if args.token.trim().is_empty() {
        bail!("--token is empty: create one with `hub token create agent` on the hub");
    }
    upload_url(&args.server, &args.connection, "object", "file.csv")?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .context("cannot start the HTTP client")?;
    prepare_folders(&client, &args).await?;
    tracing::info!(server = %args.server, dir = %args.dir.display(), connection = %args.connection, "watching: files in <dir>/<object id>/ are sent to the hub");
    let once = args.once;
    let interval = args.interval;
    let mut events = if once { None } else { Events::start(&args.dir) };
    let mut agent = Agent {
        args,
        client,
        refused: HashMap::new(),
        backoff: HashMap::new(),
    };
    loop {
        let report = agent.pass().await?;
        if report.sent > 0 || report.failed > 0 {
            tracing::info!(sent = report.sent, failed = report.failed, "pass finished");
        }
        if let Some(why) = &report.fatal {
            tracing::error!("{why}");
        }
        if once {
            return Ok(if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = changed(&mut events) => {}
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("stopping");
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

/// Change events of the watched folder, coalesced; `None` when it cannot be watched.
struct Events {
    _debouncer: Debouncer<RecommendedWatcher>,
    rx: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl Events {
    fn start(dir: &Path) -> Option<Events> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let made = new_debouncer(Duration::from_millis(300), move |r: DebounceEventResult| {
            if r.is_ok() {
                let _ = tx.send(());
            }
        });
        let mut debouncer = match made {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch for file events; polling only");
                return None;
            }
        };
        if let Err(e) = debouncer.watcher().watch(dir, RecursiveMode::Recursive) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch the folder for file events; polling only");
            return None;
        }
        Some(Events {
            _debouncer: debouncer,
            rx,
        })
    }
}

/// Returns at the next change event (all waiting ones taken); never, without events.
async fn changed(events: &mut Option<Events>) {
    let Some(e) = events.as_mut() else {
        return std::future::pending().await;
    };
    if e.rx.recv().await.is_none() {
        *events = None;
        return std::future::pending().await;
    }
    while e.rx.try_recv().is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls_encode_names_and_keep_a_base_path() {
        let u = upload_url("http://h:8080/", "c1", "csv_customers", "取引先 #1.csv").unwrap();
        assert_eq!(
            u.as_str(),
            "http://h:8080/api/connections/c1/objects/csv_customers/files/%E5%8F%96%E5%BC%95%E5%85%88%20%231.csv"
        );
        let u = upload_url("https://h/hub", "c", "o", "a.csv").unwrap();
        assert_eq!(u.path(), "/hub/api/connections/c/objects/o/files/a.csv");
        assert!(upload_url("not a url", "c", "o", "a").is_err());
    }

    #[test]
    fn temporary_and_hidden_files_are_not_sent() {
        assert!(sendable("取引先.csv"));
        assert!(!sendable(".取引先.csv") && !sendable("~$book.csv") && !sendable("a.csv.part"));
    }

    #[test]
    fn sent_files_never_overwrite() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..2 {
            let p = d.path().join("a.csv");
            std::fs::write(&p, format!("{i}")).unwrap();
            let to = move_to_sent(&p).unwrap();
            assert_eq!(std::fs::read_to_string(to).unwrap(), format!("{i}"));
        }
        assert!(d.path().join("sent").join("a (2).csv").exists());
    }
}
