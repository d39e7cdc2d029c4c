-- Conditional writes (API section 1): notes and tasks carry a version, 1 at creation and
-- one more on every real change. Responses name it as `ETag: "<version>"`; a PATCH or
-- DELETE with a stale `If-Match` gets 412. The services check and bump it inside the
-- write that changes the row, so no change slips in between check and write.
-- Rows that exist already start at version 1.
ALTER TABLE notes ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1);
