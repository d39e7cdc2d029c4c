-- Mentions and notifications (API section 7, issue 19 point 4).
--
-- `comment_mentions`: the team members a comment mentions (`<@USER_ID>` in its body),
-- resolved when the comment is written or edited, so reads never parse bodies. A page of
-- comments loads its mentions in one query by `comment_id`.
CREATE TABLE comment_mentions (
    comment_id TEXT NOT NULL REFERENCES task_comments (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (comment_id, user_id)
);

-- The number of each user's last notification, bumped inside the write that notifies: a
-- second write notifying the same user waits for the row lock (PostgreSQL) or the single
-- writer (SQLite), so a user's numbers follow commit order and a reader resuming "after
-- N" never skips one that commits later. `last_at` keeps the times (and so the public
-- ids, which start with the time) from going backwards along the numbers.
CREATE TABLE notification_counters (
    user_id  TEXT   NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL CHECK (last_seq >= 1),
    last_at  BIGINT NOT NULL
);

-- One notification: whose (`user_id`), its number in the user's list (`user_seq`), its
-- public id (a UUIDv7 of its time and `user_seq`, so it sorts in the user's commit order;
-- the stream's event id), what kind, the activity entry that caused it, the entry's team
-- (a member who leaves loses the team's notifications), and when it was read.
CREATE TABLE notifications (
    user_id      TEXT   NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_seq     BIGINT NOT NULL,
    public_id    TEXT   NOT NULL,
    kind         TEXT   NOT NULL CONSTRAINT notifications_kind
                        CHECK (kind IN ('mentioned', 'assigned', 'status_changed', 'commented')),
    activity_seq BIGINT NOT NULL REFERENCES activity (seq),
    team_id      TEXT   NOT NULL,
    read_at      BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, user_seq)
);

CREATE UNIQUE INDEX notifications_by_public_id ON notifications (public_id);
-- `unread=true`, newest first (the primary key serves the whole list).
CREATE INDEX notifications_unread ON notifications (user_id, user_seq) WHERE read_at IS NULL;
-- Leaving a team (or its deletion) removes its notifications.
CREATE INDEX notifications_by_team ON notifications (team_id, user_id);
