-- PostgreSQL twin of migrations/sqlite/2026-12-07-000200_tag_popularity, where the why
-- is: the tag rows' copy of the completion count, in one of their seven indexes, made
-- every completion write a new version of each of the challenge's tag rows with an entry
-- in all seven. It now lives in `challenge_tag_popularity`: three columns, two indexes.
CREATE TABLE challenge_tag_popularity (
    challenge_id     TEXT   COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    tag              TEXT   COLLATE "C" NOT NULL,
    completion_count BIGINT NOT NULL CHECK (completion_count >= 0),
    PRIMARY KEY (challenge_id, tag)
);

INSERT INTO challenge_tag_popularity (challenge_id, tag, completion_count)
    SELECT t.challenge_id, t.tag, c.completion_count FROM challenge_tags AS t JOIN challenges AS c ON c.id = t.challenge_id;

CREATE INDEX challenge_tag_popularity_walk ON challenge_tag_popularity (tag, completion_count, challenge_id);

CREATE FUNCTION challenge_tag_popularity_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO challenge_tag_popularity (challenge_id, tag, completion_count)
            SELECT NEW.challenge_id, NEW.tag, completion_count FROM challenges WHERE id = NEW.challenge_id;
    ELSE
        DELETE FROM challenge_tag_popularity WHERE challenge_id = OLD.challenge_id AND tag = OLD.tag;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tag_popularity_insert AFTER INSERT ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_tag_popularity_row();

CREATE TRIGGER challenge_tag_popularity_delete AFTER DELETE ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_tag_popularity_row();

DROP TRIGGER challenge_tags_popularity_key ON challenges;
DROP FUNCTION challenge_tags_popularity_key();

CREATE FUNCTION challenge_tag_popularity_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tag_popularity SET completion_count = NEW.completion_count WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tag_popularity_count AFTER UPDATE OF completion_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tag_popularity_count();

DROP INDEX challenge_tags_popularity;
ALTER TABLE challenge_tags DROP COLUMN completion_count;
