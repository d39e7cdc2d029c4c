ALTER TABLE projects DROP COLUMN board_seq;
DROP INDEX project_tasks_assignee_board;
DROP INDEX project_tasks_proj_board;
DROP INDEX project_tasks_team_board;
ALTER TABLE project_tasks DROP COLUMN board_key;
DROP INDEX project_tasks_board_place;
ALTER TABLE project_tasks DROP COLUMN position;
