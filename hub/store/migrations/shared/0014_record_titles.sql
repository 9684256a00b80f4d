-- Records named as a person knows them (issue 20 point 3): a run error's and warning's record
-- title (its title field's value as read), a failed record's page in its own system, and the
-- field and value a refusal names. NULL where unknown (rows from before this migration).
ALTER TABLE run_errors ADD COLUMN title TEXT;
ALTER TABLE run_errors ADD COLUMN url TEXT;
ALTER TABLE run_errors ADD COLUMN field TEXT;
ALTER TABLE run_errors ADD COLUMN value TEXT;
ALTER TABLE run_warnings ADD COLUMN title TEXT;
-- Each object's naming as its connector last listed it (title field, record page template), so
-- a run names its records without asking the connector for its objects again.
CREATE TABLE object_names (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    object_id TEXT NOT NULL,
    title_field TEXT,
    record_url TEXT,
    listed_at BIGINT NOT NULL,
    PRIMARY KEY (connection_id, object_id)
);
-- A pending record's title, as its last failure read it.
ALTER TABLE pending_records ADD COLUMN title TEXT;
