DROP INDEX tokens_by_user_id;
DROP INDEX tokens_by_id;
ALTER TABLE tokens DROP COLUMN address;
ALTER TABLE tokens DROP COLUMN user_agent;
ALTER TABLE tokens DROP COLUMN last_used_at;
ALTER TABLE tokens DROP COLUMN id;
