//! お問い合わせ: contact-form submissions, validated by the caller, listed for admins.

use crate::model::*;
use crate::{get, Result, Store};

impl Store {
    pub async fn insert_inquiry(&self, i: &NewInquiry) -> Result<String> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO inquiries (id, company, name, email, registration_number, connector_name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(&i.company)
        .bind(&i.name)
        .bind(&i.email)
        .bind(&i.registration_number)
        .bind(&i.connector_name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// Newest first.
    pub async fn list_inquiries(&self, limit: i64) -> Result<Vec<Inquiry>> {
        let rows = sqlx::query(
            "SELECT id, company, name, email, registration_number, connector_name, created_at FROM inquiries \
             ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Inquiry {
                    id: get(r, "id")?,
                    fields: NewInquiry {
                        company: get(r, "company")?,
                        name: get(r, "name")?,
                        email: get(r, "email")?,
                        registration_number: get(r, "registration_number")?,
                        connector_name: get(r, "connector_name")?,
                    },
                    created_at: get(r, "created_at")?,
                })
            })
            .collect()
    }
}
