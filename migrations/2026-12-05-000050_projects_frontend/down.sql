DROP INDEX projects_by_team_archived;
DROP TRIGGER users_display_name_key;
DROP TRIGGER team_members_name_key;
DROP INDEX team_members_by_name;
ALTER TABLE team_members DROP COLUMN name_key;
DROP INDEX team_invites_by_id;
ALTER TABLE team_invites DROP COLUMN id;
