//! What the connector says about itself: the settings the "新しい接続" wizard renders, the
//! credentials, the API limits, and the sandbox presets filled from `hub sandbox`'s announcement.

use connector_sdk::{
    AuthSpec, DailyQuota, Limits, Manifest, SandboxPreset, SettingField, SettingKind, Text,
};
use std::collections::BTreeMap;

pub const CONNECTOR_ID: &str = "kintone";

/// Setting keys.
pub const BASE_URL: &str = "base_url";
pub const APPS: &str = "apps";
pub const GUEST_SPACE_ID: &str = "guest_space_id";
pub const BASIC_AUTH_USER: &str = "basic_auth_user";
/// Credential keys.
pub const API_TOKEN: &str = "api_token";
pub const USERNAME: &str = "username";
pub const PASSWORD: &str = "password";
pub const BASIC_AUTH_PASSWORD: &str = "basic_auth_password";

/// records.json's maximum `limit` (reference: GET limits).
pub const READ_PAGE_SIZE: u32 = 500;
/// A records.json call takes 100 records and a bulkRequest 20 calls (§3, §5): a batch of up to
/// 2,000 ops goes out as one bulkRequest (the hub's batches are also bounded by its read page).
pub const WRITE_BATCH_SIZE: u32 = 2_000;
/// Records per records.json call.
pub const RECORDS_PER_CALL: usize = 100;
/// Calls per bulkRequest.
pub const CALLS_PER_BULK: usize = 20;

pub fn manifest() -> Manifest {
    Manifest {
        id: CONNECTOR_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        name: Text::new("kintone", "kintone"),
        description: Text::new(
            "kintoneアプリ(顧客管理・活動履歴など)のレコードを読み書きします。フィールドコードは日本語のまま使えます。",
            "Reads and writes records of kintone apps (customers, activity logs…), Japanese field codes included.",
        ),
        auth: AuthSpec::ApiToken,
        settings: settings(),
        credentials: credentials(),
        // An API token, or a login name with its password (password sign-in).
        credentials_one_of: vec![vec![API_TOKEN.into()], vec![USERNAME.into(), PASSWORD.into()]],
        registration_number_pattern: None,
        limits: Limits {
            read_page_size: READ_PAGE_SIZE,
            write_batch_size: WRITE_BATCH_SIZE,
            // The domain allows 100 concurrent calls (§10), shared with every other client.
            max_concurrency: 4,
            requests_per_second: None,
            daily_quota: Some(DailyQuota {
                requests: 10_000,
                per: "app".into(),
                resets_at: Some("09:00+09:00".into()),
            }),
        },
        actions: Vec::new(),
        sandbox: sandbox_presets(),
    }
}

fn text_field(key: &str, ja: &str, en: &str, required: bool) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind: SettingKind::Text,
        required,
        pattern: None,
        help: None,
        default: None,
        endpoint: false,
    }
}

fn settings() -> Vec<SettingField> {
    vec![
        SettingField {
            kind: SettingKind::Url,
            endpoint: true,
            help: Some(Text::new(
                "https://{ドメイン}.cybozu.com の形式、またはドメイン部分のみ(例: example)。プロキシ経由の場合は完全なURL。",
                "https://{subdomain}.cybozu.com, or only the subdomain (e.g. example); a full URL for a proxy.",
            )),
            ..text_field(BASE_URL, "kintoneのURL(ドメイン)", "kintone URL (domain)", true)
        },
        SettingField {
            pattern: Some(r"^\s*\d+(\s*,\s*\d+)*\s*$".into()),
            help: Some(Text::new(
                "アプリを開いたときのURL https://{ドメイン}.cybozu.com/k/14/ の14がアプリIDです。複数はカンマ区切り(例: 14,15)。",
                "The number in the app's URL (…/k/14/). Several apps separated by commas (e.g. 14,15).",
            )),
            ..text_field(APPS, "アプリID", "App IDs", true)
        },
        SettingField {
            pattern: Some(r"^\s*\d*\s*$".into()),
            help: Some(Text::new(
                "ゲストスペース内のアプリの場合のみ入力します。",
                "Only for apps in a guest space.",
            )),
            ..text_field(
                GUEST_SPACE_ID,
                "ゲストスペースID",
                "Guest space ID",
                false,
            )
        },
        SettingField {
            help: Some(Text::new(
                "kintoneの前にBasic認証がある場合のみ入力します。",
                "Only when a Basic-auth layer sits in front of kintone.",
            )),
            ..text_field(
                BASIC_AUTH_USER,
                "Basic認証のユーザー名",
                "Basic auth user",
                false,
            )
        },
    ]
}

fn secret(key: &str, ja: &str, en: &str, help: Text) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind: SettingKind::Secret,
        required: false,
        pattern: None,
        help: Some(help),
        default: None,
        endpoint: false,
    }
}

fn credentials() -> Vec<SettingField> {
    vec![
        secret(
            API_TOKEN,
            "APIトークン",
            "API token",
            Text::new(
                "アプリの設定 > APIトークン で生成します。アクセス権は レコード閲覧・追加・編集(削除を同期する場合は削除も)。複数のアプリはトークンをカンマ区切りで入力します。設定後、アプリを更新してください。",
                "Generate it under App settings > API token, with view, add and edit (and delete) records; several apps: tokens separated by commas. Update the app afterwards.",
            ),
        ),
        SettingField {
            kind: SettingKind::Text,
            ..secret(
                USERNAME,
                "ログイン名(パスワード認証の場合)",
                "Login name (password sign-in)",
                Text::new(
                    "APIトークンの代わりにパスワード認証を使う場合のみ。2段階認証が有効なアカウントでは使えません。",
                    "Only instead of an API token. Does not work for accounts with two-factor authentication.",
                ),
            )
        },
        secret(
            PASSWORD,
            "パスワード",
            "Password",
            Text::new(
                "パスワード認証の場合のみ。",
                "Only for password sign-in.",
            ),
        ),
        secret(
            BASIC_AUTH_PASSWORD,
            "Basic認証のパスワード",
            "Basic auth password",
            Text::new(
                "kintoneの前にBasic認証がある場合のみ。",
                "Only when a Basic-auth layer sits in front of kintone.",
            ),
        ),
    ]
}

/// One preset per seeded app of the kintone emulator. The announcement carries
/// `credentials.kintone.apps[i] = {id, name, api_token, guest_space_id}` (apps by id:
/// 1 顧客管理, 2 活動履歴, 3 問い合わせ管理 in guest space 1).
fn sandbox_presets() -> Vec<SandboxPreset> {
    [
        (0, "顧客管理", "Customers", false),
        (1, "活動履歴", "Activity log", false),
        (2, "問い合わせ管理", "Inquiries (guest space)", true),
    ]
    .into_iter()
    .map(|(i, ja, en, guest)| {
        let at = |key: &str| format!("{{/credentials/kintone/apps/{i}/{key}}}");
        let mut settings = BTreeMap::from([
            (BASE_URL.to_string(), "{/kintone}".to_string()),
            (APPS.to_string(), at("id")),
        ]);
        if guest {
            settings.insert(GUEST_SPACE_ID.to_string(), at("guest_space_id"));
        }
        SandboxPreset {
            name: Text::new(
                format!("サンドボックス kintone {ja}"),
                format!("Sandbox kintone {en}"),
            ),
            settings,
            credentials: BTreeMap::from([(API_TOKEN.to_string(), at("api_token"))]),
        }
    })
    .collect()
}
