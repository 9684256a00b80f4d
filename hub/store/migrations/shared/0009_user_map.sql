-- A connection's user mapping (seed 004's ユーザー連携): the tool's user (id or email) → the
-- login name of the user to write in the other system (hub/store/src/user_map.rs). Used by
-- write-back flows through the `{"user_map": CONNECTION_ID}` transform.
CREATE TABLE user_map (
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    from_user TEXT NOT NULL,
    to_user TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (connection_id, from_user)
);
