//! The conformance kit against `good`: in-process through the trait, and through the C
//! boundary of the built library (as the hub's worker calls it).

use connector_sdk::conformance::{assert_conformance, Outcome, Suite, ALL_CHECKS};
use connector_sdk::host::LoadedPlugin;
use connector_sdk::{Connection, Connector, Fields, Secret, WriteAction, WriteOp, WriteRequest};
use serde_json::json;
use std::path::PathBuf;

fn connection(tenant: &str) -> Connection {
    let mut c = Connection::default();
    c.settings.insert("tenant".into(), json!(tenant));
    c.credentials
        .insert("api_token".into(), Secret::new("token"));
    c
}

fn sample(n: u64) -> Fields {
    let mut f = Fields::new();
    f.insert("name".into(), json!(format!("適合 太郎 {n}")));
    f.insert("email".into(), json!(format!("taro{n}@example.jp")));
    f
}

fn suite<'a>(connector: &'a dyn Connector, tenant: &str) -> Suite<'a> {
    Suite::new(connector, connection(tenant), "contacts", sample)
        .expire_token(|c| {
            c.credentials
                .insert("api_token".into(), Secret::new("expired"));
        })
        .mark_private(move |conn, ids| {
            let ops = ids
                .iter()
                .map(|id| WriteOp {
                    op_id: id.clone(),
                    action: WriteAction::Update,
                    id: Some(id.clone()),
                    match_key: None,
                    expected_version: None,
                    fields: json!({"confidential": "1"})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            let req = WriteRequest {
                object: "contacts".into(),
                ops,
            };
            connector
                .write(conn, &req)
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
}

fn assert_all_passed(report: &connector_sdk::conformance::Report) {
    for name in ALL_CHECKS {
        assert_eq!(report.outcome(name), Some(&Outcome::Passed), "{report}");
    }
}

#[test]
fn good_conforms_in_process() {
    let report = assert_conformance(suite(&test_plugin_good::Good, "kit-in-process"));
    assert_all_passed(&report);
}

/// The library cargo built for this package: `cargo test` leaves it in target/<profile>/deps
/// (beside this test), `cargo build` also in target/<profile>.
fn built_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let deps = exe.parent().expect("target/<profile>/deps");
    let name = format!(
        "{}test_plugin_good.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    );
    let in_deps = deps.join(&name);
    match deps.parent() {
        Some(profile) if !in_deps.exists() => profile.join(&name),
        _ => in_deps,
    }
}

#[test]
fn good_conforms_through_the_c_boundary() {
    let path = built_library();
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    let plugin = LoadedPlugin::load(&path).expect("the good plugin loads");
    assert_eq!(plugin.manifest.id, "good");
    let report = assert_conformance(suite(&plugin, "kit-boundary"));
    assert_all_passed(&report);
}
