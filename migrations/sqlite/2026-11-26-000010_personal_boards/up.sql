-- Personal boards (API sections 2 and 3): with a login, notes and tasks are the caller's
-- own; without one they stay on the shared anonymous board. A note's board is `owner_id`:
-- NULL for the anonymous board, else the owning user's id, as `tasks.owner_id` has been
-- from the start. Existing notes stay on the anonymous board.
--
-- No foreign key to `users`: a board is keyed by the id the token resolved to (a library
-- user may name any board), and accounts are never deleted today. Deleting an account
-- will delete its notes and tasks in the same write.
ALTER TABLE notes ADD COLUMN owner_id TEXT;

-- Every list is scoped to one board (`owner_id IS ?`, an equality for SQLite, NULL
-- included), so every index leads with the owner and a user's page costs what it costs
-- on a board of their own, whatever the other boards hold.
DROP INDEX notes_by_created;
DROP INDEX notes_by_updated;
DROP INDEX notes_by_title;
CREATE INDEX notes_by_created ON notes (owner_id, created_at, id);
CREATE INDEX notes_by_updated ON notes (owner_id, updated_at, id);
CREATE INDEX notes_by_title   ON notes (owner_id, title, id);
