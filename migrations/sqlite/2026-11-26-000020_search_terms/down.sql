DROP TABLE project_tasks_fts_terms;
DROP TABLE tasks_fts_terms;
DROP TABLE notes_fts_terms;
