ALTER TABLE challenge_tags ADD COLUMN completion_count INTEGER NOT NULL DEFAULT 0;
UPDATE challenge_tags SET completion_count = (SELECT completion_count FROM challenges WHERE id = challenge_tags.challenge_id);
CREATE INDEX challenge_tags_popularity ON challenge_tags (tag, completion_count, challenge_id);
DROP TRIGGER challenge_tag_popularity_count;
CREATE TRIGGER challenge_tags_popularity_key AFTER UPDATE OF completion_count ON challenges BEGIN
    UPDATE challenge_tags SET completion_count = new.completion_count WHERE challenge_id = new.id;
END;
DROP TRIGGER challenge_tag_popularity_delete;
DROP TRIGGER challenge_tag_popularity_insert;
DROP TABLE challenge_tag_popularity;
