-- Entry times follow the team, not the whole log. An entry's `created_at` is never earlier
-- than the team's last one (so `since` can become a bound on the log's order); it used to
-- be never earlier than the *whole log's* last entry, read with `max(created_at)` in every
-- append. On PostgreSQL that read made every two concurrent writes of any two teams a
-- serialization conflict (each read the index page the other inserted into), so one of
-- them ran again. Now the team's counter row, which the append updates anyway, carries the
-- team's last time, and `since` is resolved within the team through (team_id, created_at).
ALTER TABLE activity_counters ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;

-- First, so that each team's latest time below is one index probe.
CREATE INDEX activity_by_team_time ON activity (team_id, created_at);

UPDATE activity_counters
SET last_at = coalesce((SELECT max(created_at) FROM activity WHERE activity.team_id = activity_counters.team_id), 0);

DROP INDEX activity_by_time;
