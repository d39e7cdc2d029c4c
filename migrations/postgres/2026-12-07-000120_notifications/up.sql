-- PostgreSQL twin of migrations/sqlite/2026-12-07-000120_notifications (see there for the
-- why). Ids and keys are byte-ordered text (`COLLATE "C"`) like the other tables.
CREATE TABLE comment_mentions (
    comment_id TEXT COLLATE "C" NOT NULL REFERENCES task_comments (id) ON DELETE CASCADE,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, user_id)
);

CREATE TABLE notification_counters (
    user_id  TEXT   COLLATE "C" NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL CHECK (last_seq >= 1),
    last_at  BIGINT NOT NULL
);

CREATE TABLE notifications (
    user_id      TEXT   COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_seq     BIGINT NOT NULL,
    public_id    TEXT   COLLATE "C" NOT NULL,
    kind         TEXT   COLLATE "C" NOT NULL CONSTRAINT notifications_kind
                        CHECK (kind IN ('mentioned', 'assigned', 'status_changed', 'commented')),
    activity_seq BIGINT NOT NULL REFERENCES activity (seq),
    team_id      TEXT   COLLATE "C" NOT NULL,
    read_at      BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, user_seq)
);

CREATE UNIQUE INDEX notifications_by_public_id ON notifications (public_id);
CREATE INDEX notifications_unread ON notifications (user_id, user_seq) WHERE read_at IS NULL;
CREATE INDEX notifications_by_team ON notifications (team_id, user_id);
