//! Every catalogue key hub-core names (`Message::new("…")`, `with_text(…, "…")`, the word
//! tables such as `"takes.date"`) exists in both languages: a message core hands out always
//! renders as words, never as its key.

use hub_messages::{has, sections, Lang};
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn every_key_core_names_is_in_both_languages() {
    let mut files = vec![];
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let sections = sections();
    let quoted = regex::Regex::new(r#""([a-z_]+)\.([a-z0-9_]+)""#).unwrap();
    let mut named = 0;
    let mut missing = vec![];
    for (file, text) in &files {
        for c in quoted.captures_iter(text) {
            if !sections.contains(&c[1]) || matches!(&c[2], "rs" | "toml" | "json" | "html") {
                continue;
            }
            named += 1;
            let key = format!("{}.{}", &c[1], &c[2]);
            for lang in Lang::ALL {
                if !has(lang, &key) {
                    missing.push(format!("{file}: {key} ({})", lang.as_str()));
                }
            }
        }
    }
    assert!(named > 60, "the scan found only {named} keys");
    assert!(missing.is_empty(), "keys missing: {missing:#?}");
}
