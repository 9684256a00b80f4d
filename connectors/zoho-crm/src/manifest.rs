//! What the connector says about itself: OAuth endpoints as templates the hub fills from the
//! connection's settings, the data-centre choice, limits, and the sandbox presets.

use connector_sdk::{
    AuthSpec, DailyQuota, Limits, Manifest, SandboxPreset, SelectOption, SettingField, SettingKind,
    Text,
};
use std::collections::BTreeMap;

use crate::assumed;

pub const CONNECTOR_ID: &str = "zoho-crm";

/// Setting keys.
pub const DATA_CENTRE: &str = "data_centre";
pub const ACCOUNTS_URL: &str = "accounts_url";
pub const API_DOMAIN: &str = "api_domain";

/// One Zoho data centre (reference §1): the accounts server is the Select's value, the API
/// domain is derived from it.
pub struct DataCentre {
    pub code: &'static str,
    pub label_ja: &'static str,
    pub accounts: &'static str,
    pub api_domain: &'static str,
}

pub const DATA_CENTRES: &[DataCentre] = &[
    DataCentre {
        code: "JP",
        label_ja: "日本 (JP)",
        accounts: "https://accounts.zoho.jp",
        api_domain: "https://www.zohoapis.jp",
    },
    DataCentre {
        code: "US",
        label_ja: "米国 (US)",
        accounts: "https://accounts.zoho.com",
        api_domain: "https://www.zohoapis.com",
    },
    DataCentre {
        code: "EU",
        label_ja: "欧州 (EU)",
        accounts: "https://accounts.zoho.eu",
        api_domain: "https://www.zohoapis.eu",
    },
    DataCentre {
        code: "IN",
        label_ja: "インド (IN)",
        accounts: "https://accounts.zoho.in",
        api_domain: "https://www.zohoapis.in",
    },
    DataCentre {
        code: "AU",
        label_ja: "オーストラリア (AU)",
        accounts: "https://accounts.zoho.com.au",
        api_domain: "https://www.zohoapis.com.au",
    },
    DataCentre {
        code: "CN",
        label_ja: "中国 (CN)",
        accounts: "https://accounts.zoho.com.cn",
        api_domain: "https://www.zohoapis.com.cn",
    },
    DataCentre {
        code: "CA",
        label_ja: "カナダ (CA)",
        accounts: "https://accounts.zohocloud.ca",
        api_domain: "https://www.zohoapis.ca",
    },
    DataCentre {
        code: "SA",
        label_ja: "サウジアラビア (SA)",
        accounts: "https://accounts.zoho.sa",
        api_domain: "https://www.zohoapis.sa",
    },
];

pub const SCOPES: &[&str] = &[
    "ZohoCRM.modules.ALL",
    "ZohoCRM.settings.ALL",
    "ZohoCRM.users.READ",
    "ZohoCRM.org.READ",
];

pub const READ_PAGE_SIZE: u32 = 200;
pub const WRITE_BATCH_SIZE: u32 = 100;

pub fn manifest() -> Manifest {
    Manifest {
        id: CONNECTOR_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        name: Text::new("Zoho CRM", "Zoho CRM"),
        description: Text::new(
            "Zoho CRM のモジュール(取引先・連絡先・見込み客・商談など)を読み書きします。",
            "Reads and writes Zoho CRM modules (Accounts, Contacts, Leads, Deals…).",
        ),
        auth: AuthSpec::OAuth2 {
            authorize_url: format!("{{{ACCOUNTS_URL}|{DATA_CENTRE}}}/oauth/v2/auth"),
            token_url: format!("{{{ACCOUNTS_URL}|{DATA_CENTRE}}}/oauth/v2/token"),
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            extra_authorize_params: vec![
                ("access_type".into(), "offline".into()),
                ("prompt".into(), "consent".into()),
            ],
        },
        settings: settings(),
        credentials: vec![
            SettingField {
                key: "client_id".into(),
                label: Text::new("クライアントID", "Client ID"),
                kind: SettingKind::Text,
                required: true,
                pattern: None,
                help: Some(Text::new(
                    "Zoho API コンソール (api-console.zoho.com) でサーバーベースのアプリケーションを登録して取得します。",
                    "Register a server-based application in the Zoho API Console (api-console.zoho.com).",
                )),
                default: None,
                endpoint: false,
            },
            SettingField {
                key: "client_secret".into(),
                label: Text::new("クライアントシークレット", "Client secret"),
                kind: SettingKind::Secret,
                required: true,
                pattern: None,
                help: None,
                default: None,
                endpoint: false,
            },
        ],
        credentials_one_of: Vec::new(),
        registration_number_pattern: None,
        limits: Limits {
            read_page_size: READ_PAGE_SIZE,
            write_batch_size: WRITE_BATCH_SIZE,
            max_concurrency: assumed::MAX_CONCURRENCY,
            requests_per_second: None,
            daily_quota: Some(DailyQuota {
                requests: assumed::DAILY_CREDITS,
                per: "org".into(),
                // A rolling 24-hour window (reference §10), not a fixed reset time.
                resets_at: None,
            }),
        },
        actions: Vec::new(),
        sandbox: sandbox_presets(),
    }
}

