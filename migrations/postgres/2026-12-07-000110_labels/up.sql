-- PostgreSQL twin of migrations/sqlite/2026-12-07-000110_labels: labels of a team, and
-- which tasks carry them. Keys compare bytewise (`COLLATE "C"`), as on SQLite.
CREATE TABLE labels (
    id         TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    team_id    TEXT    COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    name_key   TEXT    COLLATE "C" NOT NULL,
    color      TEXT    NOT NULL CONSTRAINT labels_color CHECK (length(color) = 7 AND substr(color, 1, 1) = '#'),
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    version    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX labels_by_name ON labels (team_id, name_key);

CREATE TABLE task_labels (
    task_id  TEXT COLLATE "C" NOT NULL REFERENCES project_tasks (id) ON DELETE CASCADE,
    label_id TEXT COLLATE "C" NOT NULL REFERENCES labels (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, label_id)
);
CREATE INDEX task_labels_by_label ON task_labels (label_id, task_id);
