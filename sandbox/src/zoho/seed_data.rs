//! The sample records of both orgs, in Japanese as a Japanese sales team keeps them: company
//! names as 株式会社 / (株) / ㈱, full-width spaces, digits and letters, 姓 and 名 in
//! Last_Name / First_Name. Org B holds some of org A's customers written differently, for the
//! two-org sync scenario (seeds/003). `"@Module:n"` refers to the n-th seeded record of a module.

use serde_json::{json, Value};

/// Per module, in seeding order (lookups point backwards only).
#[rustfmt::skip]
pub fn org_a() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "Accounts",
            vec![
                acc("株式会社山田製作所", "ヤマダセイサクショ", "C0001", "Customer", "Manufacturing", "03-3201-1111", "100-0005", "東京都", "千代田区", "丸の内１－１－１", 320),
                acc("(株)青葉商事", "アオバショウジ", "C0002", "Customer", "Wholesale", "022-215-2222", "980-0811", "宮城県", "仙台市青葉区", "一番町２－２－２", 85),
                acc("㈱みなと物流", "ミナトブツリュウ", "C0003", "Partner", "Logistics", "045-201-3333", "231-0002", "神奈川県", "横浜市中区", "海岸通３－３", 140),
                acc("有限会社さくら工房", "サクラコウボウ", "C0004", "Prospect", "Manufacturing", "075-221-4444", "604-8001", "京都府", "京都市中京区", "河原町通４－４", 12),
                acc("合同会社ひかりソフト", "ヒカリソフト", "C0005", "Customer", "IT", "092-711-5555", "810-0001", "福岡県", "福岡市中央区", "天神５－５－５", 28),
                acc("株式会社\u{3000}東京精機", "トウキョウセイキ", "C0006", "Customer", "Manufacturing", "03-5555-6666", "144-0052", "東京都", "大田区", "蒲田６－６", 210),
                acc("ＡＢＣ株式会社", "エービーシー", "C0007", "Prospect", "Retail", "06-6343-7777", "530-0001", "大阪府", "大阪市北区", "梅田７－７－７", 56),
                acc("北海道フーズ株式会社", "ホッカイドウフーズ", "C0008", "Customer", "Food", "011-231-8888", "060-0001", "北海道", "札幌市中央区", "北一条西８", 430),
                acc("(株)なにわ電機", "ナニワデンキ", "C0009", "Vendor", "Manufacturing", "06-6261-9999", "541-0041", "大阪府", "大阪市中央区", "北浜９－９", 75),
                acc("医療法人社団\u{3000}健康会", "ケンコウカイ", "C0010", "Customer", "Healthcare", "052-961-1010", "460-0001", "愛知県", "名古屋市中区", "三の丸１－１０", 190),
                acc("サンプル販売株式会社", "サンプルハンバイ", "C0011", "Partner", "Wholesale", "03-6400-1111", "105-0011", "東京都", "港区", "芝公園１－１１", 60),
                acc("株式会社ﾏﾙｲ商店", "マルイショウテン", "C0012", "Customer", "Retail", "087-821-1212", "760-0001", "香川県", "高松市", "丸の内１－１２", 18),
            ],
        ),
        (
            "Contacts",
            vec![
                con("佐藤", "一郎", "ichiro.sato@yamada-ss.example.jp", "03-3201-1112", "090-1111-0001", "部長", "購買部", Some(0), "東京都", "千代田区"),
                con("鈴木", "花子", "hanako.suzuki@yamada-ss.example.jp", "03-3201-1113", "080-1111-0002", "主任", "総務部", Some(0), "東京都", "千代田区"),
                con("高橋", "健太", "kenta.takahashi@aoba-shoji.example.jp", "022-215-2223", "090-2222-0003", "課長", "営業部", Some(1), "宮城県", "仙台市青葉区"),
                con("田中", "美咲", "misaki.tanaka@minato-logi.example.jp", "045-201-3334", "", "係長", "物流管理部", Some(2), "神奈川県", "横浜市中区"),
                con("伊藤", "翔", "sho.ito@sakura-kobo.example.jp", "075-221-4445", "090-4444-0005", "代表取締役", "経営企画室", Some(3), "京都府", "京都市中京区"),
                con("渡辺", "陽子", "yoko.watanabe@hikari-soft.example.jp", "092-711-5556", "080-5555-0006", "CTO", "開発部", Some(4), "福岡県", "福岡市中央区"),
                con("山本", "大輔", "daisuke.yamamoto@tokyo-seiki.example.jp", "03-5555-6667", "", "部長", "品質保証部", Some(5), "東京都", "大田区"),
                con("中村", "さくら", "sakura.nakamura@abc.example.jp", "０６－６３４３－７７７８", "", "担当", "店舗開発部", Some(6), "大阪府", "大阪市北区"),
                con("小林", "誠", "makoto.kobayashi@hokkaido-foods.example.jp", "011-231-8889", "090-8888-0009", "専務取締役", "経営管理本部", Some(7), "北海道", "札幌市中央区"),
                con("加藤", "由美", "yumi.kato@naniwa-denki.example.jp", "06-6261-9998", "", "主任", "調達部", Some(8), "大阪府", "大阪市中央区"),
                con("吉田", "拓也", "takuya.yoshida@kenkoukai.example.jp", "052-961-1011", "", "事務長", "事務局", Some(9), "愛知県", "名古屋市中区"),
                con("山口", "愛", "ai.yamaguchi@sample-hanbai.example.jp", "03-6400-1112", "080-1111-0012", "課長", "営業推進部", Some(10), "東京都", "港区"),
                con("松本", "和也", "", "087-821-1213", "", "店主", "", Some(11), "香川県", "高松市"),
                con("井上", "真由美", "mayumi.inoue@example.jp", "", "090-1414-0014", "", "", None, "", ""),
            ],
        ),
        (
            "Leads",
            vec![
                lead("株式会社グリーンファーム", "木村", "直樹", "naoki.kimura@green-farm.example.jp", "0263-33-1111", "Exhibition", "Not Contacted", "長野県", "松本市"),
                lead("(株)ブルーオーシャン", "林", "恵", "megumi.hayashi@blue-ocean.example.jp", "098-861-2222", "Web", "Attempted to Contact", "沖縄県", "那覇市"),
                lead("合同会社そら設計", "清水", "大地", "daichi.shimizu@sora-sekkei.example.jp", "082-247-3333", "Seminar", "Contact in Future", "広島県", "広島市中区"),
                lead("株式会社みらい教育", "山崎", "優子", "yuko.yamazaki@mirai-edu.example.jp", "03-3261-4444", "Referral", "Pre-Qualified", "東京都", "千代田区"),
                lead("有限会社かもめ運送", "森", "剛", "tsuyoshi.mori@kamome-unso.example.jp", "0138-22-5555", "Cold Call", "Not Qualified", "北海道", "函館市"),
                lead("㈱はやぶさ技研", "池田", "彩", "aya.ikeda@hayabusa-giken.example.jp", "029-301-6666", "Web", "Not Contacted", "茨城県", "水戸市"),
            ],
        ),
        (
            "Deals",
            vec![
                deal("山田製作所 生産管理システム更新", 0, 0, 12_000_000, "Proposal/Price Quote", 60, "2025-06-30"),
                deal("青葉商事 受発注連携", 1, 2, 4_500_000, "Negotiation/Review", 80, "2025-05-31"),
                deal("みなと物流 倉庫管理SaaS", 2, 3, 2_800_000, "Qualification", 20, "2025-09-30"),
                deal("ひかりソフト 保守契約更新", 4, 5, 1_200_000, "Closed Won", 100, "2025-04-15"),
                deal("東京精機 品質管理ツール導入", 5, 6, 6_600_000, "Needs Analysis", 40, "2025-08-31"),
                deal("北海道フーズ 在庫最適化", 7, 8, 3_300_000, "Closed Lost", 0, "2025-04-30"),
            ],
        ),
        (
            "Tasks",
            vec![
                task("見積書を送付する", "2025-04-10", "Completed", "High", Some(0), Some(0)),
                task("提案書レビュー会の日程調整", "2025-04-18", "In Progress", "Normal", Some(2), Some(1)),
                task("契約書ドラフトの確認", "2025-04-25", "Not Started", "Highest", Some(6), Some(5)),
                task("請求書の再発行依頼に対応", "2025-04-08", "Completed", "Normal", Some(8), Some(7)),
                task("展示会フォローアップのメール送付", "2025-05-09", "Not Started", "Low", None, None),
                task("デモ環境の準備", "2025-04-22", "Waiting for input", "High", Some(5), Some(4)),
                task("年間保守の更新案内", "2025-05-15", "Deferred", "Normal", Some(10), Some(9)),
                task("社内勉強会の資料作成", "2025-04-30", "In Progress", "Lowest", None, None),
            ],
        ),
        (
            "Events",
            vec![
                event("山田製作所 定例打ち合わせ", "2025-04-14T10:00:00+09:00", "2025-04-14T11:00:00+09:00", false, "本社 第１会議室", Some(0), Some(0)),
                event("青葉商事 訪問", "2025-04-16T14:00:00+09:00", "2025-04-16T15:30:00+09:00", false, "仙台市青葉区 一番町２－２－２", Some(2), Some(1)),
                event("全社キックオフ", "2025-04-01T00:00:00+09:00", "2025-04-01T23:59:00+09:00", true, "本社 大ホール", None, None),
                event("オンライン商談(東京精機)", "2025-04-21T16:00:00+09:00", "2025-04-21T17:00:00+09:00", false, "Web会議", Some(6), Some(5)),
                event("展示会「ものづくりフェア２０２５」", "2025-05-20T09:00:00+09:00", "2025-05-22T18:00:00+09:00", false, "東京ビッグサイト 東ホール", None, None),
                event("北海道フーズ 打ち合わせ", "2025-04-24T13:00:00+09:00", "2025-04-24T14:00:00+09:00", false, "札幌支店 応接室", Some(8), Some(7)),
            ],
        ),
        (
            "Contracts",
            vec![
                contract("生産管理システム保守契約", "K-2025-001", 0, 1_800_000, "2025-04-01", "2026-03-31", "Active", true),
                contract("クラウド利用契約", "K-2025-002", 4, 960_000, "2025-04-01", "2026-03-31", "Active", true),
                contract("物流コンサルティング契約", "K-2024-017", 2, 2_400_000, "2024-10-01", "2025-03-31", "Renewal Pending", false),
            ],
        ),
    ]
}

