-- Boards (API section 7): every project task has a position in its status column, an
-- opaque fractional key (base-62 digits, compared as bytes) that a move rewrites for the
-- moved task only. Existing tasks get positions in their current created order, per
-- project and status column: four base-62 digits of their rank and a 'V' (never a
-- trailing '0', so a key can always be put before or between).
ALTER TABLE project_tasks ADD COLUMN position TEXT NOT NULL DEFAULT '';

UPDATE project_tasks SET position = ranked.position
FROM (
    SELECT id,
           substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', CAST(r / 238328 % 62 AS INTEGER) + 1, 1)
        || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', CAST(r / 3844 % 62 AS INTEGER) + 1, 1)
        || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', CAST(r / 62 % 62 AS INTEGER) + 1, 1)
        || substr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', CAST(r % 62 AS INTEGER) + 1, 1)
        || 'V' AS position
    FROM (SELECT id, row_number() OVER (PARTITION BY project_id, status ORDER BY created_at, id) AS r
          FROM project_tasks) AS numbered
) AS ranked
WHERE ranked.id = project_tasks.id;

-- No two tasks share a place in a column: concurrent moves to one spot cannot both win.
CREATE UNIQUE INDEX project_tasks_board_place ON project_tasks (project_id, status, position);

-- `sort=position`: status rank, then position, as one byte-ordered key (the rank is one
-- digit), so a keyset row value seeks it exactly as it does the other sort keys.
ALTER TABLE project_tasks ADD COLUMN board_key TEXT GENERATED ALWAYS AS (status || position) VIRTUAL;
CREATE INDEX project_tasks_team_board     ON project_tasks (team_id, board_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_board     ON project_tasks (project_id, board_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_assignee_board ON project_tasks (team_id, assignee_key, board_key, id);

-- Bumped by every write that places a task on the project's board (create, status
-- change, move): the row lock serialises them, so two cannot take one free spot.
ALTER TABLE projects ADD COLUMN board_seq BIGINT NOT NULL DEFAULT 0;
