//! 新しい接続 for an OAuth connector against the sandbox's Zoho accounts server, and
//! 連携トークンの更新 on the connection it makes.

use serde_json::Value;

use crate::support::{fill, Browser, R};

/// 新しい接続 for an OAuth connector: client id and secret, then the provider's consent page
/// (the sandbox's Zoho accounts server), back to the wizard, 接続テスト, save; then
/// 連携トークンの更新 refreshes its token.
pub async fn oauth_wizard(b: &mut Browser, url: &dyn Fn(&str) -> String, a: &Value) -> R {
    let org = "/credentials/zoho/orgs/0";
    let get = |p: &str| {
        fill(&format!("{{{org}/{p}}}"), a).ok_or(format!("no {org}/{p} in the announcement"))
    };
    let accounts = fill("{/zoho_accounts}", a).ok_or("no zoho_accounts URL")?;
    let crm = fill("{/zoho_crm}", a).ok_or("no zoho_crm URL")?;
    b.goto(&url("/connections/new")).await?;
    b.click("input[name='connector'][value='zoho-crm']").await?;
    b.click("#wizard-next").await?;
    b.sees(&["クライアント ID とシークレット", "許可する"])
        .await?;
    b.type_into("[name='c.client_id']", &get("client_id")?)
        .await?;
    b.type_into("[name='c.client_secret']", &get("client_secret")?)
        .await?;
    b.type_into("[name='s.accounts_url']", &accounts).await?;
    b.shot("oauth-1-client").await?;
    b.click("#wizard-next").await?;
    b.click("#registered").await?;
    b.type_into("#registration_number", "ZOHO-0001").await?;
    b.type_into("#phone", "03-5555-0000").await?;
    b.click("#wizard-next").await?;
    b.type_into("#name", "E2E Zoho").await?;
    b.type_into("[name='s.api_domain']", &crm).await?;
    b.sees(&["設定を保存するとサービスのサインイン画面が開きます"])
        .await?;
    b.click("#oauth-signin").await?;
    // The provider's page: sign in there and accept.
    b.find("button[value='allow']").await?;
    if let Ok(e) =
        b.c.find(fantoccini::Locator::Css("input[name='email']"))
            .await
    {
        e.send_keys(&get("user/email")?)
            .await
            .map_err(|e| e.to_string())?;
        b.type_into("input[name='password']", &get("user/password")?)
            .await?;
    }
    b.shot("oauth-2-provider-consent").await?;
    b.click("button[value='allow']").await?;
    b.find("#connection-test").await?;
    b.sees(&["サインインしました"]).await?;
    b.click("#connection-test").await?;
    b.find("#check-result").await?;
    b.sees(&["接続できました"]).await?;
    b.shot("oauth-3-signed-in-tested").await?;
    b.click("#wizard-save").await?;
    b.sees(&["接続「E2E Zoho」を保存しました"]).await?;
    // 連携トークンの更新: the token is valid, and 更新する gets a new one.
    b.goto(&url("/settings/tokens")).await?;
    let cells = b.js("return Array.from(document.querySelectorAll('#tokens tbody tr')).filter(r => r.textContent.includes('E2E Zoho')).map(r => r.textContent).join('|')").await?;
    let text = cells.as_str().unwrap_or("");
    if !text.contains("有効") {
        return Err(format!("the Zoho token should be valid: {text}"));
    }
    b.js("Array.from(document.querySelectorAll('#tokens tbody tr')).find(r => r.textContent.includes('E2E Zoho')).querySelector('form[action$=\"/refresh\"] button').click()").await?;
    b.until("the refresh result", "document.getElementById('flash') && document.getElementById('flash').textContent.includes('E2E Zoho')").await?;
    b.sees(&["接続「E2E Zoho」の連携トークンを更新しました"])
        .await?;
    b.shot("oauth-4-token-refreshed").await
}
