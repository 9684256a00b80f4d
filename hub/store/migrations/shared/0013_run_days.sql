-- Runs per day, flow and status: the history's chart reads these few rows instead of counting
-- a month of runs (a million rows) on every request. Days are Japan time (UTC+9, the hub's
-- zone; Japan has no daylight saving), from the run's queued_at, which never changes. Kept in
-- the transaction that queues a run, changes its status or deletes it (hub/store/src/run_days.rs).
CREATE TABLE run_days (
    day BIGINT NOT NULL,
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    runs BIGINT NOT NULL,
    PRIMARY KEY (day, flow_id, status)
);
CREATE INDEX run_days_flow ON run_days (flow_id, day);
INSERT INTO run_days (day, flow_id, status, runs)
SELECT CAST((queued_at + 32400000) / 86400000 AS BIGINT), flow_id, status, COUNT(*)
FROM runs GROUP BY 1, 2, 3;
