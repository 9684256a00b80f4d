//! The SDK's conformance kit on two modules of the emulator.

use connector_sdk::conformance::{assert_conformance, Suite};
use connector_sdk::Fields;
use renkei_connector_zoho_crm::ZohoCrm;

use crate::common::Emulator;

#[test]
fn accounts_conform() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let suite = Suite::new(&c, emu.connection("A"), "Accounts", |n| {
        let mut f = Fields::new();
        f.insert(
            "Account_Name".into(),
            format!("適合テスト株式会社 {n}").into(),
        );
        f.insert("Phone".into(), "03-0000-0000".into());
        f
    })
    .match_field("Account_Name")
    .expire_token(|_| emu.expire_tokens());
    assert_conformance(suite);
}

#[test]
fn contacts_conform() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let suite = Suite::new(&c, emu.connection("B"), "Contacts", |n| {
        let mut f = Fields::new();
        f.insert("Last_Name".into(), format!("適合{n}").into());
        f.insert("Email".into(), format!("conformance{n}@example.jp").into());
        f
    })
    .match_field("Email")
    .expire_token(|_| emu.expire_tokens());
    assert_conformance(suite);
}
