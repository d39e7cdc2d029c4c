-- Idempotency keys (API section 1): a POST that creates something may carry
-- `Idempotency-Key`; a repeat with the same key from the same caller within 24 hours gets
-- the first response again and creates nothing.
--
-- One row per (caller, key). `scope` is the caller's user id, or '' for the anonymous
-- board. `fingerprint` is the SHA-256 (hex) of the method, the path and the canonical JSON
-- body: the same key with another request is refused. `claim` names the request that
-- holds the key (a fresh UUID per attempt); `claimed_at` starts its lease. `written` is
-- set inside the write transaction of the request that holds the claim, so a key whose
-- request crashed before committing can be taken over safely, and one whose write
-- committed is never run again. `status` is NULL while the first request runs; then the
-- response (status, content type, Location, ETag, body) is kept for replays.
-- `created_at` bounds the age (24 h): older rows are ignored and swept.
CREATE TABLE idempotency_keys (
    scope        TEXT    NOT NULL,
    key          TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  TEXT    NOT NULL,
    claim        TEXT    NOT NULL,
    written      INTEGER NOT NULL DEFAULT 0 CHECK (written IN (0, 1)),
    status       INTEGER,
    content_type TEXT,
    location     TEXT,
    etag         TEXT,
    body         TEXT,
    created_at   BIGINT  NOT NULL,
    claimed_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

-- The sweep of keys past their 24 hours, oldest first.
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
