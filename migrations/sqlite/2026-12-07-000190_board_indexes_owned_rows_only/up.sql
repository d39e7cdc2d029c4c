-- SQLite twin of migrations/postgres/2026-12-07-000190_board_indexes_owned_rows_only, which
-- makes PostgreSQL's owner board indexes partial. SQLite has one set of board indexes for
-- both kinds of board (its planner reads the anonymous board through them), so nothing
-- changes here; the folder exists so that both engines record the same migration versions.
SELECT 1;
