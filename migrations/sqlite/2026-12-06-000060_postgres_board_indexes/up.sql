-- SQLite twin of migrations/postgres/2026-12-06-000060_postgres_board_indexes, which adds
-- PostgreSQL-only indexes for the anonymous notes and tasks boards. SQLite needs none: its planner
-- treats `owner_id IS NULL` as an equality on the leading column of the board indexes,
-- so they already give the anonymous board's rows in sort order. Nothing to create; the
-- folder exists so that both engines record the same migration versions.
SELECT 1;