#[rustfmt::skip]
pub fn org_b() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "Accounts",
            vec![
                acc("(株)山田製作所", "ヤマダセイサクショ", "H-101", "Customer", "Manufacturing", "03-3201-1111", "100-0005", "東京都", "千代田区", "丸の内1-1-1", 320),
                acc("㈱青葉商事", "アオバショウジ", "H-102", "Customer", "Wholesale", "022-215-2222", "980-0811", "宮城県", "仙台市青葉区", "一番町2-2-2", 85),
                acc("株式会社東京精機", "トウキョウセイキ", "H-103", "Customer", "Manufacturing", "03-5555-6666", "144-0052", "東京都", "大田区", "蒲田6-6", 210),
                acc("株式会社南国トレーディング", "ナンゴクトレーディング", "H-104", "Customer", "Wholesale", "098-862-4040", "900-0015", "沖縄県", "那覇市", "久茂地４－４", 33),
                acc("株式会社しまなみ造船", "シマナミゾウセン", "H-105", "Prospect", "Manufacturing", "0898-32-5050", "794-0028", "愛媛県", "今治市", "北宝来町５－５", 520),
                acc("(株)信州りんご農園", "シンシュウリンゴノウエン", "H-106", "Customer", "Food", "026-232-6060", "380-0836", "長野県", "長野市", "南県町６－６", 15),
                acc("ＸＹＺテクノロジー株式会社", "エックスワイゼットテクノロジー", "H-107", "Partner", "IT", "03-6800-7070", "150-0002", "東京都", "渋谷区", "渋谷７－７－７", 120),
                acc("株式会社サンプル本社", "サンプルホンシャ", "H-108", "Partner", "Wholesale", "03-5200-0001", "100-0004", "東京都", "千代田区", "大手町１－８", 1200),
            ],
        ),
        (
            "Contacts",
            vec![
                con("佐藤", "一郎", "ichiro.sato@yamada-ss.example.jp", "03-3201-1112", "090-1111-0001", "部長", "購買部", Some(0), "東京都", "千代田区"),
                con("高橋", "健太", "kenta.takahashi@aoba-shoji.example.jp", "022-215-2223", "090-2222-0003", "次長", "営業部", Some(1), "宮城県", "仙台市青葉区"),
                con("山本", "大輔", "daisuke.yamamoto@tokyo-seiki.example.jp", "03-5555-6667", "", "部長", "品質保証部", Some(2), "東京都", "大田区"),
                con("比嘉", "結衣", "yui.higa@nangoku-trading.example.jp", "098-862-4041", "090-4040-0001", "課長", "輸入部", Some(3), "沖縄県", "那覇市"),
                con("村上", "浩二", "koji.murakami@shimanami-zosen.example.jp", "0898-32-5051", "", "部長", "資材部", Some(4), "愛媛県", "今治市"),
                con("宮沢", "賢治", "kenji.miyazawa@shinshu-ringo.example.jp", "026-232-6061", "080-6060-0001", "代表", "", Some(5), "長野県", "長野市"),
                con("石川", "さやか", "sayaka.ishikawa@xyz-tech.example.jp", "03-6800-7071", "090-7070-0001", "マネージャー", "アライアンス部", Some(6), "東京都", "渋谷区"),
                con("山田", "太郎", "taro.yamada@sample-honsha.example.jp", "03-5200-0002", "", "部長", "営業本部", Some(7), "東京都", "千代田区"),
            ],
        ),
        (
            "Leads",
            vec![
                lead("株式会社あおぞら薬局", "岡田", "真一", "shinichi.okada@aozora-ph.example.jp", "092-751-1111", "Web", "Not Contacted", "福岡県", "福岡市中央区"),
                lead("(株)ひまわり保育", "藤田", "千尋", "chihiro.fujita@himawari.example.jp", "048-822-2222", "Seminar", "Attempted to Contact", "埼玉県", "さいたま市浦和区"),
                lead("合同会社ゆずデザイン", "後藤", "亮", "ryo.goto@yuzu-design.example.jp", "088-823-3333", "Referral", "Pre-Qualified", "高知県", "高知市"),
            ],
        ),
        (
            "Deals",
            vec![
                deal("山田製作所 部品共同購買", 0, 0, 3_600_000, "Needs Analysis", 30, "2025-07-31"),
                deal("南国トレーディング 輸入管理", 3, 3, 2_200_000, "Proposal/Price Quote", 50, "2025-06-15"),
                deal("しまなみ造船 資材調達システム", 4, 4, 9_800_000, "Qualification", 10, "2025-12-26"),
            ],
        ),
        (
            "Tasks",
            vec![
                task("本社との月次連携レポート作成", "2025-04-30", "In Progress", "High", Some(7), Some(7)),
                task("りんご農園 出荷計画の確認", "2025-04-17", "Not Started", "Normal", Some(5), Some(5)),
                task("南国トレーディング 見積回答", "2025-04-12", "Completed", "High", Some(3), Some(3)),
                task("名刺データの登録", "2025-04-09", "Completed", "Low", None, None),
            ],
        ),
        (
            "Events",
            vec![
                event("本社 営業会議", "2025-04-15T09:30:00+09:00", "2025-04-15T11:00:00+09:00", false, "本社 第２会議室", Some(7), Some(7)),
                event("しまなみ造船 工場見学", "2025-04-23T13:00:00+09:00", "2025-04-23T16:00:00+09:00", false, "今治工場", Some(4), Some(4)),
                event("販売店研修", "2025-05-08T00:00:00+09:00", "2025-05-08T23:59:00+09:00", true, "研修センター", None, None),
            ],
        ),
        (
            "Contracts",
            vec![contract(
                "販売代理店契約",
                "HB-2025-01",
                7,
                0,
                "2025-04-01",
                "2026-03-31",
                "Active",
                true,
            )],
        ),
    ]
}

