//! Seed data: the partner's client and subscription key, one OBCiD with two 法人 (and a third
//! it may not use), ~50 取引先 whose names use every company-name form (株式会社 / (株) / ㈱ /
//! （株） / 有限会社 / 合同会社, half- and full-width), ~20 社員 and their 部門.

use super::model::{Client, Record, Store, Tenant, User};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

pub const TENANT_MAIN: &str = "5c1a7e52-9d3b-4f0e-8a61-2b7d4c9e0f13";
pub const TENANT_SECOND: &str = "a8f3d2c1-6b4e-4a9f-9c2d-7e1f0b3a5d68";
/// Exists, but the seeded OBCiD may not use it: 403.
pub const TENANT_OTHER: &str = "0f9e8d7c-1a2b-4c3d-8e5f-60718293a4b5";

#[rustfmt::skip]
const COMPANIES: &[(&str, &str)] = &[
    ("サンプル", "サンプル"), ("テスト商事", "テストショウジ"), ("みらい技研", "ミライギケン"),
    ("東京物産", "トウキョウブッサン"), ("大阪精機", "オオサカセイキ"), ("田中工務店", "タナカコウムテン"),
    ("ネクスト", "ネクスト"), ("ＡＢＣソリューションズ", "エービーシーソリューションズ"),
    ("日本データ", "ニホンデータ"), ("ひかり通信", "ヒカリツウシン"), ("名古屋運輸", "ナゴヤウンユ"),
    ("北海道フーズ", "ホッカイドウフーズ"), ("九州電子", "キュウシュウデンシ"), ("さくら建設", "サクラケンセツ"),
    ("青葉システム", "アオバシステム"), ("富士テック", "フジテック"), ("鈴木製作所", "スズキセイサクショ"),
    ("佐藤商事", "サトウショウジ"), ("高橋印刷", "タカハシインサツ"), ("伊藤食品", "イトウショクヒン"),
    ("渡辺興業", "ワタナベコウギョウ"), ("中村薬品", "ナカムラヤクヒン"), ("小林電機", "コバヤシデンキ"),
    ("加藤化学", "カトウカガク"), ("吉田産業", "ヨシダサンギョウ"), ("山本不動産", "ヤマモトフドウサン"),
    ("松本商会", "マツモトショウカイ"), ("井上工業", "イノウエコウギョウ"), ("木村物流", "キムラブツリュウ"),
    ("林ホールディングス", "ハヤシホールディングス"), ("清水製菓", "シミズセイカ"), ("山口水産", "ヤマグチスイサン"),
    ("ﾐﾄﾞﾘ電機", "ﾐﾄﾞﾘﾃﾞﾝｷ"), ("池田ファーマ", "イケダファーマ"), ("橋本設計", "ハシモトセッケイ"),
    ("阿部ソフト", "アベソフト"), ("石川精工", "イシカワセイコウ"), ("前田商事", "マエダショウジ"),
    ("藤田建材", "フジタケンザイ"), ("岡田自動車", "オカダジドウシャ"), ("後藤繊維", "ゴトウセンイ"),
    ("長谷川酒造", "ハセガワシュゾウ"), ("村上エンジニアリング", "ムラカミエンジニアリング"),
    ("近藤メディカル", "コンドウメディカル"), ("坂本ロジスティクス", "サカモトロジスティクス"),
    ("遠藤農園", "エンドウノウエン"), ("青木ガラス", "アオキガラス"), ("西村楽器", "ニシムラガッキ"),
    ("福田家具", "フクダカグ"), ("太田鉄工", "ｵｵﾀﾃｯｺｳ"),
];

