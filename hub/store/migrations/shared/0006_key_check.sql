-- Facts about the hub itself. `master_key_check` holds a known text encrypted with the master
-- key, so a hub started with another key refuses to start instead of failing on every secret
-- (hub/store/src/key_check.rs).
CREATE TABLE hub_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
