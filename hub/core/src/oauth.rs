//! The hub's OAuth2 (the connectors never see a refresh token): the authorization-code flow
//! with a checked, single-use state and PKCE; refresh before expiry and after an auth-expired
//! error, single-flight per connection; rotated refresh tokens saved in the same statement as
//! the access token; `invalid_grant` turns the connection to "re-authorize" (再認証が必要).

use connector_sdk::{AuthSpec, ConnectorError, ErrorKind, Secret};
use hub_domain::{now_ms, ConnectionStatus, Millis};
use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::egress::{self, EgressPolicy};
use crate::error::{worded, HubError, HubResult};
use crate::Hub;
use hub_messages::Message;

/// Refresh when less than this remains, so a call never starts with a token about to die.
pub const REFRESH_MARGIN_MS: Millis = 60_000;
/// How long a consent page may stay open before its state is refused.
pub const STATE_TTL_MS: Millis = 10 * 60_000;

#[derive(Default)]
pub struct OAuth {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl OAuth {
    fn lock_for(&self, connection_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(connection_id.to_string()).or_default().clone()
    }
}

struct Endpoints {
    authorize_url: String,
    token_url: String,
    scopes: Vec<String>,
    extra: Vec<(String, String)>,
}

/// Fills `{setting}` / `{setting|fallback}` placeholders of a manifest URL from the settings.
fn fill(template: &str, settings: &Map<String, Value>) -> HubResult<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| HubError::invalid("connector", Message::new("err.bad_url_template")))?;
        out.push_str(&rest[..start]);
        // `{a|b}`: the first of the named settings that is set (a custom URL, else a choice).
        let keys = &rest[start + 1..end];
        let value = keys
            .split('|')
            .find_map(|k| {
                settings
                    .get(k.trim())
                    .and_then(Value::as_str)
                    .filter(|v| !v.is_empty())
            })
            .ok_or_else(|| {
                let first = keys.split('|').next().unwrap_or(keys);
                HubError::invalid(
                    format!("settings.{first}"),
                    Message::new("err.required_for_signin"),
                )
            })?;
        out.push_str(value.trim_end_matches('/'));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The token request, through the hub's guarded resolver (`egress`): a token URL whose name
/// resolves to a link-local / metadata address is not connected to (literals are refused in
/// `oauth_client` before).
async fn http_call(
    request: oauth2::HttpRequest,
    policy: EgressPolicy,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = egress::client_builder(policy)
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut rb = client.request(request.method().clone(), request.uri().to_string());
    for (k, v) in request.headers() {
        rb = rb.header(k, v);
    }
    let resp = rb.body(request.body().clone()).send().await?;
    let mut status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await?.to_vec();
    // Some providers (Zoho) answer token errors with 200 and {"error": …}: make them errors.
    if status.is_success() {
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            if v.get("error").is_some() && v.get("access_token").is_none() {
                status = reqwest::StatusCode::BAD_REQUEST;
            }
        }
    }
    let mut out = oauth2::http::Response::builder().status(status.as_u16());
    for (k, v) in headers.iter() {
        out = out.header(k.as_str(), v.as_bytes());
    }
    Ok(out.body(body).unwrap_or_default())
}

type TokenError =
    RequestTokenError<reqwest::Error, oauth2::StandardErrorResponse<BasicErrorResponseType>>;

/// What a failed token request means for the connection.
fn classify(e: &TokenError) -> (ConnectorError, bool) {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let code = r.error().as_ref().to_string();
            let detail = r.error_description().cloned().unwrap_or_default();
            let needs_person = matches!(
                code.as_str(),
                "invalid_grant"
                    | "invalid_code"
                    | "invalid_client"
                    | "unauthorized_client"
                    | "access_denied"
            );
            let err = worded(
                ErrorKind::AuthFailed,
                Message::new("oauth.token_refused")
                    .with("reason", format!("{code} {detail}").trim()),
            )
            .with_code(code);
            (err, needs_person)
        }
        RequestTokenError::Request(re) => (
            worded(
                ErrorKind::Transient,
                Message::new("oauth.token_unreachable").with("reason", re),
            ),
            false,
        ),
        other => (
            ConnectorError::new(
                ErrorKind::Transient,
                format!("token endpoint answered unexpectedly: {other}"),
            ),
            false,
        ),
    }
}

