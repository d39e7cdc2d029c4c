DROP TABLE task_comments;
DROP TABLE project_tasks;
DROP TABLE projects;
DROP TABLE team_invites;
DROP TABLE team_members;
DROP TABLE teams;
