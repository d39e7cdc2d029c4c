ALTER TABLE challenges RESET (fillfactor);
ALTER TABLE challenge_tags ADD COLUMN completion_count BIGINT NOT NULL DEFAULT 0;
UPDATE challenge_tags SET completion_count = c.completion_count FROM challenges AS c WHERE c.id = challenge_tags.challenge_id;
ALTER TABLE challenge_tags ALTER COLUMN completion_count DROP DEFAULT;
CREATE INDEX challenge_tags_popularity ON challenge_tags (tag, completion_count, challenge_id);
CREATE INDEX challenges_by_popularity ON challenges (completion_count, id);
CREATE INDEX challenges_topic_popularity ON challenges (lower(topic COLLATE "C"), completion_count, id);
CREATE INDEX challenges_level_popularity ON challenges (difficulty, completion_count, id);
DROP TRIGGER challenge_popularity_count ON challenges;
DROP FUNCTION challenge_popularity_count();
CREATE FUNCTION challenge_tags_popularity_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET completion_count = NEW.completion_count WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER challenge_tags_popularity_key AFTER UPDATE OF completion_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_popularity_key();
DROP TRIGGER challenge_popularity_tag_delete ON challenge_tags;
DROP TRIGGER challenge_popularity_tag_insert ON challenge_tags;
DROP FUNCTION challenge_popularity_tag();
DROP TRIGGER challenge_popularity_scopes ON challenges;
DROP FUNCTION challenge_popularity_scopes();
DROP TRIGGER challenge_popularity_insert ON challenges;
DROP FUNCTION challenge_popularity_insert();
DROP TABLE challenge_popularity;
