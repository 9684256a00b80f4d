//! Tokens and orgs: an expired or missing access token is `auth_expired` (the hub refreshes),
//! 429 is `rate_limited` with Retry-After, and two orgs side by side never mix.

use connector_sdk::{Connector, ErrorKind, ReadRequest, WriteAction};
use renkei_connector_zoho_crm::ZohoCrm;
use serde_json::json;

use crate::common::{op, read_all, write, Emulator};

fn first_page(
    c: &ZohoCrm,
    conn: &connector_sdk::Connection,
) -> Result<connector_sdk::ReadPage, connector_sdk::ConnectorError> {
    c.read(
        conn,
        &ReadRequest {
            options: Default::default(),
            object: "Accounts".into(),
            page_size: Some(200),
            ..Default::default()
        },
    )
}

#[test]
fn an_expired_or_missing_token_asks_the_hub_to_refresh() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    assert!(c.check(&conn).is_ok());

    emu.expire_tokens();
    let e = c.check(&conn).unwrap_err();
    assert_eq!(
        (e.kind, e.code.as_str()),
        (ErrorKind::AuthExpired, "INVALID_TOKEN")
    );
    assert_eq!(
        first_page(&c, &conn).unwrap_err().kind,
        ErrorKind::AuthExpired
    );

    // What the hub does next: a new access token, the same call again.
    let refreshed = emu.connection("A");
    assert!(first_page(&c, &refreshed).is_ok());

    let mut none = refreshed.clone();
    none.credentials.remove("access_token");
    assert_eq!(c.check(&none).unwrap_err().kind, ErrorKind::AuthExpired);
}

#[test]
fn too_many_requests_is_rate_limited_with_retry_after() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    emu.fail_next_with_429(1, 3);
    let e = first_page(&c, &conn).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after_ms, Some(3_000));
    assert!(first_page(&c, &conn).is_ok(), "the call works again");
}

#[test]
fn two_orgs_side_by_side_stay_apart() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let a = emu.connection("A");
    let b = emu.connection("B");

    let who_a = c.check(&a).unwrap().account;
    let who_b = c.check(&b).unwrap().account;
    assert!(
        who_a.contains("株式会社サンプル本社") && who_a.contains("taro.yamada@"),
        "{who_a}"
    );
    assert!(
        who_b.contains("サンプル販売株式会社") && who_b.contains("hanako.sato@"),
        "{who_b}"
    );

    let r = write(
        &c,
        &a,
        "Accounts",
        vec![op(
            "a",
            WriteAction::Create,
            json!({"Account_Name": "組織Aだけの会社"}),
        )],
    );
    let id = r[0].id.clone().expect("created in A");
    let (in_a, _, _) = read_all(&c, &a, "Accounts", None);
    let (in_b, _, _) = read_all(&c, &b, "Accounts", None);
    assert!(in_a.iter().any(|r| r.id == id));
    assert!(!in_b
        .iter()
        .any(|r| r.id == id || r.fields["Account_Name"] == "組織Aだけの会社"));
    assert_eq!(
        emu.raw("B", "Accounts").len(),
        in_b.iter().filter(|r| !r.deleted).count()
    );
}

#[test]
fn sandbox_presets_resolve_against_the_announcement() {
    let emu = Emulator::start();
    let m = c_manifest();
    assert_eq!(m.sandbox.len(), 2);
    for (preset, org) in m.sandbox.iter().zip(["A", "B"]) {
        let fill = |t: &str| {
            let ptr = t.trim_start_matches('{').trim_end_matches('}');
            emu.announcement
                .pointer(ptr)
                .and_then(|v| v.as_str())
                .unwrap_or_else(|| panic!("{t} is not in the announcement"))
                .to_string()
        };
        assert_eq!(fill(&preset.settings["api_domain"]), emu.crm());
        assert_eq!(fill(&preset.settings["accounts_url"]), emu.accounts());
        let announced = emu.org(org);
        for k in ["client_id", "client_secret", "refresh_token"] {
            assert_eq!(
                fill(&preset.credentials[k]),
                announced[k].as_str().unwrap(),
                "{k}"
            );
        }
    }
}

fn c_manifest() -> connector_sdk::Manifest {
    ZohoCrm::new().manifest()
}