#[rustfmt::skip]
const PLACES: &[(&str, &str, &str)] = &[
    ("160-0023", "東京都新宿区西新宿1-2-3", "03"), ("530-0001", "大阪府大阪市北区梅田2-4-9", "06"),
    ("460-0008", "愛知県名古屋市中区栄3-5-1", "052"), ("060-0042", "北海道札幌市中央区大通西4-1", "011"),
    ("812-0011", "福岡県福岡市博多区博多駅前1-1-1", "092"), ("980-0021", "宮城県仙台市青葉区中央2-2-2", "022"),
    ("220-0011", "神奈川県横浜市西区高島2-6-32", "045"), ("730-0011", "広島県広島市中区基町6-78", "082"),
];

/// 締日: 31 is 末日.
const CLOSING_DAYS: [u32; 5] = [31, 20, 25, 15, 10];

/// Legal-form spellings, as people type them.
fn company_name(base: &str, i: usize) -> String {
    match i % 8 {
        0 => format!("株式会社{base}"),
        1 => format!("{base}株式会社"),
        2 => format!("(株){base}"),
        3 => format!("㈱{base}"),
        4 => format!("{base}（株）"),
        5 => format!("有限会社{base}"),
        6 => format!("合同会社{base}"),
        _ => format!("株式会社 {base}"),
    }
}

