DROP TRIGGER IF EXISTS tasks_fts_update;
DROP TRIGGER IF EXISTS tasks_fts_delete;
DROP TRIGGER IF EXISTS tasks_fts_insert;
DROP TABLE IF EXISTS tasks_fts;
DROP TABLE IF EXISTS tasks;
