-- Web UI users and their sessions (the same SQL on SQLite and PostgreSQL).
-- Passwords are argon2 PHC strings; a session is known here only by the SHA-256 of its cookie
-- value, so a copy of the database cannot be used to take over a browser session. Session data
-- (the 新しい接続 wizard's answers, which may hold credentials typed so far) is encrypted.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    data_enc TEXT,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);
