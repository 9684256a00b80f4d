//! `GET /api/openapi.json` of a real `hub serve` is a valid OpenAPI 3.1 document for a standard
//! validator (PyPI's openapi-spec-validator), and describes every parameter, body and answer
//! with a schema, so generated clients and schema-based testers can use it.

use crate::support::{skipped, TestHub};
use serde_json::Value;
use std::process::Command;

/// `python3` with the validator importable: from the machine, or from the folder
/// `.ci/openapi-check --install` fills (`HUB_OPENAPI_TOOLS`).
fn validator() -> Option<Command> {
    let tools = std::env::var("HUB_OPENAPI_TOOLS").unwrap_or_default();
    let python = || {
        let mut c = Command::new("python3");
        if !tools.is_empty() {
            let path = match std::env::var("PYTHONPATH") {
                Ok(p) if !p.is_empty() => format!("{tools}:{p}"),
                _ => tools.clone(),
            };
            c.env("PYTHONPATH", path);
        }
        c
    };
    let found = python()
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    found.then(python)
}

fn document() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/data/hub.db", dir.path().display());
    let hub = TestHub::start(&db, tempfile::tempdir().unwrap(), &[], &[]);
    let (status, doc) = hub.get("/api/openapi.json");
    hub.stop();
    assert_eq!(status, 200);
    doc
}

#[test]
fn document_passes_openapi_spec_validator() {
    let Some(mut python) = validator() else {
        skipped("openapi_doc: python3 cannot import openapi_spec_validator (run .ci/openapi-check --install and set HUB_OPENAPI_TOOLS)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&document()).unwrap()).unwrap();
    let out = python
        .args(["-m", "openapi_spec_validator"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator refused /api/openapi.json:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_parameter_body_and_answer_has_a_schema() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            for placeholder in path.split('/').filter(|s| s.starts_with('{')) {
                let p = placeholder.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    params.iter().any(|x| x["name"] == p && x["in"] == "path"),
                    "{name}: path parameter {p} undocumented"
                );
            }
            for p in &params {
                assert!(
                    p["schema"].is_object(),
                    "{name}: parameter {} has no schema",
                    p["name"]
                );
            }
            if let Some(content) = op["requestBody"]["content"].as_object() {
                for (_, media) in content {
                    assert!(media["schema"].is_object(), "{name}: body without schema");
                }
            }
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{name}: no success answer"
            );
            assert!(responses.contains_key("default"), "{name}: no error answer");
            for (status, r) in responses {
                if let Some(content) = r["content"].as_object() {
                    for (_, media) in content {
                        assert!(media["schema"].is_object(), "{name} {status}: no schema");
                    }
                } else {
                    assert_eq!(status, "204", "{name} {status}: answer without content");
                }
            }
        }
    }
    assert!(operations >= 34, "{operations} operations");
    // Every `$ref` names a schema the document has.
    let text = doc.to_string();
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "$ref to missing schema {name}");
    }
}
