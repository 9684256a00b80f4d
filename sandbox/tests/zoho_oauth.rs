//! The Zoho accounts server as an application sees it (reference/zoho-crm.md §2–§3): the
//! consent page driven with a plain HTTP client, code exchange, refresh, revoke, and the
//! token errors.

mod zoho_support;

use axum::extract::Query;
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Client;
use serde_json::{json, Value};
use std::collections::HashMap;
use zoho_support::{start, Zoho};

const SCOPE: &str = "ZohoCRM.modules.ALL,ZohoCRM.settings.ALL,ZohoCRM.users.READ,ZohoCRM.org.READ";

/// A local application callback that answers with the query it received.
async fn callback_server() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/callback",
        l.local_addr().unwrap().port()
    );
    let app = Router::new().route(
        "/callback",
        get(|Query(q): Query<HashMap<String, String>>| async move { Json(q) }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    url
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in page"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn consent_page(z: &Zoho, org: usize, callback: &str) -> String {
    let r = z
        .http
        .get(format!("{}/oauth/v2/auth", z.accounts))
        .query(&[
            ("client_id", z.cred(org, "client_id").as_str()),
            ("response_type", "code"),
            ("redirect_uri", callback),
            ("scope", SCOPE),
            ("state", "st-42"),
            ("access_type", "offline"),
            ("prompt", "consent"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

async fn token_call(z: &Zoho, form: &[(&str, &str)]) -> Value {
    let r = z
        .http
        .post(format!("{}/oauth/v2/token", z.accounts))
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "token errors are HTTP 200 (assumed)");
    r.json().await.unwrap()
}

/// A multipart/form-data body as the Node SDK sends it.
fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----sandboxboundary7d93";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn consent_page_to_crm_call_then_expiry_and_refresh() {
    let z = start(0).await;
    let cb = callback_server().await;
    let (client_id, secret) = (z.cred(0, "client_id"), z.cred(0, "client_secret"));

    let page = consent_page(&z, 0, &cb).await;
    assert!(
        page.contains("株式会社サンプル本社"),
        "the page names the org"
    );
    assert!(page.contains("承認する") && page.contains("拒否する"));
    assert!(page.contains("ZohoCRM.modules.ALL"));
    assert!(
        page.contains("name=\"password\""),
        "a new browser must sign in"
    );

    // Allow, following the redirect to the local callback like a browser would.
    let browser = Client::new();
    let email = z.org(0)["user"]["email"].as_str().unwrap().to_string();
    let password = z.org(0)["user"]["password"].as_str().unwrap().to_string();
    let r = browser
        .post(format!("{}/oauth/v2/auth", z.accounts))
        .form(&[
            ("request_id", hidden(&page, "request_id").as_str()),
            ("email", email.as_str()),
            ("password", password.as_str()),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.url().as_str().starts_with(&cb), "landed on {}", r.url());
    let got: HashMap<String, String> = r.json().await.unwrap();
    assert_eq!(got["state"], "st-42");
    assert_eq!(got["location"], "jp");
    assert_eq!(got["accounts-server"], z.accounts);
    let code = got["code"].clone();

    let grant = token_call(
        &z,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("redirect_uri", &cb),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(grant["api_domain"], z.crm.as_str());
    assert_eq!(grant["token_type"], "Bearer");
    assert_eq!(grant["expires_in"], 3600);
    let access = grant["access_token"].as_str().unwrap().to_string();
    let refresh = grant["refresh_token"].as_str().unwrap().to_string();

    let (s, me) = Zoho::send(z.get(&access, "users?type=CurrentUser")).await;
    assert_eq!(s, 200);
    assert_eq!(me["users"][0]["email"], email.as_str());

    // A code works once.
    let again = token_call(
        &z,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("redirect_uri", &cb),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(again, json!({"error": "invalid_code"}));

    let r = z
        .http
        .post(format!("{}/_sandbox/zoho/expire-tokens", z.accounts))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, err) = Zoho::send(z.get(&access, "org")).await;
    assert_eq!(s, 401);
    assert_eq!(err["code"], "INVALID_TOKEN");

    // Refresh the way the Node SDK does: multipart/form-data.
    let (ctype, body) = multipart(&[
        ("grant_type", "refresh_token"),
        ("client_id", &client_id),
        ("client_secret", &secret),
        ("refresh_token", &refresh),
    ]);
    let r = z
        .http
        .post(format!("{}/oauth/v2/token", z.accounts))
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap();
    let renewed: Value = r.json().await.unwrap();
    assert!(renewed.get("refresh_token").is_none(), "{renewed}");
    let access2 = renewed["access_token"].as_str().unwrap();
    let (s, org) = Zoho::send(z.get(access2, "org")).await;
    assert_eq!(s, 200);
    assert_eq!(org["org"][0]["company_name"], "株式会社サンプル本社");

    let bad = token_call(
        &z,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &client_id),
            ("client_secret", "wrong"),
            ("refresh_token", &refresh),
        ],
    )
    .await;
    assert_eq!(bad, json!({"error": "invalid_client"}));
}

#[tokio::test]
async fn wrong_password_stays_on_the_page_and_deny_returns_access_denied() {
    let z = start(0).await;
    let cb = callback_server().await;
    let page = consent_page(&z, 1, &cb).await;
    assert!(page.contains("サンプル販売株式会社"));
    let r = z
        .http
        .post(format!("{}/oauth/v2/auth", z.accounts))
        .form(&[
            ("request_id", hidden(&page, "request_id").as_str()),
            ("email", z.org(1)["user"]["email"].as_str().unwrap()),
            ("password", "not-the-password"),
            ("decision", "allow"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let retry = r.text().await.unwrap();
    assert!(retry.contains("パスワードが正しくありません"));

    let r = z
        .http
        .post(format!("{}/oauth/v2/auth", z.accounts))
        .form(&[
            ("request_id", hidden(&retry, "request_id").as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let to = r.headers()["location"].to_str().unwrap();
    assert!(to.starts_with(&cb));
    assert!(
        to.contains("error=access_denied") && to.contains("state=st-42"),
        "{to}"
    );
    assert!(!to.contains("code="));
}

#[tokio::test]
async fn query_string_refresh_revoke_and_the_ten_per_ten_minutes_limit() {
    let z = start(0).await;
    let (client_id, secret) = (z.cred(1, "client_id"), z.cred(1, "client_secret"));
    // The preset refresh token of the credentials JSON works, parameters in the query string.
    let preset = z.cred(1, "refresh_token");
    let refresh_url = |rt: &str, secret: &str| {
        format!(
            "{}/oauth/v2/token?grant_type=refresh_token&client_id={client_id}&client_secret={secret}&refresh_token={rt}",
            z.accounts
        )
    };
    let v: Value = z
        .http
        .post(refresh_url(&preset, &secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = v["access_token"].as_str().unwrap().to_string();
    let (s, _) = Zoho::send(z.get(&access, "Contacts?fields=Last_Name")).await;
    assert_eq!(s, 200);

    // Nine more refreshes are fine; the eleventh token within ten minutes is refused.
    for _ in 0..9 {
        let v: Value = z
            .http
            .post(refresh_url(&preset, &secret))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["access_token"].is_string(), "{v}");
    }
    let v: Value = z
        .http
        .post(refresh_url(&preset, &secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(v.get("access_token").is_none(), "{v}");
    assert_eq!(v["error"], "Access Denied");

    // Revoking the refresh token ends it and the access tokens minted from it.
    let r = z
        .http
        .post(format!(
            "{}/oauth/v2/token/revoke?token={preset}",
            z.accounts
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"status": "success"})
    );
    let v: Value = z
        .http
        .post(refresh_url(&preset, &secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["error"], "invalid_code");
    let (s, e) = Zoho::send(z.get(&access, "org")).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("INVALID_TOKEN")));

    // The sandbox switch revokes every refresh token at once.
    let pair = z.token_with_scope("A", None).await;
    let r = z
        .http
        .post(format!("{}/_sandbox/zoho/revoke", z.accounts))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (s, _) = Zoho::send(z.get(pair["access_token"].as_str().unwrap(), "org")).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn crm_refuses_missing_bearer_and_out_of_scope_tokens() {
    let z = start(0).await;
    let r = z
        .http
        .get(format!("{}/crm/v8/org", z.crm))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "AUTHENTICATION_FAILURE"
    );

    let token = z.token("A").await;
    let r = z
        .http
        .get(format!("{}/crm/v8/org", z.crm))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "the scheme is Zoho-oauthtoken, not Bearer");

    let read_only = z.token_with_scope("A", Some("ZohoCRM.modules.READ")).await;
    let ro = read_only["access_token"].as_str().unwrap();
    let (s, _) = Zoho::send(z.get(ro, "Accounts?fields=Account_Name")).await;
    assert_eq!(s, 200);
    let (s, e) = Zoho::send(
        z.call(reqwest::Method::POST, ro, "Accounts")
            .json(&json!({"data": [{"Account_Name": "株式会社読取専用"}]})),
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (401, Some("OAUTH_SCOPE_MISMATCH")));
    let (s, e) = Zoho::send(z.get(ro, "settings/modules")).await;
    assert_eq!((s, e["code"].as_str()), (401, Some("OAUTH_SCOPE_MISMATCH")));
}
