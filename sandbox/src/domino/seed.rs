//! Seed data: one user's mail file with Japanese contacts (company names written as 株式会社,
//! (株), ㈱, …), to-dos and calendar entries around today, including private ones of every kind
//! the privacy filter must catch (reference §7), and a small names.nsf.

use super::assumed::{self, appt, person, task};
use super::model::{Database, Item, Settings, Store, User};
use super::MAIL_DB;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;

const OWNER: &str = "Takuya Yamada/Sample";

fn user() -> User {
    User {
        short_name: "tyamada".into(),
        full_name: OWNER.into(),
        display_name: "山田 拓也".into(),
        email: "tyamada@example.co.jp".into(),
        password: "notes-sandbox-1".into(),
    }
}

/// `days` from today in Tokyo, at `h:m` Tokyo time.
fn jst(now: DateTime<Utc>, days: i64, h: u32, m: u32) -> DateTime<Utc> {
    let date = now.with_timezone(&Tokyo).date_naive() + Duration::days(days);
    let t = NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    Tokyo
        .from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(now)
}

fn t(s: &str) -> Item {
    Item::text(s)
}

/// Adds a document last modified `age_days` ago (so stale-header tests need no waiting).
fn add(db: &mut Database, form: &str, items: Vec<(&str, Item)>, now: DateTime<Utc>, age_days: i64) {
    let at = now - Duration::days(age_days) - Duration::minutes(7);
    let items = items.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    db.create(Some(form), items, OWNER, at);
}

fn private() -> (&'static str, Item) {
    (assumed::ORG_CONFIDENTIAL, t("1"))
}

fn public() -> (&'static str, Item) {
    (assumed::PUBLIC_ACCESS, t("1"))
}

fn readers(names: &[&str]) -> (&'static str, Item) {
    (
        assumed::READERS,
        Item::Readers(names.iter().map(|s| s.to_string()).collect()),
    )
}

struct Contact {
    last: &'static str,
    first: &'static str,
    company: &'static str,
    title: &'static str,
    mail: &'static str,
    phone: &'static str,
}

#[rustfmt::skip]
const CONTACTS: &[Contact] = &[
    Contact { last: "山田", first: "太郎", company: "株式会社サンプル", title: "営業部 部長", mail: "t.yamada@sample.example.jp", phone: "03-1234-5678" },
    Contact { last: "吉田", first: "直樹", company: "株式会社サンプル", title: "営業部", mail: "n.yoshida@sample.example.jp", phone: "03-1234-5679" },
    Contact { last: "佐藤", first: "花子", company: "(株)テスト商事", title: "総務課 課長", mail: "h.sato@test-shoji.example.jp", phone: "06-2345-6789" },
    Contact { last: "鈴木", first: "一郎", company: "㈱みらい技研", title: "開発部", mail: "suzuki@mirai-giken.example.jp", phone: "052-345-6789" },
    Contact { last: "高橋", first: "美咲", company: "東京物産株式会社", title: "購買部", mail: "m.takahashi@tokyo-bussan.example.jp", phone: "03-9876-5432" },
    Contact { last: "田中", first: "健", company: "有限会社田中工務店", title: "代表取締役", mail: "tanaka@tanaka-koumuten.example.jp", phone: "045-111-2222" },
    Contact { last: "伊藤", first: "さくら", company: "合同会社ネクスト", title: "マーケティング", mail: "sakura@next.example.jp", phone: "03-5555-0101" },
    Contact { last: "渡辺", first: "翔", company: "株式会社 ＡＢＣソリューションズ", title: "SE", mail: "watanabe@abc-sol.example.jp", phone: "03-5555-0202" },
    Contact { last: "中村", first: "優子", company: "日本データ（株）", title: "経理部", mail: "y.nakamura@nihon-data.example.jp", phone: "092-333-4444" },
    Contact { last: "小林", first: "大輔", company: "ﾋｶﾘ通信(株)", title: "営業", mail: "kobayashi@hikari.example.jp", phone: "011-222-3333" },
    Contact { last: "井上", first: "真由美", company: "大阪精機株式会社", title: "", mail: "inoue@osaka-seiki.example.jp", phone: "" },
    Contact { last: "Smith", first: "John", company: "Sample Trading Inc.", title: "Manager", mail: "john.smith@sample-trading.example.com", phone: "+1-555-0100" },
];

