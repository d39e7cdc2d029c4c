DROP TRIGGER path_challenges_progress_delete;
DROP TRIGGER path_challenges_progress_insert;
DROP TRIGGER completions_progress_delete;
DROP TRIGGER completions_progress_insert;
DROP TRIGGER enrollments_progress_start;
ALTER TABLE enrollments DROP COLUMN last_completed_at;
ALTER TABLE enrollments DROP COLUMN completed_count;
