-- The anonymous notes board (`owner_id IS NULL`) in sort order. PostgreSQL's planner does
-- not treat `IS NULL` on an index's leading column as an equality when it matches the
-- index's order to the query's ORDER BY (only `=` makes a column constant), so the board
-- indexes `(owner_id, created_at, id)` and their siblings cannot give the anonymous board
-- its order: it read every anonymous note and sorted them. These partial indexes hold the
-- anonymous notes alone, in each sort's order. `title` sorts its NULLs first ascending
-- (as SQLite does), so that a backward scan gives `-title`'s NULLS LAST order.
CREATE INDEX notes_anonymous_by_created ON notes (created_at, id) WHERE owner_id IS NULL;
CREATE INDEX notes_anonymous_by_updated ON notes (updated_at, id) WHERE owner_id IS NULL;
CREATE INDEX notes_anonymous_by_title ON notes (title NULLS FIRST, id) WHERE owner_id IS NULL;
CREATE INDEX notes_anonymous_by_title_asc ON notes (title_asc_key, id) WHERE owner_id IS NULL;

-- A user's board in `-title` order (title descending, NULLs last): a backward scan of
-- `(owner_id, title NULLS FIRST, id)`. The index of migration 000010 sorted NULLs last.
DROP INDEX notes_by_title;
CREATE INDEX notes_by_title ON notes (owner_id, title NULLS FIRST, id);
