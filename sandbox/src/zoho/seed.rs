//! Builds both orgs from the sample tables (seed_data.rs), deterministically, plus `extra`
//! generated Accounts per org for benchmarks (fast: no validation, straight into the indexes).

use super::metadata::METADATA_TIME;
use super::model::{fmt_time, Client, OrgData, OrgInfo, Record, Store, User};
use super::schema::module_index;
use super::seed_data;
use super::tokens::TokenStore;
use super::write::{write_batch, Extra, Mode, Outcome};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Scopes of the preset refresh tokens: everything the API checks.
pub const FULL_SCOPE: &[&str] = &[
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.ALL",
    "ZohoCRM.org.ALL",
];

/// Record sequence numbers start here; lower ones name modules, fields and users.
const FIRST_SEQ: u64 = 1_000_000;

fn org_info(i: usize) -> OrgInfo {
    let (key, name, zgid, base, client_id, secret, user) = if i == 0 {
        (
            "A",
            "株式会社サンプル本社",
            90_000_001,
            4_876_876_000_000_000_000u64,
            "1000.SANDBOXORGA7K2Q9M4X8ZOHOCRM01",
            "3f9c1e7b2d5a4f608e1c2b3a4d5e6f70a1b2c3d4e5",
            (
                "山田",
                "太郎",
                "taro.yamada@sample-honsha.example.jp",
                "Sandbox#A-2025",
            ),
        )
    } else {
        (
            "B",
            "サンプル販売株式会社",
            90_000_002,
            5_725_767_000_000_000_000u64,
            "1000.SANDBOXORGB3H8N1T6W2ZOHOCRM02",
            "8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",
            (
                "佐藤",
                "花子",
                "hanako.sato@sample-hanbai.example.jp",
                "Sandbox#B-2025",
            ),
        )
    };
    OrgInfo {
        key: key.into(),
        name: name.into(),
        zgid,
        id_base: base,
        next_seq: FIRST_SEQ,
        client: Client {
            client_id: client_id.into(),
            client_secret: secret.into(),
            app_name: "連携ハブ (Renkei Hub)".into(),
        },
        user: User {
            id: base + 500,
            last_name: user.0.into(),
            first_name: user.1.into(),
            email: user.2.into(),
            password: user.3.into(),
        },
        preset_refresh_token: String::new(),
    }
}

/// A fresh store: both orgs seeded, preset refresh tokens minted.
pub fn store(extra: usize, now: i64) -> Store {
    let mut tokens = TokenStore::default();
    let scope: Vec<String> = FULL_SCOPE.iter().map(|s| s.to_string()).collect();
    let orgs = (0..2)
        .map(|i| {
            let mut info = org_info(i);
            info.preset_refresh_token = tokens.mint_refresh(i, &info.client.client_id, &scope, now);
            seeded(info, i, extra)
        })
        .collect();
    Store { orgs, tokens }
}

/// The org's records back to the seed; clients, users and tokens stay.
pub fn reseed(store: &mut Store, extra: usize) {
    for (i, org) in store.orgs.iter_mut().enumerate() {
        let mut info = org.info.clone();
        info.next_seq = FIRST_SEQ;
        *org = seeded(info, i, extra);
    }
}

/// `"@Module:n"` → the id of the n-th seeded record of that module.
fn resolve(v: &mut Value, ids: &HashMap<&str, Vec<u64>>) {
    if let Value::Object(m) = v {
        for val in m.values_mut() {
            let Some(s) = val.as_str() else { continue };
            let Some((module, n)) = s.strip_prefix('@').and_then(|r| r.split_once(':')) else {
                continue;
            };
            let id = n
                .parse::<usize>()
                .ok()
                .and_then(|n| ids.get(module)?.get(n).copied());
            *val = id.map(|id| json!(id.to_string())).unwrap_or(Value::Null);
        }
    }
}

