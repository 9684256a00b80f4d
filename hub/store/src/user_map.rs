//! A connection's user mapping (seed 004's ユーザー連携): which user of the other system stands
//! for each user of this connection's system, e.g. a Zoho user (id or email) → a kintone login
//! name. Write-back flows read it through the `{"user_map": CONNECTION_ID}` transform; a user
//! without a pair is a per-record error, never replaced by anyone else.

use crate::{get, Result, Store, StoreError};
use hub_domain::UserPair;

impl Store {
    /// The connection's pairs, in the order they were saved. 404 for an unknown connection.
    pub async fn user_map(&self, connection_id: &str) -> Result<Vec<UserPair>> {
        self.get_connection(connection_id).await?;
        let rows = sqlx::query(
            "SELECT from_user, to_user FROM user_map WHERE connection_id = $1 ORDER BY position",
        )
        .bind(connection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UserPair {
                    from: get(r, "from_user")?,
                    to: get(r, "to_user")?,
                })
            })
            .collect()
    }

    /// Replaces the connection's pairs (one transaction). Callers check the pairs first.
    pub async fn set_user_map(&self, connection_id: &str, pairs: &[UserPair]) -> Result<()> {
        self.get_connection(connection_id).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM user_map WHERE connection_id = $1")
            .bind(connection_id)
            .execute(&mut *tx)
            .await?;
        for (i, p) in pairs.iter().enumerate() {
            sqlx::query(
                "INSERT INTO user_map (connection_id, from_user, to_user, position) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(connection_id)
            .bind(&p.from)
            .bind(&p.to)
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await.map_err(StoreError::from)
    }
}
