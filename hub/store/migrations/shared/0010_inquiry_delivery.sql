-- お問い合わせ reaches someone (hub/core/src/inquiries.rs): each inquiry is delivered to the
-- support address (mail and/or webhook) and acknowledged to its sender. `delivery_status` is
-- pending | sent | failed; `delivered_parts` lists what went out already (support_mail,
-- support_webhook, ack), so a retry sends only the rest; `next_attempt_at` is when a failed
-- delivery is tried again (NULL: no more automatic retries); `claimed_until` keeps two hubs (or
-- the form and the retry loop) from delivering the same inquiry at once.
ALTER TABLE inquiries ADD COLUMN delivery_status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE inquiries ADD COLUMN delivery_attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inquiries ADD COLUMN delivery_error TEXT;
ALTER TABLE inquiries ADD COLUMN delivered_parts TEXT NOT NULL DEFAULT '';
ALTER TABLE inquiries ADD COLUMN delivered_at BIGINT;
ALTER TABLE inquiries ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE inquiries ADD COLUMN claimed_until BIGINT;
CREATE INDEX inquiries_delivery ON inquiries (delivery_status, next_attempt_at);