fn seeded(info: OrgInfo, which: usize, extra: usize) -> OrgData {
    let mut org = OrgData::new(info);
    let tables = if which == 0 {
        seed_data::org_a()
    } else {
        seed_data::org_b()
    };
    let mut ids: HashMap<&str, Vec<u64>> = HashMap::new();
    let mut k: i64 = 0;
    for (module, mut rows) in tables {
        let Some(midx) = module_index(module) else {
            continue;
        };
        for row in rows.iter_mut() {
            resolve(row, &ids);
            // Spread the history over the weeks after the seed epoch, deterministically.
            let created = METADATA_TIME + k * 3_600 + which as i64 * 600;
            row["Created_Time"] = json!(fmt_time(created));
            row["Modified_Time"] = json!(fmt_time(created + (k % 7) * 86_400));
            k += 1;
        }
        let results = write_batch(
            &mut org,
            midx,
            &rows,
            &Mode::Insert,
            &[],
            METADATA_TIME,
            Extra { keep_times: true },
        );
        let list = ids.entry(module).or_default();
        for (outcome, v) in results {
            if outcome == Outcome::Failed {
                tracing::warn!(module, error = %v, "sandbox seed record refused");
                continue;
            }
            if let Some(id) = v["details"]["id"].as_str().and_then(|s| s.parse().ok()) {
                list.push(id);
            }
        }
    }
    extra_accounts(&mut org, extra);
    org
}

const PREFECTURES: &[(&str, &str)] = &[
    ("東京都", "千代田区"),
    ("大阪府", "大阪市北区"),
    ("愛知県", "名古屋市中村区"),
    ("福岡県", "福岡市博多区"),
    ("北海道", "札幌市中央区"),
    ("宮城県", "仙台市青葉区"),
    ("広島県", "広島市中区"),
    ("神奈川県", "横浜市西区"),
];
const STEMS: &[&str] = &[
    "テスト商事",
    "サンプル工業",
    "ダミー物産",
    "ベンチ電機",
    "モック食品",
];
const INDUSTRIES: &[&str] = &[
    "Manufacturing",
    "Wholesale",
    "Retail",
    "Logistics",
    "IT",
    "Food",
];

/// `n` generated Accounts, oldest first, all before the seed epoch so sync tests see them as
/// history. Names rotate through the ways Japanese companies are written.
fn extra_accounts(org: &mut OrgData, n: usize) {
    let Some(midx) = module_index("Accounts") else {
        return;
    };
    let owner = json!(org.info.user.id.to_string());
    let user = org.info.user.id;
    let start = METADATA_TIME - 365 * 86_400;
    for i in 0..n {
        let stem = STEMS[i % STEMS.len()];
        let name = match i % 4 {
            0 => format!("株式会社{stem}{i:06}"),
            1 => format!("(株){stem}{i:06}"),
            2 => format!("㈱{stem}{i:06}"),
            _ => format!("{stem}{i:06}株式会社"),
        };
        let (state, city) = PREFECTURES[i % PREFECTURES.len()];
        let mut fields = BTreeMap::new();
        fields.insert("Owner", owner.clone());
        fields.insert("Account_Name", json!(name));
        fields.insert("Customer_Code", json!(format!("G{}{i:07}", org.info.key)));
        fields.insert("Industry", json!(INDUSTRIES[i % INDUSTRIES.len()]));
        fields.insert(
            "Phone",
            json!(format!("03-{:04}-{:04}", (i / 10_000) % 10_000, i % 10_000)),
        );
        fields.insert("Billing_State", json!(state));
        fields.insert("Billing_City", json!(city));
        fields.insert("Employees", json!((i % 500) + 1));
        let t = start + i as i64 * 60;
        let id = org.next_id();
        org.modules[midx].put(Record {
            id,
            created: t,
            modified: t,
            created_by: user,
            modified_by: user,
            fields,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_record_is_accepted_and_lookups_resolve() {
        let s = store(3, METADATA_TIME);
        for (org, tables) in s.orgs.iter().zip([seed_data::org_a(), seed_data::org_b()]) {
            for (module, rows) in tables {
                let md = &org.modules[module_index(module).unwrap()];
                let expected = rows.len() + if module == "Accounts" { 3 } else { 0 };
                assert_eq!(md.len(), expected, "{} {module}", org.info.key);
            }
            let deals = &org.modules[module_index("Deals").unwrap()];
            assert!(deals
                .records()
                .all(|r| r.fields.contains_key("Account_Name")));
        }
    }

    #[test]
    fn seeding_is_deterministic() {
        let a = store(0, 0);
        let b = store(0, 0);
        let ids =
            |s: &Store| -> Vec<u64> { s.orgs[0].modules[1].records().map(|r| r.id).collect() };
        assert_eq!(ids(&a), ids(&b));
        let names = |s: &Store| -> Vec<String> {
            s.orgs[1].modules[1]
                .records()
                .map(|r| r.fields["Full_Name"].to_string())
                .collect()
        };
        assert_eq!(names(&a), names(&b));
    }
}
