-- PostgreSQL twin of migrations/sqlite/2026-11-26-000020_search_terms, which adds
-- fts5vocab tables so that `storage::search` can turn an FTS5 prefix into the whole words
-- it stands for (FTS5 gathers every match of a prefix before its first row). PostgreSQL
-- needs no such table: a GIN index answers `'word':*` by a range scan of its sorted
-- lexemes, and `ts_stat('SELECT search FROM notes')` lists the words when a count is
-- wanted. Nothing to create; the folder exists so that both engines record the same
-- migration versions.
SELECT 1;
