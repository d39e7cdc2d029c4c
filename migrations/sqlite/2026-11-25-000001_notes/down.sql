DROP TRIGGER IF EXISTS notes_fts_update;
DROP TRIGGER IF EXISTS notes_fts_delete;
DROP TRIGGER IF EXISTS notes_fts_insert;
DROP TABLE IF EXISTS notes_fts;
DROP TABLE IF EXISTS notes;
