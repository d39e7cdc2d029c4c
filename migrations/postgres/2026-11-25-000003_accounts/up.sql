-- PostgreSQL twin of migrations/sqlite/2026-11-25-000003_accounts (see the notes migration
-- for the house rules).
--
-- `email_normalized` is the lower-case form of `email` and carries the uniqueness, so
-- `Ann@Example.com` and `ann@example.com` are one account on both engines even when two
-- registrations race: the unique index decides, not a prior SELECT.
CREATE TABLE users (
    id               TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    email            TEXT   NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized TEXT   COLLATE "C" NOT NULL,
    display_name     TEXT   NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash    TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE UNIQUE INDEX users_by_email ON users (email_normalized);

-- Bearer tokens, kept only as the SHA-256 of the token (32 bytes; `length` of a BYTEA
-- counts bytes).
CREATE TABLE tokens (
    token_hash BYTEA  NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    TEXT   COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL CHECK (expires_at >= created_at),
    revoked_at BIGINT
);

CREATE INDEX tokens_by_user ON tokens (user_id, expires_at);
