DROP INDEX activity_by_public_id;
DROP INDEX activity_by_team_seq;
ALTER TABLE activity DROP COLUMN public_id;
ALTER TABLE activity DROP COLUMN team_seq;
DROP TABLE activity_counters;
