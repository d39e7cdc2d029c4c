ALTER TABLE challenge_tags ADD COLUMN completion_count BIGINT NOT NULL DEFAULT 0;
UPDATE challenge_tags SET completion_count = c.completion_count FROM challenges AS c WHERE c.id = challenge_tags.challenge_id;
ALTER TABLE challenge_tags ALTER COLUMN completion_count DROP DEFAULT;
CREATE INDEX challenge_tags_popularity ON challenge_tags (tag, completion_count, challenge_id);
DROP TRIGGER challenge_tag_popularity_count ON challenges;
DROP FUNCTION challenge_tag_popularity_count();
CREATE FUNCTION challenge_tags_popularity_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET completion_count = NEW.completion_count WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER challenge_tags_popularity_key AFTER UPDATE OF completion_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_popularity_key();
DROP TRIGGER challenge_tag_popularity_delete ON challenge_tags;
DROP TRIGGER challenge_tag_popularity_insert ON challenge_tags;
DROP FUNCTION challenge_tag_popularity_row();
DROP TABLE challenge_tag_popularity;
