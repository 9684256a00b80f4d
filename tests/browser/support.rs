//! What the browser scenario stands on: the `hub` built by `cargo build --workspace`, a real
//! `hub serve` on a free port with its own SQLite file, Debian's chromedriver driving headless
//! Chromium, and small waiting helpers (pages reload on their own; the helpers poll).

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Map, Value};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub type R<T = ()> = Result<T, String>;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const MASTER_KEY: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const WAIT: Duration = Duration::from_secs(20);

/// A scenario against a fresh hub in a fresh browser.
pub type Scenario =
    for<'a> fn(
        &'a Hub,
        &'a mut Browser,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send + 'a>>;

/// Runs `scenario` (when the browser tests are on); on failure saves a screenshot named
/// `<name>-failure` and panics with the error and the tail of the hub's log.
pub async fn run_in_browser(name: &str, scenario: Scenario) {
    run_in_browser_env(name, &[], scenario).await
}

/// [`run_in_browser`] with these environment variables given to `hub serve`.
pub async fn run_in_browser_env(name: &str, envs: &[(&str, &str)], scenario: Scenario) {
    if !browser_available() {
        return;
    }
    let hub = Hub::start_env(envs).await.unwrap_or_else(|e| panic!("{e}"));
    let mut b = Browser::start().await.unwrap_or_else(|e| panic!("{e}"));
    let result = scenario(&hub, &mut b).await;
    if result.is_err() {
        let _ = b.shot(&format!("{name}-failure")).await;
    }
    b.close().await;
    if let Err(e) = result {
        let log = hub.log();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "{e}\n--- hub log (tail) ---\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    }
}

/// The one-time setup page: registers the first administrator, who is then signed in.
pub async fn set_up_admin(b: &Browser, hub_url: &str, user: &str, password: &str) -> R {
    b.goto(&format!("{hub_url}/")).await?;
    b.find("#setup-submit").await?;
    b.type_into("#username", user).await?;
    b.type_into("#password", password).await?;
    b.type_into("#password_confirm", password).await?;
    b.click("#setup-submit").await?;
    b.find("#new-connection").await?;
    Ok(())
}

/// `HUB_SKIP_BROWSER_TESTS=1` skips (and says so); a missing chromedriver fails.
pub fn browser_available() -> bool {
    if std::env::var("HUB_SKIP_BROWSER_TESTS").is_ok_and(|v| v == "1") {
        skipped("browser tests (HUB_SKIP_BROWSER_TESTS=1)");
        return false;
    }
    assert!(
        Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists(),
        "{CHROMEDRIVER} or {CHROMIUM} is missing: run .ci/install-browser (or set HUB_SKIP_BROWSER_TESTS=1)"
    );
    true
}

/// target/<profile>/, found from this test's own path (target/<profile>/deps/browser-…).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Hub {
    pub url: String,
    pub token: String,
    pub dir: tempfile::TempDir,
    pub plugins: PathBuf,
    _proc: Proc,
}

fn hub_exe() -> PathBuf {
    let exe = target_dir().join("hub");
    assert!(
        exe.exists(),
        "{} is missing: run `cargo build --workspace` first",
        exe.display()
    );
    exe
}

fn hub_cmd(dir: &Path) -> Command {
    let mut c = Command::new(hub_exe());
    c.current_dir(dir)
        .env("HUB_MASTER_KEY", MASTER_KEY)
        .env("HUB_RUNNERS", "1")
        // The test connector's folders are inside the hub's temporary folder.
        .env("HUB_FILES_ROOT", dir)
        .env_remove("HUB_DATABASE_URL")
        .env_remove("HUB_CONFIG")
        .env_remove("HUB_PUBLIC_URL")
        .env("RUST_LOG", "info");
    c
}

impl Hub {
    pub async fn start() -> R<Hub> {
        Self::start_env(&[]).await
    }

