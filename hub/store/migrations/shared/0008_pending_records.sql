-- Records a run failed on stay pending until a later run writes them or a person dismisses
-- them (hub/store/src/pending.rs): every ordinary run tries them first, and a run is a success
-- only when none is left.
CREATE TABLE pending_records (
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    record TEXT NOT NULL,
    side TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    -- The run that first failed on it: its start cursors say where to read it again.
    first_run_id TEXT NOT NULL,
    last_run_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (flow_id, record)
);
