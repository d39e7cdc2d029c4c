-- PostgreSQL twin of migrations/sqlite/2026-11-25-000002_tasks (see the notes migration
-- for the house rules). `status` is the workflow rank (0 pending, 1 in_progress,
-- 2 completed); `due_date` is `YYYY-MM-DD` text; `owner_id` is NULL on the anonymous board.

-- SQLite checks a due date with `date(due_date, '+0 days') IS due_date` (a real date
-- survives the round trip, 2026-02-30 does not). PostgreSQL's casts raise errors instead
-- of failing a CHECK, so the same test is spelled out: the shape first (CASE keeps the
-- casts from running on anything else), then the day against the month's length.
CREATE FUNCTION is_iso_date(d text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT CASE
        WHEN d ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' THEN
            substr(d, 9, 2)::int <= extract(day FROM
                make_date(greatest(substr(d, 1, 4)::int, 1), substr(d, 6, 2)::int, 1)
                + interval '1 month' - interval '1 day')
        ELSE false
    END $$;

CREATE TABLE tasks (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT    COLLATE "C" NOT NULL UNIQUE,
    owner_id     TEXT    COLLATE "C",
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT             CHECK (length(description) <= 20000),
    status       INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    due_date     TEXT    COLLATE "C" CHECK (due_date IS NULL OR (length(due_date) = 10 AND is_iso_date(due_date))),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL CHECK (updated_at >= created_at),
    completed_at BIGINT,
    -- Sort keys as generated columns, as on SQLite. `title_key` is the title with ASCII
    -- letters lower-cased (`lower` under the "C" collation folds ASCII only), so its byte
    -- order is SQLite's NOCASE order. Unlike SQLite's (which holds the title and compares
    -- it NOCASE) the stored value is lower case: a keyset cursor on the title compares
    -- `(title_key, id) > (lower(? COLLATE "C"), ?)`.
    due_key      TEXT    COLLATE "C" GENERATED ALWAYS AS (coalesce(due_date, '9999-99-99')) STORED,
    title_key    TEXT    COLLATE "C" GENERATED ALWAYS AS (lower(title COLLATE "C")) STORED,
    -- completed_at is set exactly while the task is completed.
    CHECK ((status = 2) = (completed_at IS NOT NULL)),
    -- Full-text search over title and description, queried as `notes.search` is.
    search       tsvector GENERATED ALWAYS AS
                     (to_tsvector('simple', search_fold(title || ' ' || coalesce(description, '')))) STORED
);

CREATE INDEX tasks_by_created ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_by_updated ON tasks (owner_id, updated_at, id);
CREATE INDEX tasks_by_due     ON tasks (owner_id, due_key, id);
CREATE INDEX tasks_by_title   ON tasks (owner_id, title_key, id);
CREATE INDEX tasks_by_status  ON tasks (owner_id, status, id);

CREATE INDEX tasks_by_status_due     ON tasks (owner_id, status, due_key, id);
CREATE INDEX tasks_by_status_created ON tasks (owner_id, status, created_at, id);

CREATE INDEX tasks_search ON tasks USING gin (search);

-- Counters behind GET /tasks/stats, kept by the trigger below in the transaction of every
-- task change. `owner_key` is coalesce(owner_id, '').
CREATE TABLE task_counts (
    owner_key TEXT    COLLATE "C" NOT NULL,
    status    INTEGER NOT NULL,
    due_key   TEXT    COLLATE "C" NOT NULL,
    n         BIGINT  NOT NULL,
    PRIMARY KEY (owner_key, status, due_key)
);

-- Completions per UTC day (days since the Unix epoch).
CREATE TABLE task_completions (
    owner_key TEXT   COLLATE "C" NOT NULL,
    day       BIGINT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (owner_key, day)
);

-- SQLite's three counter triggers in one function: the old row leaves its counters, the
-- new one joins its own. Integer division truncates on both engines.
CREATE FUNCTION task_counters() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE task_counts SET n = n - 1
         WHERE owner_key = coalesce(OLD.owner_id, '') AND status = OLD.status AND due_key = OLD.due_key;
        IF OLD.completed_at IS NOT NULL THEN
            UPDATE task_completions SET n = n - 1
             WHERE owner_key = coalesce(OLD.owner_id, '') AND day = OLD.completed_at / 86400000;
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO task_counts (owner_key, status, due_key, n)
            VALUES (coalesce(NEW.owner_id, ''), NEW.status, NEW.due_key, 1)
            ON CONFLICT (owner_key, status, due_key) DO UPDATE SET n = task_counts.n + 1;
        IF NEW.completed_at IS NOT NULL THEN
            INSERT INTO task_completions (owner_key, day, n)
                VALUES (coalesce(NEW.owner_id, ''), NEW.completed_at / 86400000, 1)
                ON CONFLICT (owner_key, day) DO UPDATE SET n = task_completions.n + 1;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER task_counters_insert AFTER INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counters();

CREATE TRIGGER task_counters_delete AFTER DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION task_counters();

CREATE TRIGGER task_counters_update AFTER UPDATE OF owner_id, status, due_date, completed_at ON tasks
    FOR EACH ROW
    WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.due_date IS DISTINCT FROM NEW.due_date OR OLD.completed_at IS DISTINCT FROM NEW.completed_at)
    EXECUTE FUNCTION task_counters();
