//! The request's edge: which address a request came from, whether the browser reached the hub
//! over https, and the security headers every answer carries.
//!
//! A proxy's headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only when the admin
//! says a proxy stands in front (`HUB_TRUST_PROXY=1`): otherwise any client could claim another
//! address to escape the sign-in limits, or claim https.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::AppState;

/// How the hub is reached, from its configuration.
#[derive(Clone, Copy, Debug, Default)]
pub struct EdgeConfig {
    /// `HUB_PUBLIC_URL` is https: cookies are `Secure` and answers carry HSTS.
    pub public_https: bool,
    /// A reverse proxy in front sets `X-Forwarded-For` / `X-Forwarded-Proto` (`HUB_TRUST_PROXY`).
    pub trust_proxy: bool,
}

/// No inline script or style; frames refused. No `form-action`: Chromium applies it to the
/// redirect after a form post, and the wizard's sign-in step redirects to the provider's
/// consent page on another origin.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

impl EdgeConfig {
    /// Whether this request reached the hub over https.
    pub fn is_https(&self, headers: &HeaderMap) -> bool {
        self.public_https
            || (self.trust_proxy
                && headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
    }

    /// The client's address: the peer, or with a trusted proxy the address the proxy saw
    /// (the last `X-Forwarded-For` entry, the one the proxy itself appended).
    pub fn client(&self, parts: &Parts) -> IpAddr {
        if self.trust_proxy {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back();
            if let Some(a) = forwarded {
                return a;
            }
        }
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            // In-process tests have no peer: one shared address, limited like any other.
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
}

/// Adds the security headers to every answer (pages, API, static files).
pub async fn security_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let https = s.edge.is_https(req.headers());
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    );
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if https {
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}
