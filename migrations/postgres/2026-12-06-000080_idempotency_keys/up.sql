-- PostgreSQL twin of migrations/sqlite/2026-12-06-000080_idempotency_keys: a POST's
-- `Idempotency-Key` with the response it got, per caller, for 24 hours.
CREATE TABLE idempotency_keys (
    scope        TEXT    COLLATE "C" NOT NULL,
    key          TEXT    COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  TEXT    NOT NULL,
    claim        TEXT    NOT NULL,
    written      BOOLEAN NOT NULL DEFAULT false,
    status       INTEGER,
    content_type TEXT,
    location     TEXT,
    etag         TEXT,
    body         TEXT,
    created_at   BIGINT  NOT NULL,
    claimed_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
