-- Renkei Hub initial schema (PostgreSQL). Times are milliseconds since the Unix epoch (UTC).
-- Secrets are stored only as ciphertext (`*_enc` columns): see hub/store/src/secrets.rs.

CREATE TABLE connectors (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    sdk_version TEXT NOT NULL,
    file TEXT NOT NULL,
    manifest TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    connector_id TEXT NOT NULL,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    phone TEXT NOT NULL,
    credential_keys TEXT NOT NULL DEFAULT '[]',
    credentials_enc TEXT,
    access_token_enc TEXT,
    refresh_token_enc TEXT,
    token_expires_at BIGINT,
    token_refreshed_at BIGINT,
    status TEXT NOT NULL DEFAULT 'ok',
    status_message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source_connection TEXT NOT NULL REFERENCES connections(id),
    source_object TEXT NOT NULL,
    target_connection TEXT NOT NULL REFERENCES connections(id),
    target_object TEXT NOT NULL,
    spec TEXT NOT NULL,
    -- The notification webhook's URL and token, encrypted (see hub/store/src/flows.rs).
    notify_secret_enc TEXT,
    enabled BIGINT NOT NULL,
    schedule_cron TEXT,
    schedule_tz TEXT,
    next_fire_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX flows_next_fire ON flows (next_fire_at) WHERE enabled = 1;

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    queued_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    scheduled_for BIGINT,
    attempt BIGINT NOT NULL DEFAULT 1,
    not_before BIGINT,
    claimed_by TEXT,
    lease_until BIGINT,
    count_read BIGINT NOT NULL DEFAULT 0,
    count_created BIGINT NOT NULL DEFAULT 0,
    count_updated BIGINT NOT NULL DEFAULT 0,
    count_unchanged BIGINT NOT NULL DEFAULT 0,
    count_skipped BIGINT NOT NULL DEFAULT 0,
    count_failed BIGINT NOT NULL DEFAULT 0,
    message TEXT,
    checkpoint TEXT
);
CREATE INDEX runs_flow_queued ON runs (flow_id, queued_at DESC);
CREATE INDEX runs_status ON runs (status, queued_at);
-- One queued-or-running run per flow, enforced by the database itself.
CREATE UNIQUE INDEX runs_one_active_per_flow ON runs (flow_id) WHERE status IN ('queued', 'running');
-- Each scheduled occurrence is queued at most once.
CREATE UNIQUE INDEX runs_one_per_occurrence ON runs (flow_id, scheduled_for) WHERE scheduled_for IS NOT NULL AND trigger = 'schedule';

CREATE TABLE run_errors (
    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    record TEXT NOT NULL,
    side TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE links (
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    source_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    source_fingerprint TEXT,
    target_fingerprint TEXT,
    source_version TEXT,
    target_version TEXT,
    synced_copy TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, source_id)
);
CREATE UNIQUE INDEX links_target ON links (flow_id, target_id);

CREATE TABLE cursors (
    flow_id TEXT NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    side TEXT NOT NULL,
    cursor TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (flow_id, side)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE inquiries (
    id TEXT PRIMARY KEY,
    company TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    connector_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Pending OAuth authorization-code flows: the state sent to the provider, checked on return.
CREATE TABLE oauth_states (
    state TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    pkce_verifier_enc TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
