-- Signed webhooks (API section 7): a team's registered endpoints, and the outbox of
-- deliveries written in the same transaction as the activity entry each one carries.

-- `events` is a JSON array of actions and `prefix.*` patterns. `secret` (and the one it
-- replaced, signing beside it until `previous_secret_expires_at`) is kept as is: the
-- server must sign with it (docs/operations.md says where it lives and the risk).
-- `failed_deliveries` counts deliveries in a row that used up their attempts; at 20 the
-- webhook is disabled.
CREATE TABLE webhooks (
    id                         TEXT    NOT NULL PRIMARY KEY,
    team_id                    TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    url                        TEXT    NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events                     TEXT    NOT NULL,
    description                TEXT             CHECK (length(description) <= 20000),
    active                     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    secret                     TEXT    NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    failed_deliveries          INTEGER NOT NULL DEFAULT 0,
    created_by                 TEXT    NOT NULL REFERENCES users (id),
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL,
    version                    BIGINT  NOT NULL DEFAULT 1
);

-- A team's webhooks in creation order; also what every activity append reads (the team's
-- active webhooks), so a team without webhooks costs one index probe.
CREATE INDEX webhooks_by_team ON webhooks (team_id, id);

-- `next_attempt_at` is when the next attempt is due (NULL: delivered or given up); a
-- claimed delivery's is pushed to the end of its lease, so one that a dead process held
-- is due again once the lease is over. `lease` names the claim that may record the attempt.
CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY,
    webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    next_attempt_at BIGINT,
    lease           TEXT,
    delivered_at    BIGINT,
    created_at      BIGINT  NOT NULL
);

-- A webhook's deliveries, newest first (UUIDv7 ids are time-ordered).
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
-- What the worker claims: the due deliveries, soonest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- The retention sweep: deliveries older than 30 days.
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (created_at);
