//! What every page is held to (issue 20, point 9): axe-core (the npm package in tests/browser/axe,
//! installed by scripts/test.sh with `npm ci`) finds no serious or critical WCAG 2 A/AA
//! violation at 1280 px nor at 375 px, and at 375 px the page does not scroll sideways.

use serde_json::Value;
use std::path::PathBuf;

use crate::support::{skipped, Browser, R};

/// The WCAG 2.0, 2.1 and 2.2 A/AA rules of axe-core.
const TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']";
pub const PHONE: u32 = 375;
const DESKTOP: u32 = 1280;

fn axe_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser/axe/node_modules/axe-core/axe.min.js")
}

/// Checks pages one by one and keeps every finding, so one run names all that is wrong.
pub struct Audit {
    axe: Option<String>,
    lang: &'static str,
    findings: Vec<String>,
    pub pages: usize,
}

impl Audit {
    /// Loads axe.min.js; without it (node_modules not installed) the width is still checked and
    /// the accessibility rules are reported SKIPPED.
    pub fn new(lang: &'static str) -> Audit {
        let path = axe_path();
        let axe = match std::fs::read_to_string(&path) {
            Ok(s) => Some(s),
            Err(e) => {
                skipped(&format!(
                    "axe-core accessibility checks ({}: {e}; run `npm ci --prefix tests/browser/axe`)",
                    path.display()
                ));
                None
            }
        };
        Audit {
            axe,
            lang,
            findings: Vec::new(),
            pages: 0,
        }
    }

    /// The page now shown, at 1280 px and at 375 px (a screenshot of each width); the window is
    /// 1280 px wide again afterwards.
    pub async fn page(&mut self, b: &mut Browser, name: &str) -> R {
        self.pages += 1;
        let path = b.path().await?;
        let name = format!("a11y-{}-{name}", self.lang);
        b.window(DESKTOP, 1000).await?;
        self.errors_are_tied_to_fields(b, &path).await?;
        self.axe(b, &path, DESKTOP).await?;
        b.shot(&name).await?;
        let width = b.window(PHONE, 812).await?;
        if width > PHONE as i64 {
            return Err(format!("the window is {width} px wide, not {PHONE}"));
        }
        // The outermost elements that stick out (their parent does not), to name the culprit.
        let wide = b
            .js("var w = document.documentElement.clientWidth; \
                 var out = Array.from(document.querySelectorAll('body *')).filter(function (e) { \
                   var p = e.parentElement; \
                   return e.getBoundingClientRect().right > w + 1 && p && p.getBoundingClientRect().right <= w + 1; }) \
                   .slice(0, 6).map(function (e) { return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + \
                     (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + \
                     ' (' + Math.round(e.getBoundingClientRect().right) + ')'; }); \
                 return {scroll: document.documentElement.scrollWidth, out: out};")
            .await?;
        let scroll = wide["scroll"].as_i64().unwrap_or(i64::MAX);
        if scroll > PHONE as i64 {
            self.findings.push(format!(
                "{path} ({name}) is {scroll} px wide at {PHONE} px: it scrolls sideways; sticking out: {}",
                wide["out"]
            ));
        } else if let Err(e) = b.fits_width().await {
            self.findings.push(format!("{name}: {e}"));
        }
        self.axe(b, &path, PHONE).await?;
        b.shot(&format!("{name}-{PHONE}px")).await?;
        b.window(DESKTOP, 1000).await?;
        Ok(())
    }

    /// The page now shown, as it is (no resizing): e.g. a run's progress bar while it moves.
    pub async fn as_shown(&mut self, b: &Browser) -> R {
        self.pages += 1;
        let path = b.path().await?;
        let width = b
            .js("return window.innerWidth")
            .await?
            .as_u64()
            .unwrap_or(0) as u32;
        self.errors_are_tied_to_fields(b, &path).await?;
        self.axe(b, &path, width).await
    }

