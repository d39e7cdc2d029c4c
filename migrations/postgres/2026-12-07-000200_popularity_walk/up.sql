-- PostgreSQL twin of migrations/sqlite/2026-12-07-000200_popularity_walk, where the why is:
-- the popularity sort keys move into `challenge_popularity`, one row per challenge and
-- walkable scope ('', 't:' topic, 'd:' difficulty rank, 'g:' tag), so that no index of
-- `challenges` or `challenge_tags` holds the count a completion moves. `challenges` then
-- takes a heap-only (HOT) update, which needs room on the row's page: the table keeps
-- 15 % of each page free for it from now on (rows already stored get it when the table
-- is rewritten, e.g. by `VACUUM FULL`, and as updates move them).
-- Topics fold as the topic indexes do: `lower(topic COLLATE "C")`, ASCII only.
CREATE TABLE challenge_popularity (
    challenge_id     TEXT   COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    scope            TEXT   COLLATE "C" NOT NULL,
    completion_count BIGINT NOT NULL CHECK (completion_count >= 0),
    PRIMARY KEY (challenge_id, scope)
);

INSERT INTO challenge_popularity (challenge_id, scope, completion_count)
    SELECT id, '', completion_count FROM challenges
    UNION ALL SELECT id, 't:' || lower(topic COLLATE "C"), completion_count FROM challenges
    UNION ALL SELECT id, 'd:' || difficulty, completion_count FROM challenges
    UNION ALL SELECT t.challenge_id, 'g:' || t.tag, c.completion_count
                FROM challenge_tags AS t JOIN challenges AS c ON c.id = t.challenge_id;

CREATE INDEX challenge_popularity_walk ON challenge_popularity (scope, completion_count, challenge_id);

CREATE FUNCTION challenge_popularity_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO challenge_popularity (challenge_id, scope, completion_count) VALUES
        (NEW.id, '', NEW.completion_count),
        (NEW.id, 't:' || lower(NEW.topic COLLATE "C"), NEW.completion_count),
        (NEW.id, 'd:' || NEW.difficulty, NEW.completion_count);
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_popularity_insert AFTER INSERT ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_popularity_insert();

-- A new topic or difficulty moves the challenge's row of that scope (a topic that changes
-- only in case keeps its scope).
CREATE FUNCTION challenge_popularity_scopes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF lower(NEW.topic COLLATE "C") <> lower(OLD.topic COLLATE "C") THEN
        UPDATE challenge_popularity SET scope = 't:' || lower(NEW.topic COLLATE "C")
         WHERE challenge_id = NEW.id AND scope = 't:' || lower(OLD.topic COLLATE "C");
    END IF;
    IF NEW.difficulty <> OLD.difficulty THEN
        UPDATE challenge_popularity SET scope = 'd:' || NEW.difficulty
         WHERE challenge_id = NEW.id AND scope = 'd:' || OLD.difficulty;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_popularity_scopes AFTER UPDATE OF topic, difficulty ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_popularity_scopes();

CREATE FUNCTION challenge_popularity_tag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO challenge_popularity (challenge_id, scope, completion_count)
            SELECT NEW.challenge_id, 'g:' || NEW.tag, completion_count FROM challenges WHERE id = NEW.challenge_id;
    ELSE
        DELETE FROM challenge_popularity WHERE challenge_id = OLD.challenge_id AND scope = 'g:' || OLD.tag;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_popularity_tag_insert AFTER INSERT ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_popularity_tag();

CREATE TRIGGER challenge_popularity_tag_delete AFTER DELETE ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_popularity_tag();

DROP TRIGGER challenge_tags_popularity_key ON challenges;
DROP FUNCTION challenge_tags_popularity_key();

CREATE FUNCTION challenge_popularity_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_popularity SET completion_count = NEW.completion_count WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_popularity_count AFTER UPDATE OF completion_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_popularity_count();

DROP INDEX challenges_by_popularity;
DROP INDEX challenges_topic_popularity;
DROP INDEX challenges_level_popularity;
DROP INDEX challenge_tags_popularity;
ALTER TABLE challenge_tags DROP COLUMN completion_count;
ALTER TABLE challenges SET (fillfactor = 85);
