//! Seed data: app 1 「顧客管理」 (30 companies whose names use every legal-form spelling, with
//! full-width text and mixed phone and postal-code formats), app 2 「活動履歴」 (a lookup to 顧客管理
//! by record number), app 3 「問い合わせ管理」 in guest space 1, one login and API tokens.
//! Deterministic except that times are relative to the day the sandbox starts, so "updated in
//! the last 60 days" finds records. Extra generated customers for benchmarks stay cheap at 100k+.

use super::model::{App, FieldDef, FieldType, Lookup, Record, Space, Store, Token, User, Values};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const CUSTOMERS: u64 = 1;
pub const ACTIVITIES: u64 = 2;
pub const INQUIRIES: u64 = 3;
pub const GUEST_SPACE: u64 = 1;
pub const LOGIN: &str = "sato";
pub const PASSWORD: &str = "kintone-sandbox-pass";

pub use super::seed_gen::{add_generated_customers, generated_customer};

pub const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// 会社名, 担当者名, 部署名, メールアドレス, 電話番号, 郵便番号, 都道府県, 住所, 顧客ランク, 売上高, 備考
pub(super) type Customer = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
pub(super) const COMPANY_ROWS: [Customer; 30] = [
    ("株式会社サンプル", "山田 太郎", "営業部", "t.yamada@sample.example.jp", "03-1234-5678", "100-0005", "東京都", "千代田区丸の内1-1-1", "A", "125000000", "年間契約。担当替え予定あり。"),
    ("テスト商事株式会社", "佐々木 美穂", "購買部", "sasaki@test-shoji.example.jp", "06-6345-1234", "530-0001", "大阪府", "大阪市北区梅田2-4-9", "B", "48000000", ""),
    ("株式会社みらい技研", "小川　健一", "技術開発部", "ogawa@mirai-giken.example.jp", "０４５－２２３－４５６７", "２２０－００１１", "神奈川県", "横浜市西区高島2-6-32", "A", "89000000", "展示会で名刺交換。"),
    ("㈱東京物産", "中島 由美", "総務部", "nakajima@tokyo-bussan.example.jp", "03(3211)4567", "〒103-0027", "東京都", "中央区日本橋3-2-1 日本橋ビル５Ｆ", "B", "36500000", ""),
    ("(株)大阪精機", "藤井 浩二", "生産管理課", "fujii@osaka-seiki.example.jp", "0663451111", "540-0001", "大阪府", "大阪市中央区城見1-3-7", "C", "12000000", "見積依頼中"),
    ("有限会社田中工務店", "田中 一郎", "", "info@tanaka-koumuten.example.jp", "048-822-3344", "330-0063", "埼玉県", "さいたま市浦和区高砂2-1-16", "C", "5400000", "社長直通。"),
    ("株式会社ネクスト", "森 さくら", "マーケティング部", "mori@next.example.jp", "03-5555-0101", "150-0002", "東京都", "渋谷区渋谷2-21-1", "A", "210000000", ""),
    ("ＡＢＣソリューションズ株式会社", "John Smith", "Sales", "john.smith@abc-solutions.example.com", "+81-3-6700-1234", "105-0011", "東京都", "港区芝公園4-2-8", "B", "67000000", "英語対応が必要。"),
    ("日本データ株式会社", "石井 裕子", "情報システム部", "ishii@nihon-data.example.jp", "052-961-2222", "460-0008", "愛知県", "名古屋市中区栄3-5-1", "B", "41000000", ""),
    ("株式会社ひかり通信", "松田 翔", "法人営業部", "matsuda@hikari-tsushin.example.jp", "092-471-1234", "812-0011", "福岡県", "福岡市博多区博多駅前1-1-1", "A", "150000000", "2024年度から取引拡大。"),
    ("名古屋運輸（株）", "加藤 誠", "配車センター", "kato@nagoya-unyu.example.jp", "052-581-3333", "450-0002", "愛知県", "名古屋市中村区名駅4-7-1", "C", "9800000", ""),
    ("北海道フーズ株式会社", "吉川 明美", "仕入部", "yoshikawa@hokkaido-foods.example.jp", "011-221-4444", "060-0042", "北海道", "札幌市中央区大通西4-1", "B", "33000000", "冬季は配送に注意。"),
    ("㈱九州電子", "原田 大輔", "資材部", "harada@kyushu-denshi.example.jp", "096-355-5555", "860-0808", "熊本県", "熊本市中央区手取本町1-1", "B", "27500000", ""),
    ("さくら建設株式会社", "桜井 隆", "工事部", "sakurai@sakura-kensetsu.example.jp", "022-262-6666", "980-0021", "宮城県", "仙台市青葉区中央2-2-2", "C", "15000000", ""),
    ("株式会社 青葉システム", "青木 真理子", "システム部", "aoki@aoba-system.example.jp", "022-711-7777", "980-0811", "宮城県", "仙台市青葉区一番町3-1-1", "A", "99000000", "保守契約更新：毎年4月。"),
    ("富士テック（株）", "村井 拓也", "品質保証部", "murai@fuji-tech.example.jp", "054-254-8888", "420-0853", "静岡県", "静岡市葵区追手町9-6", "B", "52000000", ""),
    ("鈴木製作所株式会社", "鈴木 次郎", "製造部", "suzuki@suzuki-ss.example.jp", "053-457-9999", "430-0929", "静岡県", "浜松市中区中央1-12-1", "C", "8800000", "手形取引なし。"),
    ("(株)佐藤商事", "佐藤 恵", "営業二課", "m.sato@sato-shoji.example.jp", "03-3201-1010", "100-0004", "東京都", "千代田区大手町1-6-1", "B", "44000000", ""),
    ("高橋印刷株式会社", "高橋 修", "制作部", "takahashi@takahashi-print.example.jp", "075-231-2020", "604-8005", "京都府", "京都市中京区河原町通三条上る恵比須町427", "C", "6300000", ""),
    ("株式会社伊藤食品", "伊藤 綾", "商品部", "ito@ito-foods.example.jp", "078-321-3030", "650-0021", "兵庫県", "神戸市中央区三宮町1-1-1", "B", "38000000", "ギフトシーズンに発注増。"),
    ("渡辺興業㈱", "渡辺 剛", "管理部", "watanabe@watanabe-kogyo.example.jp", "082-247-4040", "730-0011", "広島県", "広島市中区基町6-78", "C", "11000000", ""),
    ("中村薬品株式会社", "中村 優子", "薬事部", "nakamura@nakamura-yakuhin.example.jp", "06-6202-5050", "541-0045", "大阪府", "大阪市中央区道修町2-1-5", "A", "175000000", "GMP監査対応あり。"),
    ("小林電機株式会社", "小林 健", "営業部", "kobayashi@kobayashi-denki.example.jp", "045-311-6060", "220-0004", "神奈川県", "横浜市西区北幸1-11-15", "B", "29000000", ""),
    ("合同会社加藤化学", "加藤 舞", "研究開発室", "mai.kato@kato-kagaku.example.jp", "029-301-7070", "310-0021", "茨城県", "水戸市南町3-4-10", "C", "4200000", ""),
    ("吉田産業株式会社", "吉田 和也", "経理部", "yoshida@yoshida-sangyo.example.jp", "027-223-8080", "371-0023", "群馬県", "前橋市本町2-2-12", "B", "21000000", "請求書は紙で郵送。"),
    ("株式会社山本不動産", "山本 直樹", "賃貸管理部", "yamamoto@yamamoto-fudosan.example.jp", "03-3400-9090", "107-0062", "東京都", "港区南青山5-1-1", "A", "62000000", ""),
    ("松本商会", "松本 里美", "", "matsumoto@matsumoto-shokai.example.jp", "026-232-1111", "380-0836", "長野県", "長野市南県町1085-4", "C", "3100000", "個人事業主。"),
    ("井上工業株式会社", "井上 亮", "設備課", "inoue@inoue-kogyo.example.jp", "086-231-2121", "700-0024", "岡山県", "岡山市北区駅元町1-1", "B", "24000000", ""),
    ("(株)木村物流", "木村 智子", "物流企画部", "kimura@kimura-butsuryu.example.jp", "099-224-3131", "892-0816", "鹿児島県", "鹿児島市山下町11-1", "C", "13500000", ""),
    ("林ホールディングス株式会社", "林 大樹", "経営企画部", "hayashi@hayashi-hd.example.jp", "03-6200-4141", "100-6590", "東京都", "千代田区丸の内1-5-1 新丸の内ビルディング", "A", "480000000", "グループ会社あり。"),
];

