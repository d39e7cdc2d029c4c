-- PostgreSQL twin of migrations/sqlite/2026-12-07-000100_boards: task positions on a
-- board. Keys are COLLATE "C" so they order by bytes, as on SQLite.
ALTER TABLE project_tasks ADD COLUMN position TEXT COLLATE "C" NOT NULL DEFAULT '';

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

CREATE UNIQUE INDEX project_tasks_board_place ON project_tasks (project_id, status, position);

ALTER TABLE project_tasks ADD COLUMN board_key TEXT COLLATE "C"
    GENERATED ALWAYS AS (status::text || position) STORED;
CREATE INDEX project_tasks_team_board     ON project_tasks (team_id, board_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_board     ON project_tasks (project_id, board_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_assignee_board ON project_tasks (team_id, assignee_key, board_key, id);

ALTER TABLE projects ADD COLUMN board_seq BIGINT NOT NULL DEFAULT 0;
