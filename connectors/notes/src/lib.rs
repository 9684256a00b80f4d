//! IBM Notes / HCL Domino connector (Domino Access Services). This version declares the
//! connector — settings, auth, limits, the sandbox preset — so connections can be created and
//! listed; reading and writing contacts, to-dos and events is not built yet and answers a clear
//! `unsupported` error instead of guessing.

use connector_sdk::*;

pub struct Notes;

fn text_setting(
    key: &str,
    ja: &str,
    en: &str,
    kind: SettingKind,
    required: bool,
    help: Option<Text>,
    default: Option<&str>,
) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind,
        required,
        pattern: None,
        help,
        default: default.map(String::from),
    }
}

fn not_built(what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Unsupported,
        format!("the Notes connector cannot {what} yet"),
    )
    .with_code("not_available")
    .with_ja("IBM Notes コネクタのこの機能はまだ利用できません")
}

impl Connector for Notes {
    fn manifest(&self) -> Manifest {
        let window = |v: &str, ja: &str, en: &str| SelectOption {
            value: v.into(),
            label: Text::new(ja, en),
        };
        Manifest {
            id: "notes".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            name: Text::new("IBM Notes / HCL Domino", "IBM Notes / HCL Domino"),
            description: Text::new(
                "Domino Access Services で連絡先・ToDo・予定を連携します",
                "Contacts, to-dos and calendar events through Domino Access Services",
            ),
            auth: AuthSpec::Password,
            settings: vec![
                text_setting(
                    "server_url",
                    "サーバー URL",
                    "Server URL",
                    SettingKind::Url,
                    true,
                    Some(Text::new(
                        "例: https://domino.example.co.jp",
                        "e.g. https://domino.example.co.jp",
                    )),
                    None,
                ),
                text_setting(
                    "database",
                    "メールデータベース",
                    "Mail database",
                    SettingKind::Text,
                    true,
                    Some(Text::new("例: mail/tyamada.nsf", "e.g. mail/tyamada.nsf")),
                    None,
                ),
                text_setting(
                    "username",
                    "ユーザー名",
                    "User name",
                    SettingKind::Text,
                    true,
                    None,
                    None,
                ),
                text_setting(
                    "events_window",
                    "予定の対象期間",
                    "Events window",
                    SettingKind::Select {
                        options: vec![
                            window("all", "すべて", "All"),
                            window("today", "今日", "Today"),
                            window("past_month", "過去1か月", "The past month"),
                        ],
                    },
                    false,
                    None,
                    Some("all"),
                ),
            ],
            credentials: vec![text_setting(
                "password",
                "インターネットパスワード",
                "Internet password",
                SettingKind::Secret,
                true,
                None,
                None,
            )],
            registration_number_pattern: None,
            limits: Limits {
                read_page_size: 100,
                write_batch_size: 20,
                max_concurrency: 2,
                requests_per_second: None,
                daily_quota: None,
            },
            actions: vec![ActionSpec {
                id: "change_password".into(),
                label: Text::new("パスワード変更", "Change password"),
            }],
            // A sandbox preset ({/domino}, {/credentials/domino/…}) comes with the data calls.
            sandbox: vec![],
        }
    }

    fn check(&self, _conn: &Connection) -> Result<CheckResult, ConnectorError> {
        Err(not_built("test the connection"))
    }

    fn objects(&self, _conn: &Connection) -> Result<Vec<ObjectSchema>, ConnectorError> {
        Err(not_built("list its objects"))
    }

    fn read(&self, _conn: &Connection, _req: &ReadRequest) -> Result<ReadPage, ConnectorError> {
        Err(not_built("read records"))
    }

    fn write(
        &self,
        _conn: &Connection,
        _req: &WriteRequest,
    ) -> Result<Vec<WriteResult>, ConnectorError> {
        Err(not_built("write records"))
    }
}

connector_sdk::export_connector!(Notes);
