-- SQLite twin of migrations/postgres/2026-12-07-000170_search_fold_ascii, which makes
-- PostgreSQL's `search_fold` cheaper for ASCII text. FTS5 folds text in its tokenizer;
-- nothing to change here. The folder exists so that both engines record the same
-- migration versions.
SELECT 1;
