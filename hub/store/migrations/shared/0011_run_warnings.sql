-- Warnings of a run (hub/store/src/runs.rs): records read and written all the same that a
-- person should look at, e.g. a 外字 in a 奉行 CSV kept as a private-use character. They never
-- fail a run, so they are kept apart from run_errors (which feed pending records and
-- 失敗分のみ再実行). `params` is a JSON object of strings (file, line, column…) from which the
-- message is worded in the page's language; `message` is the connector's own text.
ALTER TABLE runs ADD COLUMN count_warnings BIGINT NOT NULL DEFAULT 0;
CREATE TABLE run_warnings (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    record TEXT NOT NULL,
    side TEXT NOT NULL,
    code TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
