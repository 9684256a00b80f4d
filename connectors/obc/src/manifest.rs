//! What the connector says about itself: the OAuth endpoints as `{base_url}` templates the hub
//! fills, the settings and credentials of both routes (cloud API and CSV folder), the API's rate
//! limit, the CSV route's actions and the sandbox preset.

use connector_sdk::{AuthSpec, Limits, Manifest, SandboxPreset, SettingField, SettingKind, Text};
use std::collections::BTreeMap;

use crate::assumed;

pub const CONNECTOR_ID: &str = "obc";

/// Setting keys.
pub const BASE_URL: &str = "base_url";
pub const TENANT_ID: &str = "tenant_id";
/// Credential keys.
pub const CLIENT_ID: &str = "client_id";
pub const CLIENT_SECRET: &str = "client_secret";
pub const SUBSCRIPTION_KEY: &str = "subscription_key";
/// A token issued in 管理ポータル (reference §2), for use without the OBCiD consent.
pub const FIXED_ACCESS_TOKEN: &str = "fixed_access_token";
/// What the hub passes after the OBCiD consent.
pub const ACCESS_TOKEN: &str = "access_token";

pub const READ_PAGE_SIZE: u32 = 500;
pub const WRITE_BATCH_SIZE: u32 = 200;

fn field(
    key: &str,
    label: Text,
    kind: SettingKind,
    pattern: Option<&str>,
    help: Option<Text>,
) -> SettingField {
    SettingField {
        key: key.into(),
        label,
        kind,
        // Nothing is required by itself: a connection uses the cloud API (base URL, keys,
        // sign-in), the CSV folder, or both; the connector says what is missing for each.
        required: false,
        pattern: pattern.map(str::to_string),
        help,
        default: None,
        endpoint: false,
    }
}

pub fn manifest() -> Manifest {
    Manifest {
        id: CONNECTOR_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        name: Text::new("OBC 奉行", "OBC Bugyo"),
        description: Text::new(
            "奉行クラウド API、またはオンプレミス奉行の CSV（フォルダ監視）で取引先・社員を連携します",
            "Customers and employees through the 奉行クラウド API or on-premise 奉行 CSV files (watched folder)",
        ),
        auth: AuthSpec::OAuth2 {
            authorize_url: format!("{{{BASE_URL}}}{}", assumed::AUTHORIZE_PATH),
            token_url: format!("{{{BASE_URL}}}{}", assumed::TOKEN_PATH),
            scopes: vec![],
            extra_authorize_params: vec![],
        },
        settings: settings(),
        credentials: credentials(),
        credentials_one_of: Vec::new(),
        registration_number_pattern: None,
        limits: Limits {
            read_page_size: READ_PAGE_SIZE,
            write_batch_size: WRITE_BATCH_SIZE,
            // The bucket is per tenant: one call at a time, paced to its refill rate.
            max_concurrency: 1,
            requests_per_second: Some(f64::from(assumed::REQUESTS_PER_MINUTE) / 60.0),
            daily_quota: None,
        },
        actions: obc_csv::actions(),
        sandbox: sandbox_presets(),
    }
}

fn settings() -> Vec<SettingField> {
    let mut s = vec![
        SettingField {
            endpoint: true,
            ..field(
                BASE_URL,
                Text::new("奉行クラウド API の URL", "奉行クラウド API URL"),
                SettingKind::Url,
                Some("^https?://"),
                Some(Text::new(
                    "奉行クラウド API を使うときに入力します（契約時に案内された URL）。CSV だけなら空欄です",
                    "For the 奉行クラウド API (the URL given with your contract). Leave empty for CSV only",
                )),
            )
        },
        field(
            TENANT_ID,
            Text::new("法人（テナント）", "Company (tenant)"),
            SettingKind::Text,
            None,
            Some(Text::new(
                "法人の ID・コード・名称のいずれか。空欄なら最初の法人を使います",
                "The company's id, code or name. Empty: the first company",
            )),
        ),
        field(
            obc_csv::ROOT_SETTING,
            Text::new("CSV 監視フォルダ", "CSV watch folder"),
            SettingKind::Path,
            None,
            Some(Text::new(
                "オンプレミス奉行の CSV を置くフォルダ（オブジェクトごとにサブフォルダ）",
                "Folder for on-premise 奉行 CSV files (a subfolder per object)",
            )),
        ),
    ];
    s.extend(obc_csv::settings());
    s
}

fn credentials() -> Vec<SettingField> {
    vec![
        field(
            CLIENT_ID,
            Text::new("クライアント ID", "Client ID"),
            SettingKind::Text,
            None,
            Some(Text::new(
                "奉行クラウド API の利用契約で発行されたもの（OBCiD でサインインするときに使います）",
                "Issued with the 奉行クラウド API contract (used to sign in with OBCiD)",
            )),
        ),
        field(
            CLIENT_SECRET,
            Text::new("クライアントシークレット", "Client secret"),
            SettingKind::Secret,
            None,
            None,
        ),
        field(
            SUBSCRIPTION_KEY,
            Text::new("サブスクリプションキー", "Subscription key"),
            SettingKind::Secret,
            None,
            Some(Text::new(
                "API の呼び出しごとに送るキー（本番環境と検証環境で別です）",
                "Sent with every API call (production and verification environments differ)",
            )),
        ),
        field(
            FIXED_ACCESS_TOKEN,
            Text::new("固定アクセストークン（任意）", "Fixed access token (optional)"),
            SettingKind::Secret,
            None,
            Some(Text::new(
                "管理ポータルの「外部サービス連携 → 連携アプリケーション → アクセストークンの発行」で発行したもの。OBCiD でサインインしたときはそちらを使います",
                "Issued in 管理ポータル (外部サービス連携 → 連携アプリケーション → アクセストークンの発行). An OBCiD sign-in takes precedence",
            )),
        ),
    ]
}

/// The sandbox's 奉行クラウド emulator with its fixed access token, so the connection works at
/// once; signing in with the announced OBCiD (許可する) replaces it with OAuth tokens.
fn sandbox_presets() -> Vec<SandboxPreset> {
    let mut settings = BTreeMap::new();
    settings.insert(BASE_URL.to_string(), "{/obc}".to_string());
    let mut credentials = BTreeMap::new();
    for key in [
        CLIENT_ID,
        CLIENT_SECRET,
        SUBSCRIPTION_KEY,
        FIXED_ACCESS_TOKEN,
    ] {
        credentials.insert(
            key.to_string(),
            format!("{{{}/{key}}}", assumed::SANDBOX_POINTER),
        );
    }
    vec![SandboxPreset {
        name: Text::new("奉行クラウド サンドボックス", "奉行クラウド sandbox"),
        settings,
        credentials,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_templates_use_the_base_url_and_nothing_is_required() {
        let m = manifest();
        match &m.auth {
            AuthSpec::OAuth2 {
                authorize_url,
                token_url,
                ..
            } => {
                assert_eq!(authorize_url, "{base_url}/oauth2/authorize");
                assert_eq!(token_url, "{base_url}/oauth2/token");
            }
            other => panic!("not OAuth2: {other:?}"),
        }
        assert!(m.settings.iter().chain(&m.credentials).all(|f| !f.required));
        assert!(m.settings.iter().any(|s| s.key == obc_csv::ROOT_SETTING));
        let p = &m.sandbox[0];
        assert_eq!(
            p.credentials[FIXED_ACCESS_TOKEN],
            "{/credentials/obc/fixed_access_token}"
        );
    }
}