fn contact_items(c: &Contact) -> Vec<(&'static str, Item)> {
    let mut v = vec![
        (person::LAST_NAME, t(c.last)),
        (person::FIRST_NAME, t(c.first)),
        (person::COMPANY, t(c.company)),
        (person::MAIL, t(c.mail)),
        (person::OFFICE_PHONE, t(c.phone)),
        (person::FULL_NAME, t(&format!("{} {}", c.last, c.first))),
    ];
    if !c.title.is_empty() {
        v.push((person::JOB_TITLE, t(c.title)));
    }
    v
}

fn contacts(db: &mut Database, now: DateTime<Utc>) {
    for (i, c) in CONTACTS.iter().enumerate() {
        let mut items = contact_items(c);
        items.push(public());
        if i == 0 {
            items.push((person::ZIP, t("160-0023")));
            items.push((person::STATE, t("東京都")));
            items.push((person::CITY, t("新宿区")));
            items.push((person::STREET, t("西新宿1-2-3 サンプルビル5F")));
            items.push((person::CELL_PHONE, t("090-1234-5678")));
            items.push((person::COMMENT, t("年始のご挨拶済み")));
        }
        add(db, assumed::FORM_PERSON, items, now, 40 - i as i64);
    }
    // Marked private in Notes: must never leave the mail file.
    let mut p = contact_items(&Contact {
        last: "加藤",
        first: "恵",
        company: "",
        title: "",
        mail: "megumi.kato@example.jp",
        phone: "090-0000-1111",
    });
    p.extend([private(), (person::COMMENT, t("個人的な知人"))]);
    add(db, assumed::FORM_PERSON, p, now, 12);
    // Restricted by a Readers item that includes the owner: visible to them, still private.
    let mut r = contact_items(&Contact {
        last: "山本",
        first: "彩",
        company: "株式会社サンプル",
        title: "人事部",
        mail: "a.yamamoto@sample.example.jp",
        phone: "03-1234-5680",
    });
    r.push(readers(&["CN=Takuya Yamada/O=Sample", "[HR]"]));
    add(db, assumed::FORM_PERSON, r, now, 9);
    // Readers exclude the owner: the owner cannot see it at all.
    let mut h = contact_items(&Contact {
        last: "松本",
        first: "隆",
        company: "(株)テスト商事",
        title: "",
        mail: "matsumoto@test-shoji.example.jp",
        phone: "",
    });
    h.push(readers(&["CN=Hanako Admin/O=Sample"]));
    add(db, assumed::FORM_PERSON, h, now, 8);
}

fn todos(db: &mut Database, now: DateTime<Utc>) {
    #[rustfmt::skip]
    let list: Vec<Vec<(&str, Item)>> = vec![
        vec![(task::SUBJECT, t("株式会社サンプル 見積書を送付")), (task::DUE, Item::DateTime(jst(now, 2, 17, 0))), (task::IMPORTANCE, t("1")), (task::BODY, Item::RichText("山田様宛て。\n前回の値引き条件を反映すること。".into())), public()],
        vec![(task::SUBJECT, t("(株)テスト商事 契約書のレビュー")), (task::DUE, Item::DateTime(jst(now, 7, 12, 0))), (task::IMPORTANCE, t("2")), public()],
        vec![(task::SUBJECT, t("請求書の発行（4月分）")), (task::DUE, Item::DateTime(jst(now, -3, 17, 0))), (task::IMPORTANCE, t("1")), public()],
        vec![(task::SUBJECT, t("展示会の出展申込")), (task::DUE, Item::DateTime(jst(now, -12, 17, 0))), (task::COMPLETED, Item::DateTime(jst(now, -13, 10, 30))), (task::IMPORTANCE, t("2")), public()],
        vec![(task::SUBJECT, t("週次報告の作成")), (task::START, Item::DateTime(jst(now, 0, 9, 0))), (task::DUE, Item::DateTime(jst(now, 0, 18, 0))), (task::IMPORTANCE, t("3")), public()],
        vec![(task::SUBJECT, t("名刺の整理")), (task::IMPORTANCE, t("3")), public()],
        vec![(task::SUBJECT, t("健康診断の予約")), (task::DUE, Item::DateTime(jst(now, 5, 12, 0))), private()],
        vec![(task::SUBJECT, t("人事評価シートの提出")), (task::DUE, Item::DateTime(jst(now, 10, 17, 0))), readers(&["Takuya Yamada/Sample", "[HR]"])],
    ];
    for (i, items) in list.into_iter().enumerate() {
        add(db, assumed::FORM_TASK, items, now, 20 - i as i64);
    }
}

