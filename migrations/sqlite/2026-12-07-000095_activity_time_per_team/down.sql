CREATE INDEX activity_by_time ON activity (created_at);
DROP INDEX activity_by_team_time;
ALTER TABLE activity_counters DROP COLUMN last_at;
