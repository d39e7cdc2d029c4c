-- Team projects (API section 6): teams, their members and invites, projects, tasks and
-- comments. Ids are UUIDv7 text, times milliseconds since the Unix epoch (UTC). Enums are
-- stored as their rank so that sorting follows the natural order: role 0 member, 1 admin;
-- status 0 todo, 1 in_progress, 2 done; priority 0 low, 1 medium, 2 high, 3 urgent.
CREATE TABLE teams (
    id          TEXT   NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT            CHECK (length(description) <= 20000),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Membership is the access rule of everything in a team: every read checks one row here.
CREATE TABLE team_members (
    team_id   TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   TEXT    NOT NULL REFERENCES users (id),
    role      INTEGER NOT NULL CONSTRAINT team_members_role CHECK (role IN (0, 1)),
    joined_at BIGINT  NOT NULL,
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;

-- "My teams", and the admins of a team (the last-admin rule counts them).
CREATE INDEX team_members_by_user ON team_members (user_id, team_id);
CREATE INDEX team_members_by_role ON team_members (team_id, role);

-- Invite codes are 128+ random bits shown once; only their SHA-256 is kept.
CREATE TABLE team_invites (
    code_hash  BLOB    NOT NULL PRIMARY KEY CHECK (length(code_hash) = 32),
    team_id    TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    role       INTEGER NOT NULL CHECK (role IN (0, 1)),
    created_by TEXT    NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL CHECK (expires_at > created_at),
    revoked_at BIGINT
) WITHOUT ROWID;

CREATE INDEX team_invites_by_team ON team_invites (team_id, created_at);

CREATE TABLE projects (
    id          TEXT    NOT NULL PRIMARY KEY,
    team_id     TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT             CHECK (length(description) <= 20000),
    archived    INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

-- A team's projects in creation order (UUIDv7 ids are time-ordered).
CREATE INDEX projects_by_team ON projects (team_id, id);

-- Tasks carry their team (denormalised from the project) so that team-wide lists and the
-- membership check need no join. `seq` is the rowid FTS5 indexes.
CREATE TABLE project_tasks (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    team_id     TEXT    NOT NULL,
    project_id  TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title       TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description TEXT             CHECK (length(description) <= 20000),
    status      INTEGER NOT NULL CONSTRAINT project_tasks_status CHECK (status IN (0, 1, 2)),
    priority    INTEGER NOT NULL CONSTRAINT project_tasks_priority CHECK (priority IN (0, 1, 2, 3)),
    due_date    TEXT             CHECK (due_date IS NULL OR (length(due_date) = 10 AND date(due_date, '+0 days') IS due_date)),
    assignee_id TEXT             REFERENCES users (id),
    created_by  TEXT    NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version     INTEGER NOT NULL CHECK (version >= 1),
    -- Sort keys as generated columns, so keyset row values seek exactly (see tasks).
    due_key     TEXT GENERATED ALWAYS AS (coalesce(due_date, '9999-99-99')) VIRTUAL,
    title_key   TEXT GENERATED ALWAYS AS (title) VIRTUAL COLLATE NOCASE,
    -- '' for unassigned: an equality key for `assignee=none` and `assignee=<id>`.
    assignee_key TEXT GENERATED ALWAYS AS (coalesce(assignee_id, '')) VIRTUAL
);

-- One index per sort, per scope (a project, or the whole team), the id last. The filter
-- columns ride along at the end so that a walk tests them inside the index and reads only
-- the rows it returns.
CREATE INDEX project_tasks_team_created  ON project_tasks (team_id, created_at, id, status, priority, assignee_key);
CREATE INDEX project_tasks_team_updated  ON project_tasks (team_id, updated_at, id, status, priority, assignee_key);
CREATE INDEX project_tasks_team_due      ON project_tasks (team_id, due_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_team_priority ON project_tasks (team_id, priority, id, status, assignee_key);
CREATE INDEX project_tasks_team_status   ON project_tasks (team_id, status, id, priority, assignee_key);
CREATE INDEX project_tasks_team_title    ON project_tasks (team_id, title_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_created  ON project_tasks (project_id, created_at, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_updated  ON project_tasks (project_id, updated_at, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_due      ON project_tasks (project_id, due_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_priority ON project_tasks (project_id, priority, id, status, assignee_key);
CREATE INDEX project_tasks_proj_status   ON project_tasks (project_id, status, id, priority, assignee_key);
CREATE INDEX project_tasks_proj_title    ON project_tasks (project_id, title_key, id, status, priority, assignee_key);
-- "My tasks" (assignee = me) in the team, by each sort.
CREATE INDEX project_tasks_assignee_created  ON project_tasks (team_id, assignee_key, created_at, id);
CREATE INDEX project_tasks_assignee_updated  ON project_tasks (team_id, assignee_key, updated_at, id);
CREATE INDEX project_tasks_assignee_due      ON project_tasks (team_id, assignee_key, due_key, id);
CREATE INDEX project_tasks_assignee_priority ON project_tasks (team_id, assignee_key, priority, id);
CREATE INDEX project_tasks_assignee_status   ON project_tasks (team_id, assignee_key, status, id);
CREATE INDEX project_tasks_assignee_title    ON project_tasks (team_id, assignee_key, title_key, id);

CREATE VIRTUAL TABLE project_tasks_fts USING fts5(
    title, description,
    content = 'project_tasks', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER project_tasks_fts_insert AFTER INSERT ON project_tasks BEGIN
    INSERT INTO project_tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE TRIGGER project_tasks_fts_delete AFTER DELETE ON project_tasks BEGIN
    INSERT INTO project_tasks_fts (project_tasks_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
END;

CREATE TRIGGER project_tasks_fts_update AFTER UPDATE OF title, description ON project_tasks BEGIN
    INSERT INTO project_tasks_fts (project_tasks_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO project_tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE TABLE task_comments (
    id         TEXT   NOT NULL PRIMARY KEY,
    task_id    TEXT   NOT NULL REFERENCES project_tasks (id) ON DELETE CASCADE,
    author_id  TEXT   NOT NULL REFERENCES users (id),
    body       TEXT   NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A task's discussion, oldest first (UUIDv7 ids are time-ordered).
CREATE INDEX task_comments_by_task ON task_comments (task_id, id);
