//! Generated customers for benchmarks (`extra_records`, `/_sandbox/kintone/apps/1/records`):
//! unique 会社名 in every legal-form spelling, deterministic values, cheap at 100k+.

use super::model::{App, Values};
use super::seed::{record, s, LOGIN, PREFECTURES};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const STEMS: [&str; 20] = [
    "あおぞら",
    "ひまわり",
    "東西",
    "中央",
    "日の出",
    "みどり",
    "大和",
    "平和",
    "光洋",
    "三和",
    "新星",
    "協和",
    "昭和",
    "朝日",
    "丸福",
    "北斗",
    "ＳＫＹ",
    "グローバル",
    "ユニオン",
    "アルファ",
];
const TRADES: [&str; 10] = [
    "商事",
    "工業",
    "物産",
    "電機",
    "建設",
    "食品",
    "運輸",
    "システム",
    "製作所",
    "薬品",
];
const SURNAMES: [&str; 10] = [
    "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
];
const GIVEN: [&str; 8] = [
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "健太",
    "陽子",
    "翔太",
    "真由美",
];

/// The `n`-th generated customer (0-based): unique 会社名, deterministic values.
pub fn generated_customer(n: u64) -> Values {
    let i = n as usize;
    let combos = STEMS.len() * TRADES.len();
    // Built by hand, not with format!: this runs 100k+ times in debug builds.
    let mut base = String::with_capacity(64);
    base.push_str(PREFECTURES[i % 47].trim_end_matches(['都', '府', '県']));
    base.push_str(STEMS[(i / 47) % STEMS.len()]);
    base.push_str(TRADES[(i / 3) % TRADES.len()]);
    // Unique beyond the combinations by a branch number.
    digits(&mut base, i / combos + 1, 1);
    let name = match i % 4 {
        0 => cat(&["株式会社", &base]),
        1 => cat(&[&base, "株式会社"]),
        2 => cat(&["(株)", &base]),
        _ => cat(&["㈱", &base]),
    };
    let person = cat(&[SURNAMES[i % 10], " ", GIVEN[(i / 10) % 8]]);
    let mut mail = String::from("contact");
    digits(&mut mail, i, 1);
    mail.push_str("@example.jp");
    let mut tel = String::from("0");
    digits(&mut tel, 3 + i % 7, 1);
    tel.push('-');
    digits(&mut tel, (i * 7) % 10_000, 4);
    tel.push('-');
    digits(&mut tel, i % 10_000, 4);
    let mut zip = String::with_capacity(8);
    digits(&mut zip, 100 + i % 800, 3);
    zip.push('-');
    digits(&mut zip, i % 10_000, 4);
    let mut addr = String::from("中央");
    digits(&mut addr, 1 + i % 9, 1);
    addr.push('-');
    digits(&mut addr, 1 + i % 20, 1);
    addr.push('-');
    digits(&mut addr, 1 + i % 30, 1);
    let mut sales = String::with_capacity(12);
    digits(&mut sales, (i * 7919) % 500_000, 1);
    if sales != "0" {
        sales.push_str("000");
    }
    let values = [
        Value::String(name),
        Value::String(person),
        s(["営業部", "総務部", "購買部", "経理部"][i % 4]),
        Value::String(mail),
        Value::String(tel),
        Value::String(zip),
        s(PREFECTURES[i % 47]),
        Value::String(addr),
        s(["A", "B", "C", "C"][i % 4]),
        Value::String(sales),
        Value::Null,
        s(""),
    ];
    keys().iter().cloned().zip(values).collect()
}

/// The field codes of 顧客管理, shared by every generated record.
fn keys() -> &'static [Arc<str>; 12] {
    static KEYS: OnceLock<[Arc<str>; 12]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            "会社名",
            "担当者名",
            "部署名",
            "メールアドレス",
            "電話番号",
            "郵便番号",
            "都道府県",
            "住所",
            "顧客ランク",
            "売上高",
            "取引開始日",
            "備考",
        ]
        .map(Arc::from)
    })
}

fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// Appends `n` in decimal, zero-padded to `width`.
fn digits(out: &mut String, mut n: usize, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    while n > 0 || buf.len() - i < width.max(1) {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out.extend(buf[i..].iter().map(|b| *b as char));
}

/// Adds `count` generated customers after the existing records of app 1; answers the id range.
pub fn add_generated_customers(app: &mut App, count: usize, anchor: DateTime<Utc>) -> (u64, u64) {
    let first = app.next_id;
    for k in 0..count as u64 {
        let id = first + k;
        // Spread over the last 30 days, at the minute precision kintone keeps.
        let created = super::time::truncate(
            anchor - Duration::days(30) + Duration::seconds((k as i64 * 25) % (30 * 86_400)),
        );
        let updated = created + Duration::minutes((k % 1440) as i64);
        let values = generated_customer(id - 1);
        app.put(record(id, created, updated, LOGIN, values));
    }
    (first, first + count as u64 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kintone::seed::COMPANY_ROWS;
    use std::collections::HashSet;

    #[test]
    fn generated_company_names_are_unique() {
        let names: HashSet<String> = (0..5000)
            .map(|n| {
                generated_customer(n)
                    .get("会社名")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        assert_eq!(names.len(), 5000);
        for c in COMPANY_ROWS {
            assert!(!names.contains(c.0), "{}", c.0);
        }
    }
}