fn settings() -> Vec<SettingField> {
    let default_dc = DATA_CENTRES.first().map(|d| d.accounts.to_string());
    vec![
        SettingField {
            key: DATA_CENTRE.into(),
            label: Text::new("データセンター", "Data centre"),
            kind: SettingKind::Select {
                options: DATA_CENTRES
                    .iter()
                    .map(|d| SelectOption {
                        value: d.accounts.into(),
                        label: Text::new(d.label_ja, d.code),
                    })
                    .collect(),
            },
            required: true,
            pattern: None,
            help: Some(Text::new(
                "Zoho CRM にログインするときのドメイン(zoho.jp なら日本)で選びます。",
                "The domain you sign in to Zoho CRM with (zoho.com is US).",
            )),
            default: default_dc,
            endpoint: true,
        },
        SettingField {
            key: ACCOUNTS_URL.into(),
            label: Text::new("認証サーバーURL(任意)", "Accounts server URL (optional)"),
            kind: SettingKind::Url,
            required: false,
            pattern: Some("^https?://".into()),
            help: Some(Text::new(
                "通常は空欄です。サンドボックスや独自の認証サーバーを使うときだけ入力します。",
                "Leave empty unless you use the sandbox or another accounts server.",
            )),
            default: None,
            endpoint: true,
        },
        SettingField {
            key: API_DOMAIN.into(),
            label: Text::new("APIドメイン(任意)", "API domain (optional)"),
            kind: SettingKind::Url,
            required: false,
            pattern: Some("^https?://".into()),
            help: Some(Text::new(
                "通常は空欄です(データセンターから決まります)。Zoho のサンドボックス環境なら https://sandbox.zohoapis.jp などを入力します。",
                "Leave empty to derive it from the data centre; e.g. https://sandbox.zohoapis.com for a Zoho sandbox.",
            )),
            default: None,
            endpoint: true,
        },
    ]
}

/// Org A and org B of the sandbox's Zoho emulator, each with its own OAuth client and a
/// pre-minted refresh token so the hub can get access tokens without a consent page.
fn sandbox_presets() -> Vec<SandboxPreset> {
    let preset = |ja: &str, en: &str, org: usize| {
        let mut settings = BTreeMap::new();
        settings.insert(ACCOUNTS_URL.to_string(), "{/zoho_accounts}".to_string());
        settings.insert(API_DOMAIN.to_string(), "{/zoho_crm}".to_string());
        let mut credentials = BTreeMap::new();
        for key in ["client_id", "client_secret", "refresh_token"] {
            credentials.insert(
                key.to_string(),
                format!("{{{}/{key}}}", assumed::sandbox_org_pointer(org)),
            );
        }
        SandboxPreset {
            name: Text::new(ja, en),
            settings,
            credentials,
        }
    };
    vec![
        preset(
            "Zoho CRM サンドボックス(組織A)",
            "Zoho CRM sandbox (org A)",
            0,
        ),
        preset(
            "Zoho CRM サンドボックス(組織B)",
            "Zoho CRM sandbox (org B)",
            1,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_templates_prefer_a_custom_accounts_server() {
        let m = manifest();
        match m.auth {
            AuthSpec::OAuth2 {
                authorize_url,
                token_url,
                extra_authorize_params,
                ..
            } => {
                assert_eq!(authorize_url, "{accounts_url|data_centre}/oauth/v2/auth");
                assert_eq!(token_url, "{accounts_url|data_centre}/oauth/v2/token");
                assert!(extra_authorize_params.contains(&("access_type".into(), "offline".into())));
            }
            other => panic!("not OAuth2: {other:?}"),
        }
        let dc = m.settings.iter().find(|s| s.key == DATA_CENTRE).unwrap();
        assert_eq!(dc.default.as_deref(), Some("https://accounts.zoho.jp"));
    }
}
