//! 接続テスト and the objects the wizard offers: modules with typed fields.

use connector_sdk::{Connector, FieldType};
use renkei_connector_zoho_crm::ZohoCrm;

use crate::common::{read_all, Emulator};

#[test]
fn objects_are_the_modules_with_typed_fields() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let objects = c.objects(&conn).unwrap();
    let ids: Vec<&str> = objects.iter().map(|o| o.id.as_str()).collect();
    for m in ["Accounts", "Contacts", "Leads", "Deals", "Tasks", "Events"] {
        assert!(ids.contains(&m), "{m} missing from {ids:?}");
    }
    let contacts = objects.iter().find(|o| o.id == "Contacts").unwrap();
    let last = contacts.field("Last_Name").unwrap();
    assert!(last.required && last.field_type == FieldType::Text);
    assert!(
        contacts.field("Email").unwrap().unique,
        "upsert key of Contacts"
    );
    let account = contacts.field("Account_Name").unwrap();
    assert_eq!(account.field_type, FieldType::Lookup);
    assert_eq!(account.lookup.as_ref().unwrap().object, "Accounts");
    assert!(contacts.field("Account_Name.name").unwrap().read_only);
    let accounts = objects.iter().find(|o| o.id == "Accounts").unwrap();
    let industry = accounts.field("Industry").unwrap();
    assert_eq!(industry.field_type, FieldType::Picklist);
    assert!(!industry.options.is_empty());
    assert!(accounts.field("Modified_Time").unwrap().read_only);
}

#[test]
fn a_lookup_reads_as_the_related_id_with_its_name_beside() {
    let emu = Emulator::start();
    let c = ZohoCrm::new();
    let conn = emu.connection("A");
    let (contacts, _, _) = read_all(&c, &conn, "Contacts", None);
    let (accounts, _, _) = read_all(&c, &conn, "Accounts", None);
    let linked = contacts
        .iter()
        .find(|r| r.fields.get("Account_Name").is_some_and(|v| v.is_string()))
        .expect("a seeded contact with an account");
    let account_id = linked.fields["Account_Name"].as_str().unwrap();
    let account = accounts
        .iter()
        .find(|a| a.id == account_id)
        .expect("the related account");
    assert_eq!(
        linked.fields["Account_Name.name"],
        account.fields["Account_Name"]
    );
}
