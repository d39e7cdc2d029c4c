-- PostgreSQL twin of migrations/sqlite/2026-11-26-000010_personal_boards: a note's board
-- is `owner_id` (NULL for the anonymous board), and every note index leads with it.
ALTER TABLE notes ADD COLUMN owner_id TEXT COLLATE "C";

DROP INDEX notes_by_created;
DROP INDEX notes_by_updated;
DROP INDEX notes_by_title;
CREATE INDEX notes_by_created ON notes (owner_id, created_at, id);
CREATE INDEX notes_by_updated ON notes (owner_id, updated_at, id);
CREATE INDEX notes_by_title   ON notes (owner_id, title, id);
