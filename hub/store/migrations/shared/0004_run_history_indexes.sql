-- The history pages list runs newest first (all, by flow, by status) and count them per day:
-- each of these walks one index in order and stops at its limit. The per-day count reads only
-- runs_recent (it holds every column the count needs).
DROP INDEX runs_flow_queued;
DROP INDEX runs_status;
CREATE INDEX runs_recent ON runs (queued_at, id, status, flow_id);
CREATE INDEX runs_flow_recent ON runs (flow_id, queued_at, id);
CREATE INDEX runs_status_recent ON runs (status, queued_at, id);
