-- Back to stored bodies: deliveries that name an entry get the body built from it, as
-- the worker builds it (the actor's current display name).
CREATE TABLE webhook_deliveries_old (
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
INSERT INTO webhook_deliveries_old
       (id, webhook_id, event_id, action, payload, attempts, last_status, last_error, next_attempt_at, lease,
        delivered_at, created_at)
SELECT d.id, d.webhook_id, d.event_id, d.action,
       coalesce(d.payload, json_object(
           'type', a.action,
           'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', a.created_at / 1000.0, 'unixepoch'),
           'data', json_object(
               'id', a.public_id, 'team_id', a.team_id, 'project_id', a.project_id, 'task_id', a.task_id,
               'actor', json_object('id', a.actor_id, 'display_name', u.display_name),
               'action', a.action, 'details', json(a.details),
               'created_at', strftime('%Y-%m-%dT%H:%M:%fZ', a.created_at / 1000.0, 'unixepoch')))),
       d.attempts, d.last_status, d.last_error, d.next_attempt_at, d.lease, d.delivered_at, d.created_at
  FROM webhook_deliveries d
  LEFT JOIN activity a ON a.seq = d.activity_seq
  LEFT JOIN users u ON u.id = a.actor_id;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_old RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
