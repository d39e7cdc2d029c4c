ALTER TABLE project_tasks DROP COLUMN label_count;
