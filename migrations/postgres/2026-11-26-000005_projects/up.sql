-- PostgreSQL twin of migrations/sqlite/2026-11-26-000005_projects (see the notes migration
-- for the house rules). Enums are stored as their rank: role 0 member, 1 admin; status
-- 0 todo, 1 in_progress, 2 done; priority 0 low, 1 medium, 2 high, 3 urgent.
CREATE TABLE teams (
    id          TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT            CHECK (length(description) <= 20000),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id   TEXT    COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    role      INTEGER NOT NULL CONSTRAINT team_members_role CHECK (role IN (0, 1)),
    joined_at BIGINT  NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE INDEX team_members_by_user ON team_members (user_id, team_id);
CREATE INDEX team_members_by_role ON team_members (team_id, role);

CREATE TABLE team_invites (
    code_hash  BYTEA   NOT NULL PRIMARY KEY CHECK (length(code_hash) = 32),
    team_id    TEXT    COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    role       INTEGER NOT NULL CHECK (role IN (0, 1)),
    created_by TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL CHECK (expires_at > created_at),
    revoked_at BIGINT
);

CREATE INDEX team_invites_by_team ON team_invites (team_id, created_at);

-- `archived` is a BOOLEAN (Diesel's `Bool`); SQLite spells it INTEGER CHECK (0, 1), a
-- check the type makes unnecessary here.
CREATE TABLE projects (
    id          TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    team_id     TEXT    COLLATE "C" NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description TEXT             CHECK (length(description) <= 20000),
    archived    BOOLEAN NOT NULL DEFAULT false,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);

CREATE INDEX projects_by_team ON projects (team_id, id);

-- Sort keys as on `tasks`: `title_key` is the title with ASCII lower-cased (NOCASE order
-- in bytes), `assignee_key` is '' for unassigned.
CREATE TABLE project_tasks (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT    COLLATE "C" NOT NULL UNIQUE,
    team_id      TEXT    COLLATE "C" NOT NULL,
    project_id   TEXT    COLLATE "C" NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT             CHECK (length(description) <= 20000),
    status       INTEGER NOT NULL CONSTRAINT project_tasks_status CHECK (status IN (0, 1, 2)),
    priority     INTEGER NOT NULL CONSTRAINT project_tasks_priority CHECK (priority IN (0, 1, 2, 3)),
    due_date     TEXT    COLLATE "C" CHECK (due_date IS NULL OR (length(due_date) = 10 AND is_iso_date(due_date))),
    assignee_id  TEXT    COLLATE "C" REFERENCES users (id),
    created_by   TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version      BIGINT  NOT NULL CHECK (version >= 1),
    due_key      TEXT    COLLATE "C" GENERATED ALWAYS AS (coalesce(due_date, '9999-99-99')) STORED,
    title_key    TEXT    COLLATE "C" GENERATED ALWAYS AS (lower(title COLLATE "C")) STORED,
    assignee_key TEXT    COLLATE "C" GENERATED ALWAYS AS (coalesce(assignee_id, '')) STORED,
    -- Full-text search over title and description, queried as `notes.search` is.
    search       tsvector GENERATED ALWAYS AS
                     (to_tsvector('simple', search_fold(title || ' ' || coalesce(description, '')))) STORED
);

-- The same indexes as on SQLite. Which of them PostgreSQL's planner uses (and whether it
-- wants others) is for the PostgreSQL plan tests to say.
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
CREATE INDEX project_tasks_assignee_created  ON project_tasks (team_id, assignee_key, created_at, id);
CREATE INDEX project_tasks_assignee_updated  ON project_tasks (team_id, assignee_key, updated_at, id);
CREATE INDEX project_tasks_assignee_due      ON project_tasks (team_id, assignee_key, due_key, id);
CREATE INDEX project_tasks_assignee_priority ON project_tasks (team_id, assignee_key, priority, id);
CREATE INDEX project_tasks_assignee_status   ON project_tasks (team_id, assignee_key, status, id);
CREATE INDEX project_tasks_assignee_title    ON project_tasks (team_id, assignee_key, title_key, id);

CREATE INDEX project_tasks_search ON project_tasks USING gin (search);

CREATE TABLE task_comments (
    id         TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    task_id    TEXT   COLLATE "C" NOT NULL REFERENCES project_tasks (id) ON DELETE CASCADE,
    author_id  TEXT   COLLATE "C" NOT NULL REFERENCES users (id),
    body       TEXT   NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX task_comments_by_task ON task_comments (task_id, id);
