-- PostgreSQL twin of migrations/sqlite/2026-12-07-000130_webhooks: a team's webhooks and
-- the outbox of their deliveries (see the SQLite file for what each column means).
CREATE TABLE webhooks (
    id                         TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    team_id                    TEXT    COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    url                        TEXT    NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events                     TEXT    NOT NULL,
    description                TEXT             CHECK (length(description) <= 20000),
    active                     BOOLEAN NOT NULL DEFAULT true,
    secret                     TEXT    NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at BIGINT,
    failed_deliveries          INTEGER NOT NULL DEFAULT 0,
    created_by                 TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    created_at                 BIGINT  NOT NULL,
    updated_at                 BIGINT  NOT NULL,
    version                    BIGINT  NOT NULL DEFAULT 1
);

CREATE INDEX webhooks_by_team ON webhooks (team_id, id);

CREATE TABLE webhook_deliveries (
    id              TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    webhook_id      TEXT    COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT    COLLATE "C" NOT NULL,
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

CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (created_at);
