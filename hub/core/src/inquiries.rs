//! お問い合わせ: the contact form's five fields, each required and at most 100 characters.

use hub_store::NewInquiry;

use crate::error::HubResult;
use crate::validate;
use crate::Hub;

pub const MAX_LEN: usize = 100;

impl Hub {
    pub async fn submit_inquiry(&self, input: &NewInquiry) -> HubResult<String> {
        let clean = NewInquiry {
            company: validate::text("company", &input.company, MAX_LEN)?,
            name: validate::text("name", &input.name, MAX_LEN)?,
            email: {
                validate::text("email", &input.email, MAX_LEN)?;
                validate::email("email", &input.email)?
            },
            registration_number: validate::text(
                "registration_number",
                &input.registration_number,
                MAX_LEN,
            )?,
            connector_name: validate::text("connector_name", &input.connector_name, MAX_LEN)?,
        };
        Ok(self.store.insert_inquiry(&clean).await?)
    }
}
