//! Refresh and access tokens of both orgs (reference §2): access tokens live one hour, refresh
//! tokens until revoked, and one refresh token mints at most 10 access tokens per 10 minutes.

use super::assumed;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

pub const ACCESS_TTL_SECS: i64 = 3600;
pub const MINT_LIMIT: usize = 10;
pub const MINT_WINDOW_SECS: i64 = 600;

/// `1000.<hex>.<hex>`, the shape of Zoho's tokens and codes.
pub fn random_token() -> String {
    let mut rng = rand::thread_rng();
    let a: u128 = rng.gen();
    let b: u128 = rng.gen();
    format!("1000.{a:032x}.{b:032x}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    pub org: usize,
    pub client_id: String,
    pub scope: Vec<String>,
    pub created: i64,
    /// When each access token was minted from it, within the limit window.
    #[serde(skip)]
    minted: VecDeque<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    pub org: usize,
    pub client_id: String,
    pub scope: Vec<String>,
    pub expires: i64,
    pub refresh: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenStore {
    refresh: HashMap<String, RefreshToken>,
    access: HashMap<String, AccessToken>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshError {
    /// Unknown, revoked, or issued to another client.
    Invalid,
    TooMany,
}

impl TokenStore {
    pub fn mint_refresh(
        &mut self,
        org: usize,
        client_id: &str,
        scope: &[String],
        now: i64,
    ) -> String {
        let token = random_token();
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                org,
                client_id: client_id.to_string(),
                scope: scope.to_vec(),
                created: now,
                minted: VecDeque::new(),
            },
        );
        token
    }

    /// A new access token; counted against `refresh`'s limit when there is one.
    pub fn mint_access(
        &mut self,
        org: usize,
        client_id: &str,
        scope: &[String],
        refresh: Option<&str>,
        now: i64,
    ) -> String {
        self.access.retain(|_, t| t.expires > now);
        if let Some(rt) = refresh.and_then(|r| self.refresh.get_mut(r)) {
            rt.minted.push_back(now);
        }
        let token = random_token();
        self.access.insert(
            token.clone(),
            AccessToken {
                org,
                client_id: client_id.to_string(),
                scope: scope.to_vec(),
                expires: now + ACCESS_TTL_SECS,
                refresh: refresh.map(str::to_string),
            },
        );
        token
    }

    /// The refresh-token grant: a new access token, or why not.
    pub fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        now: i64,
    ) -> Result<(String, RefreshToken), RefreshError> {
        let rt = self
            .refresh
            .get_mut(refresh_token)
            .filter(|t| t.client_id == client_id)
            .ok_or(RefreshError::Invalid)?;
        while rt
            .minted
            .front()
            .is_some_and(|t| *t <= now - MINT_WINDOW_SECS)
        {
            rt.minted.pop_front();
        }
        if rt.minted.len() >= MINT_LIMIT {
            return Err(RefreshError::TooMany);
        }
        let info = rt.clone();
        let access = self.mint_access(info.org, client_id, &info.scope, Some(refresh_token), now);
        Ok((access, info))
    }

    /// A live access token.
    pub fn resolve(&self, access: &str, now: i64) -> Option<&AccessToken> {
        self.access.get(access).filter(|t| t.expires > now)
    }

    pub fn has_refresh(&self, org: usize, client_id: &str) -> bool {
        self.refresh
            .values()
            .any(|t| t.org == org && t.client_id == client_id)
    }

    /// Revokes a refresh or access token; true when it existed.
    pub fn revoke(&mut self, token: &str) -> bool {
        if self.refresh.remove(token).is_some() {
            if assumed::REVOKE_ENDS_ACCESS_TOKENS {
                self.access
                    .retain(|_, t| t.refresh.as_deref() != Some(token));
            }
            return true;
        }
        self.access.remove(token).is_some()
    }

    /// Every live access token expires now (the sandbox's way to test refresh).
    pub fn expire_all(&mut self, now: i64) -> usize {
        let mut n = 0;
        for t in self.access.values_mut().filter(|t| t.expires > now) {
            t.expires = now;
            n += 1;
        }
        n
    }

    pub fn revoke_all_refresh(&mut self) -> usize {
        let tokens: Vec<String> = self.refresh.keys().cloned().collect();
        for t in &tokens {
            self.revoke(t);
        }
        tokens.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_refresh_in_ten_minutes_is_refused_then_allowed_later() {
        let mut s = TokenStore::default();
        let scope = vec!["ZohoCRM.modules.ALL".to_string()];
        let rt = s.mint_refresh(0, "c", &scope, 0);
        for i in 0..MINT_LIMIT {
            assert!(s.refresh(&rt, "c", i as i64).is_ok(), "refresh {i}");
        }
        assert_eq!(s.refresh(&rt, "c", 30).unwrap_err(), RefreshError::TooMany);
        assert!(s.refresh(&rt, "c", MINT_WINDOW_SECS + 1).is_ok());
        assert_eq!(
            s.refresh(&rt, "other", 0).unwrap_err(),
            RefreshError::Invalid
        );
    }

    #[test]
    fn revoking_a_refresh_token_ends_its_access_tokens() {
        let mut s = TokenStore::default();
        let rt = s.mint_refresh(1, "c", &[], 0);
        let (at, _) = s.refresh(&rt, "c", 0).unwrap();
        assert!(s.resolve(&at, 1).is_some());
        assert!(s.revoke(&rt));
        assert!(s.resolve(&at, 1).is_none());
        assert_eq!(s.refresh(&rt, "c", 2).unwrap_err(), RefreshError::Invalid);
    }
}
