DROP INDEX notes_by_created;
DROP INDEX notes_by_updated;
DROP INDEX notes_by_title;
-- Every note lands on the anonymous board again.
ALTER TABLE notes DROP COLUMN owner_id;
CREATE INDEX notes_by_created ON notes (created_at, id);
CREATE INDEX notes_by_updated ON notes (updated_at, id);
CREATE INDEX notes_by_title   ON notes (title, id);