fn opt(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        json!(s)
    }
}

fn at(module: &str, i: Option<usize>) -> Value {
    i.map(|i| json!(format!("@{module}:{i}")))
        .unwrap_or(Value::Null)
}

#[allow(clippy::too_many_arguments)]
fn acc(
    name: &str,
    kana: &str,
    code: &str,
    kind: &str,
    industry: &str,
    phone: &str,
    zip: &str,
    state: &str,
    city: &str,
    street: &str,
    employees: i64,
) -> Value {
    json!({
        "Account_Name": name, "Account_Name_Kana": kana, "Customer_Code": code,
        "Account_Type": kind, "Industry": industry, "Phone": phone, "Billing_Code": zip,
        "Billing_State": state, "Billing_City": city, "Billing_Street": street, "Employees": employees,
    })
}

#[allow(clippy::too_many_arguments)]
fn con(
    last: &str,
    first: &str,
    email: &str,
    phone: &str,
    mobile: &str,
    title: &str,
    dept: &str,
    account: Option<usize>,
    state: &str,
    city: &str,
) -> Value {
    json!({
        "Last_Name": last, "First_Name": first, "Email": opt(email), "Phone": opt(phone),
        "Mobile": opt(mobile), "Title": opt(title), "Department": opt(dept),
        "Account_Name": at("Accounts", account), "Mailing_State": opt(state), "Mailing_City": opt(city),
    })
}