impl Hub {
    fn oauth_endpoints(
        &self,
        connector_id: &str,
        settings: &Map<String, Value>,
    ) -> HubResult<Endpoints> {
        match &self.manifest(connector_id)?.auth {
            AuthSpec::OAuth2 {
                authorize_url,
                token_url,
                scopes,
                extra_authorize_params,
            } => Ok(Endpoints {
                authorize_url: fill(authorize_url, settings)?,
                token_url: fill(token_url, settings)?,
                scopes: scopes.clone(),
                extra: extra_authorize_params.clone(),
            }),
            _ => Err(HubError::conflict(
                "not_oauth",
                Message::new("err.not_oauth").with("connector", connector_id),
            )),
        }
    }

    async fn oauth_client(
        &self,
        connection_id: &str,
    ) -> HubResult<(
        BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        Endpoints,
    )> {
        let conn = self.store.get_connection(connection_id).await?;
        let ep = self.oauth_endpoints(&conn.connector_id, &conn.settings)?;
        // The client secret and the tokens go to the token URL: never to a link-local host.
        egress::check_resolved(self.egress, "settings", &ep.token_url)
            .await
            .map_err(HubError::Connector)?;
        let secrets = self.store.connection_secrets(connection_id).await?;
        let id = secrets.credentials.get("client_id").ok_or_else(|| {
            HubError::invalid("credentials.client_id", Message::new("err.required"))
        })?;
        let mut client = BasicClient::new(ClientId::new(id.expose().to_string()))
            .set_auth_uri(AuthUrl::new(ep.authorize_url.clone()).map_err(|e| {
                HubError::invalid(
                    "settings",
                    Message::new("err.bad_oauth_url").with("detail", format!("authorize URL: {e}")),
                )
            })?)
            .set_token_uri(TokenUrl::new(ep.token_url.clone()).map_err(|e| {
                HubError::invalid(
                    "settings",
                    Message::new("err.bad_oauth_url").with("detail", format!("token URL: {e}")),
                )
            })?)
            .set_auth_type(AuthType::RequestBody);
        if let Some(s) = secrets.credentials.get("client_secret") {
            client = client.set_client_secret(ClientSecret::new(s.expose().to_string()));
        }
        Ok((client, ep))
    }

