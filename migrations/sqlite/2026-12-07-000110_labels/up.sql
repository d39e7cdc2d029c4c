-- Issue 19, point 2: labels of a team, and which tasks carry them.
--
-- A label's name is unique in its team ignoring case: `name_key` holds the name folded
-- to lower case by the application (Unicode `to_lowercase`, the same on both engines), and
-- the unique index (team_id, name_key) is also the order of `GET /teams/{id}/labels`.
CREATE TABLE labels (
    id         TEXT    NOT NULL PRIMARY KEY,
    team_id    TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    name_key   TEXT    NOT NULL,
    color      TEXT    NOT NULL CONSTRAINT labels_color CHECK (length(color) = 7 AND substr(color, 1, 1) = '#'),
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    version    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX labels_by_name ON labels (team_id, name_key);

-- Deleting a task or a label removes its rows here. The primary key loads the labels of a
-- page of tasks (`task_id IN (...)`); `task_labels_by_label` finds a label's tasks (the
-- `label` filter, and the tasks whose version a label change moves).
CREATE TABLE task_labels (
    task_id  TEXT NOT NULL REFERENCES project_tasks (id) ON DELETE CASCADE,
    label_id TEXT NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
) WITHOUT ROWID;
CREATE INDEX task_labels_by_label ON task_labels (label_id, task_id);
