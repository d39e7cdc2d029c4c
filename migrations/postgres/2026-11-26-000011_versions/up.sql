-- PostgreSQL twin of migrations/sqlite/2026-11-26-000011_versions: notes and tasks carry
-- a version (the `ETag`), 1 at creation and one more on every real change.
ALTER TABLE notes ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE tasks ADD COLUMN version BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1);
