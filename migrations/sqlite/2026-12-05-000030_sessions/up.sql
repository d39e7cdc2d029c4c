-- Sessions a user can see and revoke (API section 4: `GET /auth/sessions`,
-- `DELETE /auth/sessions/{id}`, `POST /auth/logout-all`, `POST /auth/password`).
--
-- A token row is a session. `id` is its public id (a UUID; never the token or its hash),
-- `last_used_at` is when it last authenticated a request (written at most once a minute
-- per session, so reads stay reads), `user_agent` (at most 256 characters) and `address`
-- describe the client that logged in. Tokens issued before this migration get a random
-- version-4 id and `last_used_at` = `created_at`.
ALTER TABLE tokens ADD COLUMN id TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN user_agent TEXT CHECK (user_agent IS NULL OR length(user_agent) <= 256);
ALTER TABLE tokens ADD COLUMN address TEXT CHECK (address IS NULL OR length(address) <= 64);

UPDATE tokens SET
    last_used_at = created_at,
    id = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
         || substr(lower(hex(randomblob(2))), 2) || '-'
         || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-'
         || lower(hex(randomblob(6)));

-- `DELETE /auth/sessions/{id}` finds a session by its id; ids never repeat.
CREATE UNIQUE INDEX tokens_by_id ON tokens (id);
-- A user's live sessions in id order (the list's keyset), and every revocation of a user's
-- sessions at once.
CREATE INDEX tokens_by_user_id ON tokens (user_id, id);
