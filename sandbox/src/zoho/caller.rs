//! Who calls the CRM API: `Authorization: Zoho-oauthtoken TOKEN` (reference §3) resolved to an
//! org; the org of every request comes from its token only.

use super::errors::ZohoError;
use super::model::now;
use super::Shared;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct Caller {
    pub org: usize,
    scope: Vec<String>,
}

/// What an endpoint needs from the token's scope (§3: `ZohoCRM.<area>.<op>` or
/// `ZohoCRM.modules.<Module>.<op>`).
#[derive(Debug, Clone, Copy)]
pub enum Op {
    Read,
    Create,
    Update,
    Delete,
}

impl Caller {
    /// OAUTH_SCOPE_MISMATCH unless a granted scope covers `area` (and `module`) for `op`.
    pub fn require(&self, area: &str, module: Option<&str>, op: Op) -> Result<(), ZohoError> {
        let ok_op = |s: &str| match op {
            Op::Read => s == "read" || s == "all",
            Op::Create => matches!(s, "create" | "write" | "all"),
            Op::Update => matches!(s, "update" | "write" | "all"),
            Op::Delete => matches!(s, "delete" | "write" | "all"),
        };
        let granted = self.scope.iter().any(|s| {
            let s = s.to_ascii_lowercase();
            let parts: Vec<&str> = s.split('.').collect();
            match parts.as_slice() {
                ["zohocrm", a, rest @ ..] if *a == area => match rest {
                    [] => true,
                    [o] => ok_op(o),
                    [m, o] => module.is_some_and(|x| x.eq_ignore_ascii_case(m)) && ok_op(o),
                    _ => false,
                },
                _ => false,
            }
        });
        if granted {
            Ok(())
        } else {
            let op = format!("{op:?}").to_uppercase();
            Err(ZohoError::scope_mismatch(&format!("ZohoCRM.{area}.{op}")))
        }
    }
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ZohoError;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or_else(ZohoError::auth_failure)?;
        let (scheme, token) = value.split_once(' ').ok_or_else(ZohoError::auth_failure)?;
        // §3: the scheme is `Zoho-oauthtoken`, not `Bearer`; a wrong scheme fails like Zoho's.
        if !scheme.eq_ignore_ascii_case("Zoho-oauthtoken") {
            return Err(ZohoError::auth_failure());
        }
        st.read(|s| {
            s.tokens
                .resolve(token.trim(), now())
                .map(|t| Caller {
                    org: t.org,
                    scope: t.scope.clone(),
                })
                .ok_or_else(ZohoError::invalid_token)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(scopes: &[&str]) -> Caller {
        Caller {
            org: 0,
            scope: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scopes_cover_areas_modules_and_operations() {
        let all = caller(&["ZohoCRM.modules.ALL", "ZohoCRM.users.READ"]);
        assert!(all.require("modules", Some("Leads"), Op::Delete).is_ok());
        assert!(all.require("users", None, Op::Read).is_ok());
        assert!(all.require("org", None, Op::Read).is_err());
        let leads = caller(&["ZohoCRM.modules.leads.READ"]);
        assert!(leads.require("modules", Some("Leads"), Op::Read).is_ok());
        assert!(leads.require("modules", Some("Leads"), Op::Create).is_err());
        assert!(leads
            .require("modules", Some("Contacts"), Op::Read)
            .is_err());
    }
}