const ACTIVITY_KINDS: [&str; 4] = ["訪問", "電話", "メール", "Web会議"];
const ACTIVITY_TOPICS: [(&str, &str); 6] = [
    ("定例打ち合わせ", "進捗確認。次回までに見積を再提出する。"),
    (
        "新製品のご案内",
        "カタログを送付。担当部署へ展開いただく予定。",
    ),
    (
        "見積提出",
        "見積書を提出。社内稟議に２週間ほどかかるとのこと。",
    ),
    (
        "契約更新の相談",
        "契約条件の見直し希望あり。値引き幅を社内で検討。",
    ),
    (
        "クレーム対応",
        "納品遅延についてお詫び。再発防止策を説明した。",
    ),
    (
        "年始のご挨拶",
        "訪問してご挨拶。今年度の予算感をヒアリング。",
    ),
];
const STAFF: [&str; 3] = ["佐藤 花子", "鈴木 一郎", "高橋 健太"];

fn token(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    h.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

pub fn app_token(app: u64) -> String {
    token(&format!("kintone-sandbox-app-{app}"))
}

pub fn readonly_token(app: u64) -> String {
    token(&format!("kintone-sandbox-app-{app}-readonly"))
}

fn full(app: u64) -> Token {
    Token {
        token: app_token(app),
        view: true,
        add: true,
        edit: true,
        delete: true,
    }
}

fn system_fields() -> Vec<FieldDef> {
    vec![
        FieldDef::new("レコード番号", FieldType::RecordNumber),
        FieldDef::new("作成者", FieldType::Creator),
        FieldDef::new("作成日時", FieldType::CreatedTime),
        FieldDef::new("更新者", FieldType::Modifier),
        FieldDef::new("更新日時", FieldType::UpdatedTime),
    ]
}

fn field(code: &str, ty: FieldType, f: impl FnOnce(&mut FieldDef)) -> FieldDef {
    let mut d = FieldDef::new(code, ty);
    if ty.is_multi() {
        d.default_value = json!([]);
    }
    f(&mut d);
    d
}

fn choices<'a>(opts: &'a [&'a str]) -> impl FnOnce(&mut FieldDef) + 'a {
    move |d| d.options = opts.iter().map(|s| s.to_string()).collect()
}

fn customer_fields() -> Vec<FieldDef> {
    let mut v = system_fields();
    v.extend([
        field("会社名", FieldType::SingleLineText, |d| {
            d.required = true;
            d.unique = true;
        }),
        field("担当者名", FieldType::SingleLineText, |_| {}),
        field("部署名", FieldType::SingleLineText, |_| {}),
        field("メールアドレス", FieldType::SingleLineText, |_| {}),
        field("電話番号", FieldType::SingleLineText, |_| {}),
        field("郵便番号", FieldType::SingleLineText, |_| {}),
        field("都道府県", FieldType::DropDown, choices(&PREFECTURES)),
        field("住所", FieldType::SingleLineText, |_| {}),
        field("顧客ランク", FieldType::DropDown, choices(&["A", "B", "C"])),
        field("売上高", FieldType::Number, |d| d.unit = "円".into()),
        field("取引開始日", FieldType::Date, |_| {}),
        field("備考", FieldType::MultiLineText, |_| {}),
    ]);
    v
}

fn activity_fields() -> Vec<FieldDef> {
    let mut v = system_fields();
    v.extend([
        field("顧客レコード番号", FieldType::Number, |d| {
            d.label = "顧客".into();
            d.lookup = Some(Lookup {
                related_app: CUSTOMERS,
                related_key_field: "レコード番号".into(),
                field_mappings: vec![
                    ("会社名".into(), "会社名".into()),
                    ("担当者名".into(), "担当者名".into()),
                ],
                picker_fields: vec!["会社名".into(), "担当者名".into(), "電話番号".into()],
            });
        }),
        field("会社名", FieldType::SingleLineText, |_| {}),
        field("担当者名", FieldType::SingleLineText, |_| {}),
        field("活動日", FieldType::Date, |d| d.required = true),
        field("対応方法", FieldType::DropDown, choices(&ACTIVITY_KINDS)),
        field("件名", FieldType::SingleLineText, |_| {}),
        field("内容", FieldType::MultiLineText, |_| {}),
        field("対応者", FieldType::SingleLineText, |_| {}),
        field("担当者", FieldType::UserSelect, |d| {
            d.default_value = json!([])
        }),
        field("次回予定日", FieldType::Date, |_| {}),
    ]);
    v
}

fn inquiry_fields() -> Vec<FieldDef> {
    let mut v = system_fields();
    v.extend([
        field("問い合わせ番号", FieldType::SingleLineText, |d| {
            d.required = true;
            d.unique = true;
        }),
        field("件名", FieldType::SingleLineText, |d| d.required = true),
        field("会社名", FieldType::SingleLineText, |_| {}),
        field("受付日時", FieldType::Datetime, |_| {}),
        field("ステータス", FieldType::RadioButton, |d| {
            d.options = vec!["未対応".into(), "対応中".into(), "完了".into()];
            d.default_value = json!("未対応");
        }),
        field("内容", FieldType::MultiLineText, |_| {}),
    ]);
    v
}

pub(super) fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

pub(super) fn record(
    id: u64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    who: &str,
    values: Values,
) -> Record {
    Record {
        id,
        revision: 1 + id % 3,
        created_at: created,
        updated_at: updated.max(created),
        creator: who.into(),
        modifier: who.into(),
        values,
    }
}

fn customer_values(c: &Customer, start: String) -> Values {
    let (name, person, dept, mail, tel, zip, pref, addr, rank, sales, note) = *c;
    [
        ("会社名", s(name)),
        ("担当者名", s(person)),
        ("部署名", s(dept)),
        ("メールアドレス", s(mail)),
        ("電話番号", s(tel)),
        ("郵便番号", s(zip)),
        ("都道府県", s(pref)),
        ("住所", s(addr)),
        ("顧客ランク", s(rank)),
        ("売上高", s(sales)),
        ("取引開始日", s(&start)),
        ("備考", s(note)),
    ]
    .into_iter()
    .map(|(k, v)| (Arc::from(k), v))
    .collect()
}

fn customers(anchor: DateTime<Utc>) -> App {
    let mut app = App::new(
        CUSTOMERS,
        "顧客管理",
        "取引先企業と担当者の一覧です。",
        None,
        anchor - Duration::days(720),
        customer_fields(),
        vec![
            full(CUSTOMERS),
            Token {
                token: readonly_token(CUSTOMERS),
                view: true,
                add: false,
                edit: false,
                delete: false,
            },
        ],
    );
    for (i, c) in COMPANY_ROWS.iter().enumerate() {
        let id = i as u64 + 1;
        let created =
            anchor - Duration::days(400) + Duration::days(i as i64 * 9) + Duration::hours(1);
        let updated =
            anchor - Duration::days((i as i64 * 13) % 120) - Duration::hours(i as i64 % 8 + 1);
        let start = (created + Duration::days(20))
            .format("%Y-%m-%d")
            .to_string();
        let who = ["sato", "suzuki", "takahashi"][i % 3];
        app.put(record(id, created, updated, who, customer_values(c, start)));
    }
    app
}

fn activities(anchor: DateTime<Utc>, customers: &App) -> App {
    let mut app = App::new(
        ACTIVITIES,
        "活動履歴",
        "顧客への訪問・電話・メールの記録です。",
        None,
        anchor - Duration::days(700),
        activity_fields(),
        vec![full(ACTIVITIES)],
    );
    for k in 0..40u64 {
        let cust = 1 + (k * 7) % 30;
        let Some(c) = customers.records.get(&cust) else {
            continue;
        };
        let day = anchor - Duration::days(((40 - k) * 5) as i64);
        let (title, body) = ACTIVITY_TOPICS[(k % 6) as usize];
        let mut v = Values::default();
        v.insert("顧客レコード番号", Value::String(cust.to_string()));
        for f in ["会社名", "担当者名"] {
            v.insert(f, c.values.get(f).cloned().unwrap_or(Value::Null));
        }
        v.insert("活動日", Value::String(day.format("%Y-%m-%d").to_string()));
        v.insert("対応方法", s(ACTIVITY_KINDS[(k % 4) as usize]));
        v.insert("件名", s(title));
        v.insert("内容", s(body));
        v.insert("対応者", s(STAFF[(k % 3) as usize]));
        let next = (k % 3 == 0).then(|| (day + Duration::days(14)).format("%Y-%m-%d").to_string());
        v.insert("次回予定日", next.map(Value::String).unwrap_or(Value::Null));
        let at = day + Duration::hours(9);
        app.put(record(
            k + 1,
            at,
            at + Duration::hours(2),
            ["sato", "suzuki", "takahashi"][(k % 3) as usize],
            v,
        ));
    }
    app
}

fn inquiries(anchor: DateTime<Utc>) -> App {
    let mut app = App::new(
        INQUIRIES,
        "問い合わせ管理",
        "取引先ポータル（ゲストスペース）からの問い合わせです。",
        Some(GUEST_SPACE),
        anchor - Duration::days(300),
        inquiry_fields(),
        vec![full(INQUIRIES)],
    );
    let rows = [
        (
            "Q-2024-001",
            "請求書の再発行について",
            "株式会社サンプル",
            "完了",
            "先月分の請求書を再発行してください。",
        ),
        (
            "Q-2024-002",
            "納期の確認",
            "(株)大阪精機",
            "対応中",
            "発注番号 A-1029 の納期を教えてください。",
        ),
        (
            "Q-2024-003",
            "ログインできません",
            "ＡＢＣソリューションズ株式会社",
            "未対応",
            "ポータルにログインできません。",
        ),
        (
            "Q-2024-004",
            "見積の依頼",
            "北海道フーズ株式会社",
            "未対応",
            "冬季限定商品の見積をお願いします。",
        ),
        (
            "Q-2024-005",
            "担当者変更のご連絡",
            "株式会社ひかり通信",
            "完了",
            "４月より担当が変わります。",
        ),
    ];
    for (i, (no, title, company, status, body)) in rows.iter().enumerate() {
        let at = anchor - Duration::days(50 - i as i64 * 9) + Duration::hours(1 + i as i64);
        let mut v = Values::default();
        v.insert("問い合わせ番号", s(no));
        v.insert("件名", s(title));
        v.insert("会社名", s(company));
        v.insert(
            "受付日時",
            Value::String(super::time::fmt(super::time::truncate(at))),
        );
        v.insert("ステータス", s(status));
        v.insert("内容", s(body));
        app.put(record(
            i as u64 + 1,
            at,
            at + Duration::hours(3),
            "suzuki",
            v,
        ));
    }
    app
}

/// The whole seeded store. `anchor` is the start of the current day (UTC).
pub fn store(extra_records: usize, anchor: DateTime<Utc>) -> Store {
    let mut c = customers(anchor);
    if extra_records > 0 {
        add_generated_customers(&mut c, extra_records, anchor);
    }
    let a = activities(anchor, &c);
    let q = inquiries(anchor);
    Store {
        apps: [(CUSTOMERS, c), (ACTIVITIES, a), (INQUIRIES, q)]
            .into_iter()
            .collect(),
        users: vec![
            User {
                code: LOGIN.into(),
                name: "佐藤 花子".into(),
                password: PASSWORD.into(),
            },
            User {
                code: "suzuki".into(),
                name: "鈴木 一郎".into(),
                password: "suzuki-sandbox-pass".into(),
            },
            User {
                code: "takahashi".into(),
                name: "高橋 健太".into(),
                password: "takahashi-sandbox-pass".into(),
            },
        ],
        spaces: vec![Space {
            id: GUEST_SPACE,
            name: "取引先ポータル".into(),
            guest: true,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_values_fit_the_forms() {
        let anchor = Utc::now();
        let st = store(10, anchor);
        for app in st.apps.values() {
            for r in app.records.values() {
                for (code, v) in r.values.iter() {
                    let f = app.field(code).expect("seeded field exists");
                    let back = super::super::values::convert(f, v);
                    assert_eq!(
                        back.as_ref(),
                        Ok(v),
                        "app {} record {} field {code}",
                        app.id,
                        r.id
                    );
                }
            }
        }
        assert_eq!(st.apps[&CUSTOMERS].records.len(), 40);
    }
}
