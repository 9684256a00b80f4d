//! A connection's user mapping (seed 004's ユーザー連携), edited by an administrator on the
//! connection page or through `PUT /api/connections/{id}/user-map`, and used by write-back flows
//! through the `{"user_map": CONNECTION_ID}` transform (`engine/lookup.rs`).

use hub_domain::UserPair;
use std::collections::HashSet;

use crate::error::{HubError, HubResult};
use crate::{validate, Hub};
use hub_messages::Message;

/// At most this many pairs per connection.
pub const MAX_PAIRS: usize = 2000;

impl Hub {
    pub async fn user_map(&self, connection: &str) -> HubResult<Vec<UserPair>> {
        Ok(self.store.user_map(connection).await?)
    }

    /// Replaces the pairs: each side 1..=200 characters, each `from` once (case-insensitive:
    /// emails). Blank rows (both sides empty, as a form leaves them) are dropped.
    pub async fn set_user_map(
        &self,
        connection: &str,
        pairs: Vec<UserPair>,
    ) -> HubResult<Vec<UserPair>> {
        if pairs.len() > MAX_PAIRS {
            return Err(HubError::invalid(
                "pairs",
                Message::new("err.too_many_pairs").with("max", MAX_PAIRS),
            ));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, p) in pairs.into_iter().enumerate() {
            if validate::is_blank(&p.from) && validate::is_blank(&p.to) {
                continue;
            }
            let from = validate::text(&format!("pairs[{i}].from"), &p.from, 200)?;
            let to = validate::text(&format!("pairs[{i}].to"), &p.to, 200)?;
            if !seen.insert(from.to_lowercase()) {
                return Err(HubError::invalid(
                    format!("pairs[{i}].from"),
                    Message::new("err.mapped_twice").with("user", &from),
                ));
            }
            out.push(UserPair { from, to });
        }
        self.store.set_user_map(connection, &out).await?;
        Ok(out)
    }
}
