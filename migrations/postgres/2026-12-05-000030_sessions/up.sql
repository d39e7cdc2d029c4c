-- PostgreSQL twin of migrations/sqlite/2026-12-05-000030_sessions: a token row is a
-- session with a public `id` (a UUID), `last_used_at`, and the client's `user_agent` and
-- `address`. Tokens issued before this migration get a random version-4 id
-- (`gen_random_uuid`, built in since PostgreSQL 13) and `last_used_at` = `created_at`.
ALTER TABLE tokens ADD COLUMN id TEXT COLLATE "C";
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN user_agent TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 256);
ALTER TABLE tokens ADD COLUMN address TEXT CHECK (address IS NULL OR length(address) <= 64);

UPDATE tokens SET last_used_at = created_at, id = gen_random_uuid()::text;

CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
CREATE INDEX tokens_by_user_id ON tokens (user_id, id);
