//! What the connector says about itself: the settings of a Domino connection, the password,
//! limits, the `change_password` action and the sandbox preset.

use connector_sdk::{
    ActionSpec, AuthSpec, Limits, Manifest, SandboxPreset, SelectOption, SettingField, SettingKind,
    Text,
};
use std::collections::BTreeMap;

use crate::assumed;

pub const CONNECTOR_ID: &str = "notes";

/// Setting keys.
pub const SERVER_URL: &str = "server_url";
pub const DATABASE: &str = "database";
pub const USERNAME: &str = "username";
pub const EVENTS_WINDOW: &str = "events_window";
/// Credential key.
pub const PASSWORD: &str = "password";

/// Action ids and their input keys.
pub const CHANGE_PASSWORD: &str = "change_password";
pub const NEW_PASSWORD: &str = "new_password";

/// Every record costs at least one document GET (views carry only their columns), so pages are
/// smaller than the Data service's 100.
pub const READ_PAGE_SIZE: u32 = 50;
/// DAS writes one document per request; a batch is a run of single requests.
pub const WRITE_BATCH_SIZE: u32 = 20;

fn field(key: &str, ja: &str, en: &str, kind: SettingKind, required: bool) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind,
        required,
        pattern: None,
        help: None,
        default: None,
        endpoint: false,
    }
}

pub fn manifest() -> Manifest {
    Manifest {
        id: CONNECTOR_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        name: Text::new("IBM Notes / HCL Domino", "IBM Notes / HCL Domino"),
        description: Text::new(
            "Domino アクセスサービス(DAS)で連絡先・ToDo・予定を連携します。サーバー、データベース、ビューで DAS を有効にしてください。",
            "Contacts, to-dos and calendar events through Domino Access Services (enable DAS on the server, the database and its views).",
        ),
        auth: AuthSpec::Password,
        settings: settings(),
        credentials: vec![SettingField {
            help: Some(Text::new(
                "Domino の個人文書に設定されたインターネットパスワード(HTTP パスワード)です。",
                "The Internet (HTTP) password of the user's Person document.",
            )),
            ..field(
                PASSWORD,
                "インターネットパスワード",
                "Internet password",
                SettingKind::Secret,
                true,
            )
        }],
        credentials_one_of: Vec::new(),
        registration_number_pattern: None,
        limits: Limits {
            read_page_size: READ_PAGE_SIZE,
            write_batch_size: WRITE_BATCH_SIZE,
            max_concurrency: 2,
            requests_per_second: None,
            daily_quota: None,
        },
        actions: vec![ActionSpec {
            id: CHANGE_PASSWORD.into(),
            label: Text::new("パスワード変更", "Change password"),
            help: Some(Text::new(
                "Notes / Domino でインターネットパスワードを変更したら、新しいパスワードをここに入力します。サーバーにサインインして確認してから保存します。",
                "After changing the Internet password in Notes / Domino, enter the new one here. It is checked by signing in to the server before it is stored.",
            )),
            inputs: vec![field(
                NEW_PASSWORD,
                "新しいパスワード",
                "New password",
                SettingKind::Secret,
                true,
            )],
            hidden: false,
        }],
        sandbox: vec![sandbox_preset()],
    }
}

fn settings() -> Vec<SettingField> {
    vec![
        SettingField {
            pattern: Some("^https?://".into()),
            endpoint: true,
            help: Some(Text::new(
                "例: https://domino.example.co.jp",
                "e.g. https://domino.example.co.jp",
            )),
            ..field(
                SERVER_URL,
                "サーバー URL",
                "Server URL",
                SettingKind::Url,
                true,
            )
        },
        SettingField {
            help: Some(Text::new(
                "データディレクトリからのパス。例: mail/tyamada.nsf",
                "Path below the data directory, e.g. mail/tyamada.nsf",
            )),
            ..field(
                DATABASE,
                "メールデータベース",
                "Mail database",
                SettingKind::Text,
                true,
            )
        },
        SettingField {
            help: Some(Text::new(
                "短縮名、フルネーム、またはインターネットアドレス",
                "Short name, full name or Internet address",
            )),
            ..field(USERNAME, "ユーザー名", "User name", SettingKind::Text, true)
        },
        SettingField {
            default: Some(crate::window::ALL.into()),
            ..events_window_field()
        },
    ]
}

/// Which calendar range a read covers: a connection setting (default all) and the events
/// object's read option, where a flow may choose another range (unset: the setting's).
pub fn events_window_field() -> SettingField {
    let window = |v: &str, ja: &str, en: &str| SelectOption {
        value: v.into(),
        label: Text::new(ja, en),
    };
    SettingField {
        help: Some(Text::new(
            "同期する予定の範囲です。",
            "Which calendar events are read.",
        )),
        ..field(
            EVENTS_WINDOW,
            "予定の対象期間",
            "Events window",
            SettingKind::Select {
                options: vec![
                    window(crate::window::ALL, "すべての予定", "All events"),
                    window(crate::window::TODAY, "今日の予定", "Today's events"),
                    window(
                        crate::window::PAST_MONTH,
                        "過去1か月の予定",
                        "The past month's events",
                    ),
                ],
            },
            false,
        )
    }
}

/// The seeded user's mail file of the sandbox's Domino emulator.
fn sandbox_preset() -> SandboxPreset {
    let mut settings = BTreeMap::new();
    settings.insert(SERVER_URL.to_string(), assumed::SANDBOX_SERVER.to_string());
    settings.insert(DATABASE.to_string(), assumed::SANDBOX_DATABASE.to_string());
    settings.insert(USERNAME.to_string(), assumed::SANDBOX_USERNAME.to_string());
    settings.insert(EVENTS_WINDOW.to_string(), crate::window::ALL.to_string());
    let mut credentials = BTreeMap::new();
    credentials.insert(PASSWORD.to_string(), assumed::SANDBOX_PASSWORD.to_string());
    SandboxPreset {
        name: Text::new("IBM Notes サンドボックス", "IBM Notes sandbox"),
        settings,
        credentials,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_and_its_secret_are_declared() {
        let m = manifest();
        assert_eq!(m.auth.kind_name(), "password");
        let a = m.actions.iter().find(|a| a.id == CHANGE_PASSWORD).unwrap();
        assert!(matches!(a.inputs[0].kind, SettingKind::Secret));
        assert!(m.credentials.iter().any(|c| c.key == PASSWORD));
        let p = &m.sandbox[0];
        assert_eq!(p.credentials[PASSWORD], "{/credentials/domino/password}");
        assert_eq!(p.settings[SERVER_URL], "{/domino}");
    }
}
