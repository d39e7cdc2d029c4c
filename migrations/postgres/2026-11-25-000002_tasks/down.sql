DROP TABLE IF EXISTS task_completions;
DROP TABLE IF EXISTS task_counts;
DROP TABLE IF EXISTS tasks;
DROP FUNCTION IF EXISTS task_counters();
DROP FUNCTION IF EXISTS is_iso_date(text);
