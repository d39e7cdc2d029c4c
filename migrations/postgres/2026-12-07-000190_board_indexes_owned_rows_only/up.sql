-- The board indexes that lead with `owner_id` held the anonymous notes and tasks too (their
-- `owner_id` is NULL), though the anonymous board is read through its own partial indexes
-- (migration 2026-12-06-000060): every anonymous insert, and every change of a sort key,
-- wrote each entry twice, once in an index no query reads. They now hold owned rows only.
-- A user's board is read with `owner_id = $1`, which implies `owner_id IS NOT NULL`, so the
-- planner still uses them, generic plans included (the plan tests of `notes` and `tasks`).
-- Each index is rebuilt under a lock on its table: on a large deployment, upgrade in a
-- quiet hour (docs/operations.md, "Upgrades").
DROP INDEX notes_by_created;
CREATE INDEX notes_by_created ON notes (owner_id, created_at, id) WHERE owner_id IS NOT NULL;
DROP INDEX notes_by_updated;
CREATE INDEX notes_by_updated ON notes (owner_id, updated_at, id) WHERE owner_id IS NOT NULL;
DROP INDEX notes_by_title;
CREATE INDEX notes_by_title ON notes (owner_id, title NULLS FIRST, id) WHERE owner_id IS NOT NULL;
DROP INDEX notes_by_title_asc;
CREATE INDEX notes_by_title_asc ON notes (owner_id, title_asc_key, id) WHERE owner_id IS NOT NULL;

DROP INDEX tasks_by_created;
CREATE INDEX tasks_by_created ON tasks (owner_id, created_at, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_updated;
CREATE INDEX tasks_by_updated ON tasks (owner_id, updated_at, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_due;
CREATE INDEX tasks_by_due ON tasks (owner_id, due_key, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_due_desc;
CREATE INDEX tasks_by_due_desc ON tasks (owner_id, due_desc_key, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_title;
CREATE INDEX tasks_by_title ON tasks (owner_id, title_key, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_status;
CREATE INDEX tasks_by_status ON tasks (owner_id, status, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_status_due;
CREATE INDEX tasks_by_status_due ON tasks (owner_id, status, due_key, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_status_due_desc;
CREATE INDEX tasks_by_status_due_desc ON tasks (owner_id, status, due_desc_key, id) WHERE owner_id IS NOT NULL;
DROP INDEX tasks_by_status_created;
CREATE INDEX tasks_by_status_created ON tasks (owner_id, status, created_at, id) WHERE owner_id IS NOT NULL;
