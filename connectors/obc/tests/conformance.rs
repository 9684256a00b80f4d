//! The SDK's conformance kit on both 奉行クラウド masters of the emulator, through an OAuth
//! access token that the emulator can expire.

mod common;

use common::Emulator;
use connector_sdk::conformance::{assert_conformance, Outcome, Suite, AUTH_EXPIRED, CURSOR_RESUME};
use connector_sdk::Fields;
use renkei_connector_obc::Obc;

fn checks_ran(report: &connector_sdk::conformance::Report) {
    for name in [CURSOR_RESUME, AUTH_EXPIRED] {
        assert_eq!(report.outcome(name), Some(&Outcome::Passed), "{report}");
    }
}

#[test]
fn customers_conform() {
    let emu = Emulator::start();
    // The kit calls the connector directly, without the hub's pacing and retries.
    emu.rate_limit(None);
    let c = Obc::new();
    let suite = Suite::new(&c, emu.connection(), "customers", |n| {
        let mut f = Fields::new();
        f.insert(
            "code".into(),
            format!("{:013}", n % 10_000_000_000_000).into(),
        );
        f.insert("name".into(), format!("適合テスト株式会社 {n}").into());
        f.insert("nameKana".into(), "テキゴウテスト".into());
        f.insert("tel".into(), "03-0000-0000".into());
        f.insert("closingDay".into(), "20".into());
        f
    })
    .match_field("code")
    .expire_token(|_| emu.expire_tokens());
    checks_ran(&assert_conformance(suite));
}

#[test]
fn employees_conform() {
    let emu = Emulator::start();
    emu.rate_limit(None);
    let c = Obc::new();
    let suite = Suite::new(&c, emu.connection(), "employees", |n| {
        let mut f = Fields::new();
        f.insert("code".into(), format!("{:010}", n % 10_000_000_000).into());
        f.insert("name".into(), format!("適合 太郎{}", n % 100_000).into());
        f.insert("departmentCode".into(), "200".into());
        f.insert("joinDate".into(), "2024-04-01".into());
        f.insert("retired".into(), false.into());
        f
    })
    .match_field("code")
    .expire_token(|_| emu.expire_tokens());
    checks_ran(&assert_conformance(suite));
}