fn stamp(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn record(v: Value) -> Record {
    match v {
        Value::Object(m) => m,
        _ => Record::new(),
    }
}

fn customer(
    code: String,
    name: String,
    kana: &str,
    i: usize,
    deleted: bool,
    at: DateTime<Utc>,
) -> Record {
    let (zip, addr, area) = PLACES[i % PLACES.len()];
    record(json!({
        "code": code,
        "name": name,
        "nameKana": kana,
        "postalCode": zip,
        "address1": addr,
        "address2": if matches!(i % 3, 0) { format!("第{}ビル {}F", i + 1, i % 9 + 1) } else { String::new() },
        "tel": format!("{area}-{:04}-{:04}", 1000 + i * 37 % 9000, 2000 + i * 91 % 8000),
        "fax": "",
        "email": format!("info{i:02}@customer.example.jp"),
        "closingDay": CLOSING_DAYS[i % CLOSING_DAYS.len()],
        "deleted": deleted,
        "updatedAt": stamp(at),
    }))
}

#[rustfmt::skip]
const DEPARTMENTS: &[(&str, &str, bool)] = &[
    ("100", "総務部", false), ("200", "営業部", false), ("210", "営業一課", false),
    ("300", "開発部", false), ("400", "経理部", false), ("900", "旧企画部", true),
];

#[rustfmt::skip]
const EMPLOYEES: &[(&str, &str, &str)] = &[
    ("山田 太郎", "ヤマダ タロウ", "200"), ("佐藤 花子", "サトウ ハナコ", "100"), ("鈴木 一郎", "スズキ イチロウ", "300"),
    ("高橋 美咲", "タカハシ ミサキ", "400"), ("田中 健", "タナカ ケン", "210"), ("伊藤 さくら", "イトウ サクラ", "200"),
    ("渡辺 翔", "ワタナベ ショウ", "300"), ("中村 優子", "ナカムラ ユウコ", "400"), ("小林 大輔", "コバヤシ ダイスケ", "210"),
    ("加藤 恵", "カトウ メグミ", "100"), ("吉田 直樹", "ヨシダ ナオキ", "200"), ("山本 彩", "ヤマモト アヤ", "300"),
    ("松本 隆", "マツモト タカシ", "300"), ("井上 真由美", "イノウエ マユミ", "400"), ("木村 拓海", "キムラ タクミ", "210"),
    ("林 結衣", "ハヤシ ユイ", "100"), ("清水 蓮", "シミズ レン", "300"), ("山口 陽菜", "ヤマグチ ヒナ", "200"),
    ("森 大和", "モリ ヤマト", "300"), ("池田 凛", "イケダ リン", "400"),
];

fn departments(at: DateTime<Utc>) -> BTreeMap<String, Record> {
    DEPARTMENTS
        .iter()
        .map(|(code, name, deleted)| {
            let r = record(
                json!({"code": code, "name": name, "deleted": deleted, "updatedAt": stamp(at)}),
            );
            (code.to_string(), r)
        })
        .collect()
}

fn employees(list: &[(&str, &str, &str)], now: DateTime<Utc>) -> BTreeMap<String, Record> {
    list.iter()
        .enumerate()
        .map(|(i, (name, kana, dept))| {
            let code = format!("{:05}", i + 1);
            let join = (now - Duration::days(200 + 173 * i as i64))
                .format("%Y-%m-%d")
                .to_string();
            let r = record(json!({
                "code": code,
                "name": name,
                "nameKana": kana,
                "departmentCode": dept,
                "email": format!("emp{:05}@obc-shoji.example.jp", i + 1),
                "joinDate": join,
                "retired": i == 9 || i == 16,
                "updatedAt": stamp(now - Duration::days(30 - i as i64)),
            }));
            (code, r)
        })
        .collect()
}

fn tenant(id: &str, code: &str, name: &str, kana: &str) -> Tenant {
    Tenant {
        id: id.into(),
        code: code.into(),
        name: name.into(),
        name_kana: kana.into(),
        memo: String::new(),
        records: BTreeMap::new(),
    }
}

pub fn store(extra_records: usize, now: DateTime<Utc>) -> Store {
    let mut main = tenant(
        TENANT_MAIN,
        "OBCSJ00001",
        "OBC商事株式会社",
        "オービーシーショウジカブシキガイシャ",
    );
    let customers: BTreeMap<String, Record> = COMPANIES
        .iter()
        .enumerate()
        .map(|(i, (base, kana))| {
            let code = format!("{:06}", i + 1);
            let at = now - Duration::days(60 - i as i64) - Duration::minutes(3);
            (
                code.clone(),
                customer(code, company_name(base, i), kana, i, i == 17 || i == 38, at),
            )
        })
        .chain((0..extra_records).map(|i| {
            let code = format!("{:06}", 100_000 + i);
            let at = now - Duration::days(90) + Duration::seconds(i as i64 % 86_400);
            let name = format!("株式会社テストデータ{i:06}");
            (
                code.clone(),
                customer(code, name, "テストデータ", i, false, at),
            )
        }))
        .collect();
    main.records.insert("Customer".into(), customers);
    main.records
        .insert("Department".into(), departments(now - Duration::days(365)));
    main.records
        .insert("Employee".into(), employees(EMPLOYEES, now));

    let mut second = tenant(
        TENANT_SECOND,
        "",
        "サンプル工業株式会社",
        "サンプルコウギョウカブシキガイシャ",
    );
    let few: BTreeMap<String, Record> = COMPANIES[..5]
        .iter()
        .enumerate()
        .map(|(i, (base, kana))| {
            let code = format!("{:04}", i + 1);
            let at = now - Duration::days(20 - i as i64);
            (
                code.clone(),
                customer(code, company_name(base, i + 3), kana, i, false, at),
            )
        })
        .collect();
    second.records.insert("Customer".into(), few);
    second
        .records
        .insert("Department".into(), departments(now - Duration::days(365)));
    second
        .records
        .insert("Employee".into(), employees(&EMPLOYEES[..3], now));

    let other = tenant(
        TENANT_OTHER,
        "XYZ0000001",
        "株式会社アクセス不可",
        "アクセスフカ",
    );

    Store {
        clients: vec![Client {
            client_id: "renkei-hub-sandbox".into(),
            client_secret: "sandbox-client-secret-7f3a9c".into(),
            name: "連携ハブ".into(),
        }],
        subscription_keys: vec!["3f6c0a9e5b7d4e21a8c4f0b2d6e9a1c7".into()],
        users: vec![User {
            obcid: "yamada.taro@obc-shoji.example.jp".into(),
            password: "obc-sandbox-1".into(),
            display_name: "山田 太郎".into(),
            tenants: vec![TENANT_MAIN.into(), TENANT_SECOND.into()],
        }],
        tenants: vec![main, second, other],
        access: HashMap::new(),
        refresh: HashMap::new(),
    }
}