    /// `hub serve` with these environment variables too.
    pub async fn start_env(envs: &[(&str, &str)]) -> R<Hub> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let db = format!("sqlite://{}/hub.db", dir.path().display());
        let plugins = target_dir();
        let out = hub_cmd(dir.path())
            .args(["token", "create", "e2e", "--database", &db])
            .output()
            .map_err(|e| format!("cannot run hub: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "hub token create failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("hub.log")).map_err(|e| e.to_string())?;
        let child = hub_cmd(dir.path())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                &db,
            ])
            .arg("--plugins")
            .arg(&plugins)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start hub serve: {e}"))?;
        let hub = Hub {
            url: format!("http://127.0.0.1:{port}"),
            token,
            dir,
            plugins,
            _proc: Proc(child),
        };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(40) {
            if let Ok(r) = reqwest::get(format!("{}/healthz", hub.url)).await {
                if r.status().is_success() {
                    return Ok(hub);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "hub serve did not answer /healthz; log:\n{}",
            hub.log()
        ))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("hub.log")).unwrap_or_default()
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> R<Value> {
        let client = reqwest::Client::new();
        let url = format!("{}{path}", self.url);
        let req = match method {
            "POST" => client.post(&url),
            _ => client.get(&url),
        }
        .bearer_auth(&self.token);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{method} {path}: {status} {v}"));
        }
        Ok(v)
    }

    /// `hub sandbox` on its own, for connectors whose manifest has sandbox presets; answers the
    /// emulators' announcement.
    pub fn sandbox(&self) -> R<(Proc, Value)> {
        let mut child = hub_cmd(self.dir.path())
            .arg("sandbox")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start hub sandbox: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let proc = Proc(child);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .map_err(|_| "hub sandbox announced nothing within 20 s".to_string())?;
        let v: Value = serde_json::from_str(line.trim())
            .map_err(|e| format!("hub sandbox printed no JSON ({e}): {line}"))?;
        Ok((proc, v))
    }
}

