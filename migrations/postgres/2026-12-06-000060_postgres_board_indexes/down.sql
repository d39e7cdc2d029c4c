DROP INDEX notes_by_title;
CREATE INDEX notes_by_title ON notes (owner_id, title, id);
DROP INDEX notes_anonymous_by_title_asc;
DROP INDEX notes_anonymous_by_title;
DROP INDEX notes_anonymous_by_updated;
DROP INDEX notes_anonymous_by_created;
