-- How many labels a task carries (rows of `task_labels`), kept by the writes that label
-- and unlabel it and by label deletion: a page of tasks reads the labels of only those
-- tasks that have any, and a page of unlabeled tasks needs no second query.
ALTER TABLE project_tasks ADD COLUMN label_count INTEGER NOT NULL DEFAULT 0;
UPDATE project_tasks
   SET label_count = (SELECT count(*) FROM task_labels WHERE task_labels.task_id = project_tasks.id)
 WHERE id IN (SELECT task_id FROM task_labels);
