//! OBC 奉行 connector: 奉行クラウド API (OAuth2 with OBCiD consent and a subscription key) and
//! on-premise 奉行 CSV through a watched folder. This version declares the connector — settings,
//! auth, limits — so connections can be created and listed; reading and writing 取引先 and 社員
//! is not built yet and answers a clear `unsupported` error instead of guessing.

use connector_sdk::*;

pub struct Obc;

fn setting(
    key: &str,
    ja: &str,
    en: &str,
    kind: SettingKind,
    required: bool,
    help: Option<Text>,
) -> SettingField {
    SettingField {
        key: key.into(),
        label: Text::new(ja, en),
        kind,
        required,
        pattern: None,
        help,
        default: None,
    }
}

fn not_built(what: &str) -> ConnectorError {
    ConnectorError::new(
        ErrorKind::Unsupported,
        format!("the 奉行 connector cannot {what} yet"),
    )
    .with_code("not_available")
    .with_ja("奉行コネクタのこの機能はまだ利用できません")
}

impl Connector for Obc {
    fn manifest(&self) -> Manifest {
        Manifest {
            id: "obc".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            name: Text::new("OBC 奉行", "OBC Bugyo"),
            description: Text::new("奉行クラウド API、またはオンプレミス奉行の CSV（フォルダ監視）で取引先・社員を連携します", "Customers and employees through the 奉行クラウド API or on-premise 奉行 CSV files (watched folder)"),
            auth: AuthSpec::OAuth2 {
                authorize_url: "{base_url}/oauth2/authorize".into(),
                token_url: "{base_url}/oauth2/token".into(),
                scopes: vec![],
                extra_authorize_params: vec![],
            },
            settings: vec![
                setting("base_url", "奉行クラウド API の URL", "奉行クラウド API URL", SettingKind::Url, true, Some(Text::new("契約時に案内された URL", "The URL given with your contract"))),
                setting("tenant_id", "法人（テナント）ID", "Company (tenant) ID", SettingKind::Text, false, Some(Text::new("空欄なら最初の法人を使います", "Empty: the first company"))),
                setting("csv_root", "CSV 監視フォルダ", "CSV watch folder", SettingKind::Path, false, Some(Text::new("オンプレミス奉行の CSV を置くフォルダ（オブジェクトごとにサブフォルダ）", "Folder for on-premise 奉行 CSV files (a subfolder per object)"))),
            ],
            credentials: vec![
                setting("client_id", "クライアント ID", "Client ID", SettingKind::Secret, true, None),
                setting("client_secret", "クライアントシークレット", "Client secret", SettingKind::Secret, true, None),
                setting("subscription_key", "サブスクリプションキー", "Subscription key", SettingKind::Secret, true, None),
            ],
            registration_number_pattern: None,
            limits: Limits { read_page_size: 100, write_batch_size: 100, max_concurrency: 1, requests_per_second: Some(1.0), daily_quota: None },
            actions: vec![],
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

connector_sdk::export_connector!(Obc);
