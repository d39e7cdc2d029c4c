-- SQLite twin of migrations/postgres/2026-12-06-000072_postgres_search_without_pending_list,
-- which turns off the pending list of PostgreSQL's full-text (GIN) indexes. FTS5 has no
-- such list (its segments are merged by the writer when idle, see storage::search). Nothing
-- to change; the folder exists so that both engines record the same migration versions.
SELECT 1;
