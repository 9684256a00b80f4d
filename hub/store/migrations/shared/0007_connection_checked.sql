-- A connection's status is what its last check (接続テスト) or the last run that used it found,
-- at `checked_at`; `unchecked` until then. Rows saved before this column existed were never
-- checked: `ok` was only the default, so they are `unchecked` until checked or used.
ALTER TABLE connections ADD COLUMN checked_at BIGINT;
UPDATE connections SET status = 'unchecked' WHERE status = 'ok' AND checked_at IS NULL;
