//! Where the hub lets a connection's secrets and a flow's notifications go, and what of a remote
//! answer it repeats.
//!
//! Link-local and cloud-metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254) are
//! refused unless the admin allows them (`HUB_ALLOW_LINK_LOCAL=1` / `allow_link_local`):
//!
//! - **at save**: an endpoint setting (the manifest's `endpoint: true`) or a webhook URL whose
//!   host is such an address literal (any spelling the URL parser normalizes, e.g. `2852039166`);
//! - **at connect time**: before every call into a connection's plugin (接続テスト, objects,
//!   actions, every run: `Hub::plugin_connection`) the hub resolves each endpoint host and refuses
//!   when any address it resolves to is such an address; the hub's own HTTP (OAuth token requests,
//!   notification webhooks) goes through [`client_builder`], whose resolver drops those addresses
//!   at the moment of connecting.
//!
//! Not covered: the connectors do their HTTP inside the plugin workers with their own clients, so
//! a name that resolves to a public address when the hub checks and to a link-local one a moment
//! later (DNS rebinding), or a redirect the connector's client follows, is not seen by the hub;
//! nor is a host the connector derives from something other than an endpoint setting.

use connector_sdk::{ConnectorError, ErrorKind};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::error::{HubError, HubResult};
use hub_messages::Message;

/// The admin's choice, from the hub's configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Let connections and webhooks reach link-local / cloud-metadata addresses.
    pub allow_link_local: bool,
}

/// What the refusal says (field messages start with it; the UI catalogue keys on the start).
pub const REFUSED: &str = "is a link-local or cloud-metadata address";

fn refused_detail() -> String {
    format!(
        "{REFUSED} (169.254.0.0/16, fe80::/10, fd00:ec2::254), which the hub refuses unless its \
         administrator sets HUB_ALLOW_LINK_LOCAL=1"
    )
}

/// 169.254.0.0/16, fe80::/10, fd00:ec2::254 (AWS's IPv6 metadata), and 169.254.0.0/16 inside
/// IPv6 (mapped, compatible, NAT64).
pub fn forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => {
            // IPv4-mapped / -compatible (`::ffff:a.b.c.d`, `::a.b.c.d`) and NAT64 (`64:ff9b::/96`).
            if v6.to_ipv4().is_some_and(|v4| v4.is_link_local()) {
                return true;
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                if std::net::Ipv4Addr::new(a, b, c, d).is_link_local() {
                    return true;
                }
            }
            (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.segments() == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254]
        }
    }
}

/// The host and port an endpoint setting points at: a URL, or a bare host / domain
/// (`example`, `example.cybozu.com`, `10.0.0.1:8443`) taken as `https://value`.
pub fn endpoint_host(value: &str) -> Option<(url::Host<String>, u16)> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let parsed = if v.contains("://") {
        url::Url::parse(v).ok()?
    } else {
        url::Url::parse(&format!("https://{v}")).ok()?
    };
    let host = parsed.host()?.to_owned();
    let port = parsed.port_or_known_default().unwrap_or(443);
    Some((host, port))
}

