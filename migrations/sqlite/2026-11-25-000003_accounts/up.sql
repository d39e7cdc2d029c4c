-- Accounts (API section 4). `id` is the public UUIDv7; timestamps are milliseconds since
-- the Unix epoch (UTC).
--
-- `email` keeps the address as the user typed it (trimmed); `email_normalized` is its
-- lower-case form and carries the uniqueness, so `Ann@Example.com` and `ann@example.com`
-- are one account even when two registrations race: the index decides, not a prior SELECT.
-- `password_hash` is an Argon2id PHC string (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)
-- that carries its own parameters, so raising the cost later needs no migration.
CREATE TABLE users (
    id               TEXT   NOT NULL PRIMARY KEY,
    email            TEXT   NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_normalized TEXT   NOT NULL,
    display_name     TEXT   NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash    TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE UNIQUE INDEX users_by_email ON users (email_normalized);

-- Bearer tokens, stored only as the SHA-256 of the token's 32 random bytes: a stolen
-- database yields no usable token. The hash is the key (every authenticated request is one
-- point lookup), hence WITHOUT ROWID: the row lives in the primary key's b-tree.
-- `revoked_at` is set by logout; expired and revoked rows are pruned when their user logs in.
CREATE TABLE tokens (
    token_hash BLOB   NOT NULL PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL CHECK (expires_at >= created_at),
    revoked_at BIGINT
) WITHOUT ROWID;

-- A user's tokens: pruning at login, and the cascade when a user is deleted.
CREATE INDEX tokens_by_user ON tokens (user_id, expires_at);
