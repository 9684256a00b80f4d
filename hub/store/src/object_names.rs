//! Each object's naming (title field, record page) as its connector last listed it: kept when
//! the hub lists a connection's objects, read by a run, which thus names its records without
//! listing the objects again (a Zoho listing reads every module's fields).

use hub_domain::now_ms;

use crate::{get, Result, Store};

/// `(object id, title field, record page template)` of one object.
pub type ObjectName = (String, Option<String>, Option<String>);

impl Store {
    /// Replaces the connection's objects' naming with `objects`.
    pub async fn save_object_names(&self, connection: &str, objects: &[ObjectName]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM object_names WHERE connection_id = $1")
            .bind(connection)
            .execute(&mut *tx)
            .await?;
        let now = now_ms();
        for (object, title, url) in objects {
            sqlx::query(
                "INSERT INTO object_names (connection_id, object_id, title_field, record_url, listed_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(connection)
            .bind(object)
            .bind(title)
            .bind(url)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The object's naming as last listed: `(title field, record page)`, `None` if never listed.
    pub async fn object_name(
        &self,
        connection: &str,
        object: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        let row = sqlx::query(
            "SELECT title_field, record_url FROM object_names WHERE connection_id = $1 AND object_id = $2",
        )
        .bind(connection)
        .bind(object)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((get(&r, "title_field")?, get(&r, "record_url")?)))
            .transpose()
    }
}