fn literal_ip(host: &url::Host<String>) -> Option<IpAddr> {
    match host {
        url::Host::Ipv4(a) => Some(IpAddr::V4(*a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        url::Host::Domain(_) => None,
    }
}

/// At save: refuses a value whose host is a forbidden address literal.
pub fn check_literal(policy: EgressPolicy, field: &str, value: &str) -> HubResult<()> {
    if policy.allow_link_local {
        return Ok(());
    }
    let bad = endpoint_host(value)
        .and_then(|(h, _)| literal_ip(&h))
        .is_some_and(forbidden_ip);
    if bad {
        return Err(HubError::invalid(field, Message::new("err.link_local")));
    }
    Ok(())
}

/// At connect time: refuses a value whose host is, or resolves to, a forbidden address. A name
/// that does not resolve passes (the call then fails as unreachable, in the connector's words).
pub async fn check_resolved(
    policy: EgressPolicy,
    field: &str,
    value: &str,
) -> Result<(), ConnectorError> {
    if policy.allow_link_local {
        return Ok(());
    }
    let Some((host, port)) = endpoint_host(value) else {
        return Ok(());
    };
    let bad = match literal_ip(&host) {
        Some(ip) => forbidden_ip(ip),
        // A name that does not resolve within the time passes: the connector's own lookup then
        // fails the same way (a best-effort check, see the module's note).
        None => match tokio::time::timeout(
            std::time::Duration::from_secs(5),
            tokio::net::lookup_host((host.to_string(), port)),
        )
        .await
        {
            Ok(Ok(mut addrs)) => addrs.any(|a| forbidden_ip(a.ip())),
            Ok(Err(_)) | Err(_) => false,
        },
    };
    if bad {
        return Err(ConnectorError::new(
            ErrorKind::InvalidSettings,
            format!("{field}: the host {host} {}", refused_detail()),
        )
        .with_code("endpoint_refused")
        .with_ja(format!(
            "{field}: {host} はリンクローカル/クラウドメタデータのアドレスのため接続しません(管理者が HUB_ALLOW_LINK_LOCAL=1 を設定した場合のみ許可)"
        ))
        .with_field(field));
    }
    Ok(())
}

/// Resolves names for the hub's own HTTP clients, dropping forbidden addresses at the moment of
/// connecting (so a name that changes its answer after a check still cannot reach them).
struct GuardedResolver;

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| !forbidden_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                let e = std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{host}: no address the hub may connect to ({REFUSED})"),
                );
                return Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A reqwest client builder for the hub's own calls (OAuth, webhooks) under the policy. The
/// resolver does not see address literals: check those with [`check_literal`] first.
pub fn client_builder(policy: EgressPolicy) -> reqwest::ClientBuilder {
    let b = reqwest::Client::builder();
    if policy.allow_link_local {
        b
    } else {
        b.dns_resolver(Arc::new(GuardedResolver))
    }
}

/// The most of a remote answer a check answer repeats.
pub const EXCERPT_MAX: usize = 200;

/// A remote text made safe to repeat: HTML tags and control / bidi-format characters removed,
/// whitespace collapsed, at most [`EXCERPT_MAX`] characters (ending in `…` when cut).
pub fn excerpt(text: &str) -> String {
    let mut plain = String::with_capacity(text.len().min(4 * EXCERPT_MAX));
    let mut in_tag = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_tag {
            if c == '>' {
                in_tag = false;
                plain.push(' ');
            }
            continue;
        }
        match c {
            '<' => in_tag = true,
            // A terminal escape sequence (ESC [ … final byte) goes as a whole.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
                plain.push(' ');
            }
            '>' => plain.push(' '),
            c if c.is_control() => plain.push(' '),
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}' => plain.push(' '),
            c => plain.push(c),
        }
        if plain.len() > 16 * EXCERPT_MAX {
            break;
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.chars().count() <= EXCERPT_MAX {
        return joined;
    }
    let mut cut: String = joined.chars().take(EXCERPT_MAX - 1).collect();
    cut.push('…');
    cut
}

/// A connector error fit for a check answer: its texts through [`excerpt`], its code limited to
/// an identifier's characters.
pub fn sanitize_error(mut e: ConnectorError) -> ConnectorError {
    e.message = excerpt(&e.message);
    e.message_ja = e.message_ja.map(|m| excerpt(&m)).filter(|m| !m.is_empty());
    let code: String = e
        .code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect();
    e.code = if code.is_empty() {
        e.kind.as_str().to_string()
    } else {
        code
    };
    e.field = e.field.map(|f| excerpt(&f));
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_addresses() {
        for bad in [
            "169.254.169.254",
            "169.254.0.1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::169.254.169.254",
        ] {
            assert!(forbidden_ip(bad.parse().unwrap()), "{bad}");
        }
        for ok in [
            "127.0.0.1",
            "10.0.0.1",
            "8.8.8.8",
            "::1",
            "fd00::1",
            "fec0::1",
        ] {
            assert!(!forbidden_ip(ok.parse().unwrap()), "{ok}");
        }
    }

    #[test]
    fn literals_in_any_spelling_are_refused() {
        let p = EgressPolicy::default();
        for bad in [
            "http://169.254.169.254",
            "http://169.254.169.254:8080/latest",
            "http://2852039166/",
            "http://[fe80::1]/",
            "http://[fd00:ec2::254]/",
            "169.254.169.254",
        ] {
            assert!(check_literal(p, "settings.base_url", bad).is_err(), "{bad}");
        }
        for ok in [
            "https://example.cybozu.com",
            "example",
            "http://127.0.0.1:9000",
            "",
        ] {
            assert!(check_literal(p, "settings.base_url", ok).is_ok(), "{ok}");
        }
        let allow = EgressPolicy {
            allow_link_local: true,
        };
        assert!(check_literal(allow, "x", "http://169.254.169.254").is_ok());
    }

    #[tokio::test]
    async fn resolved_names_are_checked() {
        let p = EgressPolicy::default();
        assert!(
            check_resolved(p, "settings.base_url", "http://169.254.169.254/")
                .await
                .is_err()
        );
        assert!(
            check_resolved(p, "settings.base_url", "http://localhost:1/")
                .await
                .is_ok()
        );
    }

    #[test]
    fn excerpts_are_short_and_plain() {
        let body = format!(
            "<html><script>alert(1)</script>\u{0}\u{1b}[31m{}</html>",
            "x".repeat(10_000)
        );
        let e = excerpt(&body);
        assert!(e.chars().count() <= EXCERPT_MAX);
        assert!(!e.contains('<') && !e.contains('>'));
        assert!(!e.chars().any(char::is_control));
        assert!(!e.contains("[31m"), "{e}");
        assert_eq!(excerpt("  a\n\tb  "), "a b");
        assert_eq!(excerpt("<p>500 \u{1b}[1;31mboom\u{1b}[0m</p>"), "500 boom");
    }
}
