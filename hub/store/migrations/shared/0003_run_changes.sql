-- Undo and retry of a run (issues #7, #9). The same SQL on SQLite and PostgreSQL.

-- Every record a run wrote, with what it held before: committed in the same transaction as the
-- links and cursor of its page (`commit_page`), so a row exists iff the write was acknowledged.
CREATE TABLE run_changes (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    -- The side written: `target`, or `source` for a two-way flow writing back.
    side TEXT NOT NULL,
    object TEXT NOT NULL,
    record_id TEXT NOT NULL,
    -- The record as the run's history names it (the source id; `target:ID` in two-way).
    label TEXT NOT NULL,
    -- `created`, `updated` or `deleted`.
    action TEXT NOT NULL,
    -- The written fields as they were (JSON object); NULL for a record the run created, or
    -- when the target matched the record itself and did not show it.
    before_fields TEXT,
    after_version TEXT,
    after_modified TEXT,
    -- The flow's link of this record before the run (JSON), NULL when there was none.
    prior_link TEXT,
    -- The undo run that restored this record.
    undone_by TEXT,
    PRIMARY KEY (run_id, seq)
);

-- Runs that act on another run: `undo` (元に戻す) and `retry_failed` (失敗分のみ再実行).
CREATE TABLE run_requests (
    run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    of_run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE
);
CREATE INDEX run_requests_of ON run_requests (of_run, kind);

-- Where each side's read started when a run began (NULL: from the beginning), so a retry of
-- its failed records reads the same range again.
CREATE TABLE run_start_cursors (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    cursor TEXT,
    PRIMARY KEY (run_id, side)
);