#[allow(clippy::too_many_arguments)]
fn lead(
    company: &str,
    last: &str,
    first: &str,
    email: &str,
    phone: &str,
    source: &str,
    status: &str,
    state: &str,
    city: &str,
) -> Value {
    json!({
        "Company": company, "Last_Name": last, "First_Name": first, "Email": email, "Phone": phone,
        "Lead_Source": source, "Lead_Status": status, "State": state, "City": city,
    })
}

fn deal(
    name: &str,
    account: usize,
    contact: usize,
    amount: i64,
    stage: &str,
    probability: i64,
    closing: &str,
) -> Value {
    json!({
        "Deal_Name": name, "Account_Name": at("Accounts", Some(account)),
        "Contact_Name": at("Contacts", Some(contact)), "Amount": amount, "Stage": stage,
        "Probability": probability, "Closing_Date": closing,
    })
}

fn task(
    subject: &str,
    due: &str,
    status: &str,
    priority: &str,
    who: Option<usize>,
    what: Option<usize>,
) -> Value {
    json!({
        "Subject": subject, "Due_Date": due, "Status": status, "Priority": priority,
        "Who_Id": at("Contacts", who), "What_Id": at("Accounts", what),
    })
}

#[allow(clippy::too_many_arguments)]
fn event(
    title: &str,
    start: &str,
    end: &str,
    all_day: bool,
    venue: &str,
    who: Option<usize>,
    what: Option<usize>,
) -> Value {
    json!({
        "Event_Title": title, "Start_DateTime": start, "End_DateTime": end, "All_day": all_day,
        "Venue": venue, "Who_Id": at("Contacts", who), "What_Id": at("Accounts", what),
    })
}

#[allow(clippy::too_many_arguments)]
fn contract(
    name: &str,
    no: &str,
    account: usize,
    amount: i64,
    start: &str,
    end: &str,
    status: &str,
    auto: bool,
) -> Value {
    json!({
        "Name": name, "Contract_No": no, "Account": at("Accounts", Some(account)), "Amount": amount,
        "Start_Date": start, "End_Date": end, "Status": status, "Auto_Renewal": auto,
    })
}