struct Event {
    subject: &'static str,
    location: &'static str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    kind: &'static str,
    class: &'static str,
    attendees: &'static [&'static str],
    tz: bool,
}

fn event_items(e: &Event) -> Vec<(&'static str, Item)> {
    let mut v = vec![
        (appt::SUBJECT, t(e.subject)),
        (appt::START, Item::DateTime(e.start)),
        (appt::END, Item::DateTime(e.end)),
        (appt::TYPE, t(e.kind)),
        (appt::CHAIR, t("山田 拓也 <tyamada@example.co.jp>")),
        (appt::SEQUENCE, Item::Number(0.0)),
        (
            appt::BUSY,
            t(if e.kind == appt::TYPE_ALL_DAY && e.class != "public" {
                "2"
            } else {
                "1"
            }),
        ),
    ];
    if e.tz {
        v.push((appt::TZID, t(appt::DEFAULT_TZ)));
    }
    if !e.location.is_empty() {
        v.push((appt::LOCATION, t(e.location)));
    }
    if !e.attendees.is_empty() {
        v.push((
            appt::ATTENDEES,
            Item::TextList(e.attendees.iter().map(|s| s.to_string()).collect()),
        ));
    }
    match e.class {
        "private" => v.push(private()),
        "confidential" => v.extend([private(), (appt::CLASS, t("confidential"))]),
        _ => v.push(public()),
    }
    v
}

fn events(db: &mut Database, now: DateTime<Utc>) {
    let day = |d: i64| jst(now, d, 0, 0);
    #[rustfmt::skip]
    let list = [
        Event { subject: "定例会議", location: "本社 3F 会議室A", start: jst(now, -25, 10, 0), end: jst(now, -25, 11, 0), kind: appt::TYPE_MEETING, class: "public", attendees: &["吉田 直樹 <n.yoshida@sample.example.jp>", "山田 太郎 <t.yamada@sample.example.jp>"], tz: true },
        Event { subject: "株式会社サンプル 打ち合わせ", location: "先方オフィス（新宿）", start: jst(now, -10, 14, 0), end: jst(now, -10, 15, 0), kind: appt::TYPE_APPOINTMENT, class: "public", attendees: &[], tz: true },
        Event { subject: "展示会（東京ビッグサイト）", location: "東京ビッグサイト", start: day(-3), end: day(-2), kind: appt::TYPE_ALL_DAY, class: "public", attendees: &[], tz: true },
        Event { subject: "朝会", location: "オンライン", start: jst(now, 0, 9, 30), end: jst(now, 0, 10, 0), kind: appt::TYPE_APPOINTMENT, class: "public", attendees: &[], tz: true },
        Event { subject: "歯医者", location: "", start: jst(now, 0, 18, 30), end: jst(now, 0, 19, 30), kind: appt::TYPE_APPOINTMENT, class: "private", attendees: &[], tz: true },
        Event { subject: "(株)テスト商事 来社", location: "本社 1F 応接室", start: jst(now, 2, 13, 0), end: jst(now, 2, 14, 0), kind: appt::TYPE_MEETING, class: "public", attendees: &["佐藤 花子 <h.sato@test-shoji.example.jp>"], tz: true },
        Event { subject: "人事面談", location: "本社 5F 小会議室", start: jst(now, 7, 10, 0), end: jst(now, 7, 11, 0), kind: appt::TYPE_APPOINTMENT, class: "confidential", attendees: &[], tz: true },
        Event { subject: "㈱みらい技研 契約締結", location: "先方オフィス（名古屋）", start: jst(now, 14, 16, 0), end: jst(now, 14, 17, 0), kind: appt::TYPE_APPOINTMENT, class: "public", attendees: &[], tz: false },
        Event { subject: "休暇", location: "", start: day(20), end: day(21), kind: appt::TYPE_ALL_DAY, class: "private", attendees: &[], tz: true },
        Event { subject: "経営会議", location: "本社 7F 役員会議室", start: jst(now, 45, 13, 0), end: jst(now, 45, 15, 0), kind: appt::TYPE_APPOINTMENT, class: "public", attendees: &[], tz: true },
    ];
    for (i, e) in list.iter().enumerate() {
        add(
            db,
            assumed::FORM_APPOINTMENT,
            event_items(e),
            now,
            30 - i as i64,
        );
    }
    // A Readers-restricted entry the owner can read.
    let mut r = event_items(&Event {
        subject: "役員報酬の検討",
        location: "",
        start: jst(now, 3, 17, 0),
        end: jst(now, 3, 18, 0),
        kind: appt::TYPE_APPOINTMENT,
        class: "public",
        attendees: &[],
        tz: true,
    });
    r.push(readers(&["Takuya Yamada/Sample", "[Board]"]));
    add(db, assumed::FORM_APPOINTMENT, r, now, 4);
    for d in db.docs.values_mut() {
        if d.form().as_deref() == Some(assumed::FORM_APPOINTMENT) {
            let id = d.unid.clone();
            d.set("ApptUNID", Item::text(id));
        }
    }
}