    /// Runs axe-core on the page now shown; serious and critical violations become findings.
    async fn axe(&mut self, b: &Browser, path: &str, width: u32) -> R {
        let Some(source) = &self.axe else {
            return Ok(());
        };
        if b.js("return typeof window.axe === 'object'").await? != Value::Bool(true) {
            b.js(source).await?;
        }
        let script = format!(
            "var done = arguments[arguments.length - 1];
             axe.run(document, {{runOnly: {{type: 'tag', values: {TAGS}}}, resultTypes: ['violations']}})
               .then(function (r) {{
                 done(r.violations
                   .filter(function (v) {{ return v.impact === 'serious' || v.impact === 'critical'; }})
                   .map(function (v) {{ return {{id: v.id, impact: v.impact, help: v.help,
                     targets: v.nodes.slice(0, 8).map(function (n) {{ return n.target.join(' '); }}),
                     more: Math.max(0, v.nodes.length - 8),
                     summary: v.nodes.length ? (v.nodes[0].failureSummary || '') : ''}}; }}));
               }})
               .catch(function (e) {{ done({{error: String(e)}}); }});"
        );
        let found =
            b.c.execute_async(&script, vec![])
                .await
                .map_err(|e| format!("axe.run on {path}: {e}"))?;
        if let Some(e) = found.get("error") {
            return Err(format!("axe.run on {path} failed: {e}"));
        }
        for v in found.as_array().cloned().unwrap_or_default() {
            let targets: Vec<String> = v["targets"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let more = v["more"].as_u64().unwrap_or(0);
            self.findings.push(format!(
                "{path} at {width} px ({}): {} [{}] {}\n    on: {}{}\n    {}",
                self.lang,
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                targets.join(" | "),
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                },
                v["summary"].as_str().unwrap_or("").replace('\n', "\n    ")
            ));
        }
        Ok(())
    }

    /// A field with an error says so to a screen reader: `aria-invalid="true"`, and the message
    /// named by its `aria-describedby`.
    async fn errors_are_tied_to_fields(&mut self, b: &Browser, path: &str) -> R {
        let v = b
            .js("return Array.from(document.querySelectorAll('.field-error[data-error-for]')).map(function (p) { \
                   var name = p.getAttribute('data-error-for'); \
                   var box = p.closest('.field'); \
                   var f = (box && box.querySelector('input:not([type=hidden]), select, textarea')) || document.querySelector('input[name=\"' + name + '\"], select[name=\"' + name + '\"]'); \
                   if (!f) return null; \
                   var ids = (f.getAttribute('aria-describedby') || '').split(/\\s+/); \
                   return {name: name, invalid: f.getAttribute('aria-invalid'), described: p.id !== '' && ids.indexOf(p.id) >= 0}; \
                 }).filter(function (x) { return x; });")
            .await?;
        for f in v.as_array().cloned().unwrap_or_default() {
            if f["invalid"] != Value::String("true".into()) || f["described"] != Value::Bool(true) {
                self.findings.push(format!(
                    "{path} ({}): the field {} has an error but no aria-invalid=\"true\" and aria-describedby naming it: {f}",
                    self.lang, f["name"]
                ));
            }
        }
        Ok(())
    }

    /// Something else found wrong on the page now shown (e.g. by the keyboard checks).
    pub fn finding(&mut self, what: String) {
        self.findings.push(format!("({}) {what}", self.lang));
    }

    /// Fails naming every finding.
    pub fn verdict(self) -> R {
        if self.findings.is_empty() {
            eprintln!(
                "{} pages checked ({}): no serious or critical axe-core violation, none wider than {PHONE} px",
                self.pages, self.lang
            );
            return Ok(());
        }
        Err(format!(
            "{} finding(s) on {} pages ({}):\n{}",
            self.findings.len(),
            self.pages,
            self.lang,
            self.findings.join("\n")
        ))
    }
}
