-- A delivery of an activity entry no longer stores its body: it names the entry
-- (`activity_seq`, the entry's `activity.seq`) and the worker builds the body from the
-- entry when it claims the delivery. A team's 3 webhooks stored the same ~700-byte body 3
-- times in the write of every change; now the write stores a number. `payload` stays for
-- pings (no entry) and for the deliveries written before this migration. Activity entries
-- are never deleted, so the entry is there for as long as the delivery is.
-- SQLite cannot drop a NOT NULL in place: the table is rebuilt (it holds at most 30 days).
CREATE TABLE webhook_deliveries_new (
    id              TEXT    NOT NULL PRIMARY KEY,
    webhook_id      TEXT    NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id        TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    payload         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER,
    last_error      TEXT,
    next_attempt_at BIGINT,
    lease           TEXT,
    delivered_at    BIGINT,
    created_at      BIGINT  NOT NULL,
    activity_seq    BIGINT,
    CONSTRAINT webhook_deliveries_body CHECK (payload IS NOT NULL OR activity_seq IS NOT NULL)
) WITHOUT ROWID;
INSERT INTO webhook_deliveries_new
       (id, webhook_id, event_id, action, payload, attempts, last_status, last_error, next_attempt_at, lease,
        delivered_at, created_at)
SELECT id, webhook_id, event_id, action, payload, attempts, last_status, last_error, next_attempt_at, lease,
       delivered_at, created_at
  FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
-- As before: a webhook's deliveries, newest first; what the worker claims.
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
