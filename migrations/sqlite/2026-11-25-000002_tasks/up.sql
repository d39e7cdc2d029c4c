-- Freelancer tasks (API section 3). `seq` is the integer rowid FTS5 needs; `id` is the
-- public UUIDv7. Timestamps are milliseconds since the Unix epoch (UTC). `due_date` is
-- `YYYY-MM-DD` text, whose text order is date order. `status` is stored as its workflow
-- rank (0 pending, 1 in_progress, 2 completed) so that sorting by status follows the
-- workflow instead of the alphabet.
--
-- `owner_id` is NULL for every task until accounts own tasks (see docs/tasks.md). Every
-- index leads with it and every query says `owner_id IS NULL` (an equality for SQLite), so
-- when owners arrive the queries say `owner_id = ?` and keep exactly the same plans.
CREATE TABLE tasks (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    owner_id     TEXT,
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT             CHECK (length(description) <= 20000),
    status       INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    -- A real date: the '+0 days' modifier normalises 2026-02-30 to 2026-03-02, so it fails.
    due_date     TEXT             CHECK (due_date IS NULL OR (length(due_date) = 10 AND date(due_date, '+0 days') IS due_date)),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL CHECK (updated_at >= created_at),
    completed_at BIGINT,
    -- Sort keys as (virtual, never stored) columns: an index on a plain column lets SQLite
    -- seek a keyset cursor exactly with a row value `(due_key, id) > (?, ?)`, which it does
    -- not do for an index on an expression (measured: a page 1,000 rows deep cost 1.6x the
    -- first page with expression keys, about 1x with these columns).
    due_key      TEXT GENERATED ALWAYS AS (coalesce(due_date, '9999-99-99')) VIRTUAL,
    title_key    TEXT GENERATED ALWAYS AS (title) VIRTUAL COLLATE NOCASE,
    -- completed_at is set exactly while the task is completed.
    CHECK ((status = 2) = (completed_at IS NOT NULL))
);

-- One index per sort, the id tie-breaker last. Tasks without a due date sort after every
-- date (ascending): the sort key `due_key` is coalesce(due_date, '9999-99-99'), a value
-- above every real date, so the keyset predicate works on a key that is never NULL.
-- Titles sort case-insensitively through `title_key` (NOCASE).
CREATE INDEX tasks_by_created ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_by_updated ON tasks (owner_id, updated_at, id);
CREATE INDEX tasks_by_due     ON tasks (owner_id, due_key, id);
CREATE INDEX tasks_by_title   ON tasks (owner_id, title_key, id);
CREATE INDEX tasks_by_status  ON tasks (owner_id, status, id);

-- One status in front of the two most used orders ("my pending tasks, due soonest first",
-- "newest first").
CREATE INDEX tasks_by_status_due     ON tasks (owner_id, status, due_key, id);
CREATE INDEX tasks_by_status_created ON tasks (owner_id, status, created_at, id);

-- Full-text index over title and description, kept in step by triggers (external content).
CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, description,
    content = 'tasks', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description) VALUES ('delete', old.seq, old.title, old.description);
END;

CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks BEGIN
    INSERT INTO tasks_fts (tasks_fts, rowid, title, description) VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO tasks_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

-- Counters behind GET /tasks/stats, kept by triggers in the same transaction as every task
-- change, so the stats read a few hundred rows instead of counting every task (measured
-- with 100,000 tasks: ~100 stats/s when counting). `owner_key` is coalesce(owner_id, '').
CREATE TABLE task_counts (
    owner_key TEXT    NOT NULL,
    status    INTEGER NOT NULL,
    due_key   TEXT    NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (owner_key, status, due_key)
) WITHOUT ROWID;

-- Completions per UTC day (days since the Unix epoch).
CREATE TABLE task_completions (
    owner_key TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (owner_key, day)
) WITHOUT ROWID;

CREATE TRIGGER task_counters_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO task_counts (owner_key, status, due_key, n)
        VALUES (coalesce(new.owner_id, ''), new.status, new.due_key, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    INSERT INTO task_completions (owner_key, day, n)
        SELECT coalesce(new.owner_id, ''), new.completed_at / 86400000, 1 WHERE new.completed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER task_counters_delete AFTER DELETE ON tasks BEGIN
    UPDATE task_counts SET n = n - 1
        WHERE owner_key = coalesce(old.owner_id, '') AND status = old.status AND due_key = old.due_key;
    UPDATE task_completions SET n = n - 1
        WHERE old.completed_at IS NOT NULL AND owner_key = coalesce(old.owner_id, '')
          AND day = old.completed_at / 86400000;
END;

CREATE TRIGGER task_counters_update AFTER UPDATE OF owner_id, status, due_date, completed_at ON tasks
WHEN old.owner_id IS NOT new.owner_id OR old.status IS NOT new.status
  OR old.due_date IS NOT new.due_date OR old.completed_at IS NOT new.completed_at
BEGIN
    UPDATE task_counts SET n = n - 1
        WHERE owner_key = coalesce(old.owner_id, '') AND status = old.status AND due_key = old.due_key;
    INSERT INTO task_counts (owner_key, status, due_key, n)
        VALUES (coalesce(new.owner_id, ''), new.status, new.due_key, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
    UPDATE task_completions SET n = n - 1
        WHERE old.completed_at IS NOT NULL AND owner_key = coalesce(old.owner_id, '')
          AND day = old.completed_at / 86400000;
    INSERT INTO task_completions (owner_key, day, n)
        SELECT coalesce(new.owner_id, ''), new.completed_at / 86400000, 1 WHERE new.completed_at IS NOT NULL
        ON CONFLICT DO UPDATE SET n = n + 1;
END;
