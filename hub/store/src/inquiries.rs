//! お問い合わせ: contact-form submissions, validated by the caller, listed for admins, with
//! their delivery to the support address (`hub-core`'s `inquiries`): status, attempts, reason,
//! what went out already, when to try again, and a claim so one process delivers each at a time.

use crate::{get, Result, Store};
use hub_domain::*;

const COLUMNS: &str = "id, company, name, email, registration_number, connector_name, created_at, \
     delivery_status, delivery_attempts, delivery_error, delivered_parts, delivered_at, next_attempt_at";

/// Due for an automatic attempt at `$1`: pending ones, and failed ones whose time has come.
const DUE: &str = "(delivery_status = 'pending' OR (delivery_status = 'failed' \
     AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1))";

/// Nobody is delivering it now (no claim, or the claim lapsed) at `$1`.
const UNCLAIMED: &str = "(claimed_until IS NULL OR claimed_until <= $1)";

fn row(r: &sqlx::any::AnyRow) -> Result<Inquiry> {
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
        delivery_status: get(r, "delivery_status")?,
        delivery_attempts: get(r, "delivery_attempts")?,
        delivery_error: get(r, "delivery_error")?,
        delivered_parts: get(r, "delivered_parts")?,
        delivered_at: get(r, "delivered_at")?,
        next_attempt_at: get(r, "next_attempt_at")?,
    })
}

impl Store {
    /// Stored `pending`.
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
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM inquiries ORDER BY created_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row).collect()
    }

    pub async fn get_inquiry(&self, id: &str) -> Result<Option<Inquiry>> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM inquiries WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(row).transpose()
    }

    /// Inquiries due for an automatic delivery attempt at `now` and claimed by nobody, oldest
    /// first.
    pub async fn due_inquiries(&self, now: Millis, limit: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(&format!(
            "SELECT id FROM inquiries WHERE {DUE} AND {UNCLAIMED} ORDER BY created_at, id LIMIT $2"
        ))
        .bind(now)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| get(r, "id")).collect()
    }

    /// Takes the inquiry for one delivery attempt until `until` (compare-and-set: answers false
    /// when it is sent, claimed by another, or, unless `any_time` (an administrator's 再送), not
    /// due yet).
    pub async fn claim_inquiry(
        &self,
        id: &str,
        now: Millis,
        until: Millis,
        any_time: bool,
    ) -> Result<bool> {
        let due = if any_time {
            "delivery_status <> 'sent'"
        } else {
            DUE
        };
        let done = sqlx::query(&format!(
            "UPDATE inquiries SET claimed_until = $2 WHERE id = $3 AND {due} AND {UNCLAIMED}"
        ))
        .bind(now)
        .bind(until)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a delivery attempt (and gives up the claim).
    pub async fn record_inquiry_attempt(&self, id: &str, a: &InquiryAttempt) -> Result<()> {
        let now = now_ms();
        let (status, delivered_at, next) = match &a.error {
            None => ("sent", Some(now), None),
            Some(_) => ("failed", None, a.next_attempt_at),
        };
        sqlx::query(
            "UPDATE inquiries SET delivery_status = $1, delivery_attempts = delivery_attempts + 1, \
             delivery_error = $2, delivered_parts = $3, delivered_at = $4, next_attempt_at = $5, \
             claimed_until = NULL WHERE id = $6",
        )
        .bind(status)
        .bind(a.error.as_deref())
        .bind(&a.delivered_parts)
        .bind(delivered_at)
        .bind(next)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives up a claim without recording an attempt (nothing was configured to send to).
    pub async fn release_inquiry(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE inquiries SET claimed_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
