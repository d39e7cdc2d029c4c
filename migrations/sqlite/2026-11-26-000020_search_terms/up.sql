-- The words each full-text index holds, one row per occurrence (fts5vocab 'instance'
-- tables: read-only views of the FTS5 indexes, nothing stored). `storage::search` reads
-- them to turn a prefix word into the few indexed words it stands for (`invoic*` →
-- "invoice", "invoices"): FTS5 gathers every match of a prefix before its first row,
-- while a whole word is read lazily, so only whole words can be probed row by row or
-- counted up to a limit cheaply. A lookup `term >= ? LIMIT 1` reads one entry.
CREATE VIRTUAL TABLE notes_fts_terms USING fts5vocab(notes_fts, instance);
CREATE VIRTUAL TABLE tasks_fts_terms USING fts5vocab(tasks_fts, instance);
CREATE VIRTUAL TABLE project_tasks_fts_terms USING fts5vocab(project_tasks_fts, instance);