    /// Starts sign-in: the provider URL to send the browser to. `redirect_uri` is the hub's
    /// `/oauth/callback` as the browser reaches it.
    pub async fn begin_authorization(
        &self,
        connection_id: &str,
        redirect_uri: &str,
    ) -> HubResult<String> {
        let (client, ep) = self.oauth_client(connection_id).await?;
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            HubError::invalid("redirect_uri", Message::new("err.url").with("detail", e))
        })?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_challenge(challenge);
        for s in &ep.scopes {
            req = req.add_scope(Scope::new(s.clone()));
        }
        for (k, v) in &ep.extra {
            req = req.add_extra_param(k.clone(), v.clone());
        }
        let (url, state) = req.url();
        self.store
            .save_oauth_state(
                state.secret(),
                connection_id,
                redirect_uri,
                &Secret::new(verifier.secret().clone()),
            )
            .await?;
        Ok(url.to_string())
    }

    /// Finishes sign-in from the provider's redirect; answers the connection id.
    pub async fn complete_authorization(&self, state: &str, code: &str) -> HubResult<String> {
        let pending = self
            .store
            .take_oauth_state(state)
            .await?
            .filter(|p| now_ms() - p.created_at <= STATE_TTL_MS)
            .ok_or_else(|| HubError::invalid("state", Message::new("err.oauth_state")))?;
        let (client, _) = self.oauth_client(&pending.connection_id).await?;
        let redirect = RedirectUrl::new(pending.redirect_uri.clone()).map_err(|e| {
            HubError::invalid("redirect_uri", Message::new("err.url").with("detail", e))
        })?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_verifier(PkceCodeVerifier::new(
                pending.pkce_verifier.expose().to_string(),
            ))
            .request_async(&|r| http_call(r, self.egress))
            .await
            .map_err(|e| HubError::Connector(classify(&e).0))?;
        let expires = token
            .expires_in()
            .map(|d| now_ms() + d.as_millis() as Millis);
        let refresh = token
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone()));
        self.store
            .save_tokens(
                &pending.connection_id,
                &Secret::new(token.access_token().secret().clone()),
                refresh.as_ref(),
                expires,
            )
            .await?;
        // New tokens are new credentials: 未確認 until checked or used.
        self.store
            .set_connection_status(&pending.connection_id, ConnectionStatus::Unchecked, None)
            .await?;
        tracing::info!(connection = %pending.connection_id, "OAuth sign-in completed");
        Ok(pending.connection_id)
    }

    /// 連携トークンの更新: refresh now, whatever the expiry.
    pub async fn refresh_token_now(&self, connection_id: &str) -> HubResult<()> {
        self.refresh_token(connection_id, None).await
    }

    /// Refresh if the token expires within the margin (before a run or a call).
    pub async fn ensure_fresh_token(&self, connection_id: &str) -> HubResult<()> {
        let conn = self.store.get_connection(connection_id).await?;
        if !matches!(
            self.manifest(&conn.connector_id)?.auth,
            AuthSpec::OAuth2 { .. }
        ) {
            return Ok(());
        }
        let secrets = self.store.connection_secrets(connection_id).await?;
        // Never signed in: nothing to refresh. The connector may still serve what needs no
        // token (a watched folder) and answers auth_failed for what does.
        if secrets.access_token.is_none() && secrets.refresh_token.is_none() {
            return Ok(());
        }
        let fresh = secrets.access_token.is_some()
            && secrets
                .token_expires_at
                .is_none_or(|e| e - now_ms() > REFRESH_MARGIN_MS);
        if fresh {
            return Ok(());
        }
        self.refresh_token(
            connection_id,
            secrets
                .access_token
                .as_ref()
                .map(|s| s.expose().to_string()),
        )
        .await
    }

    /// After a call failed with auth-expired using `seen`: refresh unless another caller already
    /// did (single-flight: the lock serializes, the comparison skips the repeat).
    pub async fn refresh_after_expiry(
        &self,
        connection_id: &str,
        seen: Option<&Secret>,
    ) -> HubResult<()> {
        self.refresh_token(
            connection_id,
            Some(seen.map(|s| s.expose().to_string()).unwrap_or_default()),
        )
        .await
    }

    async fn refresh_token(
        &self,
        connection_id: &str,
        seen_access: Option<String>,
    ) -> HubResult<()> {
        let lock = self.oauth.lock_for(connection_id);
        let _guard = lock.lock().await;
        let secrets = self.store.connection_secrets(connection_id).await?;
        if let Some(seen) = &seen_access {
            let current = secrets
                .access_token
                .as_ref()
                .map(|s| s.expose().to_string())
                .unwrap_or_default();
            let still_valid = secrets
                .token_expires_at
                .is_none_or(|e| e - now_ms() > REFRESH_MARGIN_MS);
            if !current.is_empty() && &current != seen && still_valid {
                return Ok(()); // someone refreshed while we waited
            }
        }
        let refresh = secrets.refresh_token.clone().ok_or_else(|| {
            HubError::Connector(worded(
                ErrorKind::AuthFailed,
                Message::new("oauth.no_refresh_token"),
            ))
        })?;
        let (client, _) = self.oauth_client(connection_id).await?;
        let started = now_ms();
        match client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_string()))
            .request_async(&|r| http_call(r, self.egress))
            .await
        {
            Ok(token) => {
                let expires = token
                    .expires_in()
                    .map(|d| now_ms() + d.as_millis() as Millis);
                let rotated = token
                    .refresh_token()
                    .map(|r| Secret::new(r.secret().clone()));
                self.store
                    .save_tokens(
                        connection_id,
                        &Secret::new(token.access_token().secret().clone()),
                        rotated.as_ref(),
                        expires,
                    )
                    .await?;
                self.metrics.token_refresh(true);
                tracing::info!(connection = %connection_id, rotated = rotated.is_some(), "access token refreshed");
                Ok(())
            }
            Err(e) => {
                self.metrics.token_refresh(false);
                let (err, needs_person) = classify(&e);
                // Another hub process may have rotated the refresh token under us: not our failure.
                let conn = self.store.get_connection(connection_id).await?;
                if conn.token.refreshed_at.is_some_and(|t| t >= started) {
                    return Ok(());
                }
                if needs_person {
                    self.store
                        .set_connection_status(
                            connection_id,
                            ConnectionStatus::Reauthorize,
                            Some(&crate::connections::status_message(&err)),
                        )
                        .await?;
                    tracing::warn!(connection = %connection_id, code = %err.code, "refresh refused: connection needs re-authorization");
                }
                Err(HubError::Connector(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fill;
    use serde_json::json;

    #[test]
    fn templates_fill_from_settings() {
        let s = json!({"accounts_url": "http://localhost:9/"})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(
            fill("{accounts_url}/oauth/v2/token", &s).unwrap(),
            "http://localhost:9/oauth/v2/token"
        );
        assert!(fill("{missing}/x", &s).is_err());
        assert_eq!(fill("https://fixed/x", &s).unwrap(), "https://fixed/x");
        assert_eq!(
            fill("{custom|accounts_url}/t", &s).unwrap(),
            "http://localhost:9/t"
        );
    }
}
