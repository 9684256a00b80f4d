-- API tokens get a role (what they may do on /api, as for web users: admin, operator, read_only),
-- an optional expiry and a revocation time. Tokens made before this migration keep full access
-- (role admin, no expiry), so existing scripts keep working. A revoked token stays listed.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;
