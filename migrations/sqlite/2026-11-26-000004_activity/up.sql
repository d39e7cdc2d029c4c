-- The activity log (API section 6): who did what to which team, project and task.
--
-- `seq` is assigned by SQLite inside the write that records the change, and there is one
-- writer, so `seq` increases in commit order: a stream resumed "after seq N" misses
-- nothing. AUTOINCREMENT keeps a deleted last entry's number from being reused. The
-- public id is a UUIDv7 built from (`created_at`, `seq`), so it sorts like `seq`.
-- `created_at` never decreases along `seq` (append takes the larger of now and the last
-- entry's time), which turns a `since` filter into a `seq` bound found in
-- `activity_by_time`.
-- `team_id`, `project_id` and `task_id` name the subject; they are not foreign keys, so
-- entries outlive what they describe (a deleted task keeps its history) and the log has
-- no dependency on the products' tables.
CREATE TABLE activity (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id    TEXT    NOT NULL,
    project_id TEXT,
    task_id    TEXT,
    actor_id   TEXT    NOT NULL REFERENCES users (id),
    action     TEXT    NOT NULL CONSTRAINT activity_action CHECK (length(action) BETWEEN 1 AND 64),
    details    TEXT    NOT NULL CONSTRAINT activity_details CHECK (json_valid(details) AND json_type(details) = 'object'),
    created_at BIGINT  NOT NULL
);

-- A team's feed, newest first, and each of its filters, newest first.
CREATE INDEX activity_by_team ON activity (team_id, seq);
CREATE INDEX activity_by_team_project ON activity (team_id, project_id, seq);
CREATE INDEX activity_by_team_actor ON activity (team_id, actor_id, seq);
CREATE INDEX activity_by_team_action ON activity (team_id, action, seq);
-- One task's history.
CREATE INDEX activity_by_task ON activity (task_id, seq) WHERE task_id IS NOT NULL;
-- `since`: the first entry at or after a time.
CREATE INDEX activity_by_time ON activity (created_at);