/// Fills `{/json/pointer}` placeholders of a sandbox preset from the announcement.
pub fn fill(template: &str, announcement: &Value) -> Option<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{/") {
        let end = start + rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        match announcement.pointer(&rest[start + 1..end])? {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

pub struct Browser {
    pub c: Client,
    shots: PathBuf,
    n: usize,
    _driver: Proc,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> R<Browser> {
        let port = free_port();
        let driver = Proc(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {CHROMEDRIVER}: {e}"))?,
        );
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1280,1000",
            "--lang=ja-JP",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": CHROMIUM, "args": args}),
        );
        let started = Instant::now();
        let c = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => break c,
                Err(e) if started.elapsed() > Duration::from_secs(15) => {
                    return Err(format!("chromedriver did not start a session: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Browser {
            c,
            shots: artifacts_dir(),
            n: 0,
            _driver: driver,
            _profile: profile,
        })
    }

    /// Saves `NN-name.png` under tests/artifacts/.
    pub async fn shot(&mut self, name: &str) -> R {
        self.n += 1;
        let png = self.c.screenshot().await.map_err(|e| e.to_string())?;
        let path = self.shots.join(format!("{:02}-{name}.png", self.n));
        std::fs::write(&path, png).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub async fn goto(&self, url: &str) -> R {
        self.c
            .goto(url)
            .await
            .map_err(|e| format!("goto {url}: {e}"))
    }

    pub async fn find(&self, css: &str) -> R<Element> {
        self.c
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("no element {css}: {e}"))
    }

    pub async fn all(&self, css: &str) -> R<Vec<Element>> {
        self.c
            .find_all(Locator::Css(css))
            .await
            .map_err(|e| format!("{css}: {e}"))
    }

    pub async fn text(&self, css: &str) -> R<String> {
        self.find(css)
            .await?
            .text()
            .await
            .map_err(|e| e.to_string())
    }

    pub async fn body(&self) -> R<String> {
        self.text("body").await
    }

    pub async fn value(&self, css: &str) -> R<String> {
        Ok(self
            .find(css)
            .await?
            .prop("value")
            .await
            .map_err(|e| e.to_string())?
            .unwrap_or_default())
    }

    pub async fn type_into(&self, css: &str, text: &str) -> R {
        let e = self.find(css).await?;
        e.clear().await.map_err(|e| e.to_string())?;
        e.send_keys(text)
            .await
            .map_err(|e| format!("typing into {css}: {e}"))
    }

    pub async fn click(&self, css: &str) -> R {
        self.find(css)
            .await?
            .click()
            .await
            .map_err(|e| format!("click {css}: {e}"))
    }

    pub async fn select(&self, css: &str, value: &str) -> R {
        self.find(css)
            .await?
            .select_by_value(value)
            .await
            .map_err(|e| format!("select {value} in {css}: {e}"))
    }

    /// Presses Tab as a keyboard user does (focus moves to the next control).
    pub async fn tab(&self) -> R {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let tab = char::from(fantoccini::key::Key::Tab);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab });
        self.c
            .perform_actions(keys)
            .await
            .map_err(|e| format!("pressing Tab: {e}"))
    }

    pub async fn path(&self) -> R<String> {
        let u = self.c.current_url().await.map_err(|e| e.to_string())?;
        Ok(u.path().to_string())
    }

    pub async fn js(&self, script: &str) -> R<Value> {
        self.c
            .execute(script, vec![])
            .await
            .map_err(|e| format!("script failed: {e}"))
    }

    /// Polls `cond` (a JS expression) until it is true; pages that reload are fine.
    pub async fn until(&self, what: &str, cond: &str) -> R {
        let started = Instant::now();
        let script = format!("try {{ return !!({cond}); }} catch (e) {{ return false; }}");
        while started.elapsed() < WAIT {
            if let Ok(Value::Bool(true)) = self.c.execute(&script, vec![]).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.body().await.unwrap_or_default();
        Err(format!(
            "timed out waiting for {what}; the page says:\n{body}"
        ))
    }

    /// Waits until the visible page contains every one of `texts` (a click may still be
    /// loading the next page, so this polls).
    pub async fn sees(&self, texts: &[&str]) -> R {
        let started = Instant::now();
        let mut body = String::new();
        while started.elapsed() < WAIT {
            if let Ok(Value::String(b)) = self
                .c
                .execute(
                    "return document.readyState === 'complete' ? document.body.innerText : ''",
                    vec![],
                )
                .await
            {
                body = b;
                if texts.iter().all(|t| body.contains(t)) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let missing: Vec<&&str> = texts.iter().filter(|t| !body.contains(**t)).collect();
        Err(format!(
            "expected to see {missing:?} on {}; the page says:\n{body}",
            self.path().await.unwrap_or_default()
        ))
    }

    /// Resizes the browser window (e.g. 375 wide for a phone); answers the page's inner width.
    pub async fn window(&self, width: u32, height: u32) -> R<i64> {
        self.c
            .set_window_size(width, height)
            .await
            .map_err(|e| format!("window size {width}x{height}: {e}"))?;
        self.js("return window.innerWidth")
            .await?
            .as_i64()
            .ok_or_else(|| "no window.innerWidth".to_string())
    }

    /// Fails when the page is wider than the window (it would scroll sideways), naming the
    /// widest elements that stick out.
    pub async fn fits_width(&self) -> R {
        let v = self
            .js("var d=document.documentElement, w=d.clientWidth; \
                 var out=Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1) \
                   .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' ' + Math.round(e.getBoundingClientRect().right)); \
                 return {scroll: d.scrollWidth, width: w, out: out};")
            .await?;
        if v["scroll"].as_i64() > v["width"].as_i64() {
            return Err(format!(
                "{} scrolls sideways: {} px of content in a {} px window; sticking out: {}",
                self.path().await.unwrap_or_default(),
                v["scroll"],
                v["width"],
                v["out"]
            ));
        }
        Ok(())
    }

    pub async fn close(self) {
        let _ = self.c.close().await;
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