/// Generated records for benchmarks: `n` contacts, `n` to-dos and `n` events.
fn extra(db: &mut Database, n: usize, now: DateTime<Utc>) {
    for i in 0..n {
        let age = (i % 30) as i64 + 1;
        add(
            db,
            assumed::FORM_PERSON,
            vec![
                (person::LAST_NAME, t("試験")),
                (person::FIRST_NAME, t(&format!("利用者{i:05}"))),
                (
                    person::COMPANY,
                    t(&format!("株式会社テストデータ{:03}", i % 200)),
                ),
                (person::MAIL, t(&format!("user{i:05}@testdata.example.jp"))),
                (
                    person::OFFICE_PHONE,
                    t(&format!("03-0000-{:04}", i % 10000)),
                ),
                public(),
            ],
            now,
            age,
        );
        add(
            db,
            assumed::FORM_TASK,
            vec![
                (task::SUBJECT, t(&format!("生成タスク {i:05}"))),
                (
                    task::DUE,
                    Item::DateTime(jst(now, (i % 60) as i64 - 30, 17, 0)),
                ),
                (task::IMPORTANCE, t("2")),
                public(),
            ],
            now,
            age,
        );
        let s = jst(now, (i % 90) as i64 - 45, 9 + (i % 8) as u32, 0);
        add(
            db,
            assumed::FORM_APPOINTMENT,
            vec![
                (appt::SUBJECT, t(&format!("生成予定 {i:05}"))),
                (appt::START, Item::DateTime(s)),
                (appt::END, Item::DateTime(s + Duration::hours(1))),
                (appt::TYPE, t(appt::TYPE_APPOINTMENT)),
                (appt::TZID, t(appt::DEFAULT_TZ)),
                public(),
            ],
            now,
            age,
        );
    }
}

fn directory(now: DateTime<Utc>) -> Database {
    let mut db = Database::new(
        "names.nsf",
        "Sample's Directory",
        assumed::directory_views(now),
    );
    db.allow_rest = 1;
    let people = [
        ("山田", "拓也", "tyamada@example.co.jp", "営業部"),
        ("佐々木", "健二", "ksasaki@example.co.jp", "営業部"),
        ("森", "美香", "mmori@example.co.jp", "総務部"),
        ("石井", "亮", "rishii@example.co.jp", "情報システム部"),
    ];
    for (i, (last, first, mail, dept)) in people.iter().enumerate() {
        add(
            &mut db,
            assumed::FORM_PERSON,
            vec![
                (person::LAST_NAME, t(last)),
                (person::FIRST_NAME, t(first)),
                (person::MAIL, t(mail)),
                (person::DEPARTMENT, t(dept)),
            ],
            now,
            100 + i as i64,
        );
    }
    db
}

pub fn store(extra_records: usize, now: DateTime<Utc>) -> Store {
    let mut mail = Database::new(MAIL_DB, "山田 拓也 のメール", assumed::mail_views(now));
    contacts(&mut mail, now);
    todos(&mut mail, now);
    events(&mut mail, now);
    extra(&mut mail, extra_records, now);
    Store {
        users: vec![user()],
        databases: vec![mail, directory(now)],
        settings: Settings::default(),
    }
}
