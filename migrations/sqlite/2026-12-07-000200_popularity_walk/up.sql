-- The popularity sort keys move out of `challenges` and `challenge_tags` into a narrow
-- table of their own, one row per challenge and scope a browse can walk in popularity
-- order: '' (every challenge), 't:' and the ASCII-lower-cased topic, 'd:' and the
-- difficulty's rank, 'g:' and each tag. Why: every completion moves its challenge's
-- count. On PostgreSQL a change of an indexed column writes a new row version with an
-- entry in every index of the table (20 on `challenges`, 7 on each tag row: 41 a
-- completion); with no index on the count, `challenges` takes a heap-only update and the
-- count's entries are these rows' two each. SQLite keeps the same tables (one schema,
-- one query per browse on both engines); here a completion rewrites a few small rows
-- stored together under the challenge's id instead of three index entries of
-- `challenges` and a row and an entry per tag.
CREATE TABLE challenge_popularity (
    challenge_id     TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    scope            TEXT    NOT NULL,
    completion_count INTEGER NOT NULL CHECK (completion_count >= 0),
    PRIMARY KEY (challenge_id, scope)
) WITHOUT ROWID;

CREATE INDEX challenge_popularity_walk ON challenge_popularity (scope, completion_count, challenge_id);

INSERT INTO challenge_popularity (challenge_id, scope, completion_count)
    SELECT id, '', completion_count FROM challenges
    UNION ALL SELECT id, 't:' || lower(topic), completion_count FROM challenges
    UNION ALL SELECT id, 'd:' || difficulty, completion_count FROM challenges
    UNION ALL SELECT t.challenge_id, 'g:' || t.tag, c.completion_count
                FROM challenge_tags AS t JOIN challenges AS c ON c.id = t.challenge_id;

CREATE TRIGGER challenge_popularity_insert AFTER INSERT ON challenges BEGIN
    INSERT INTO challenge_popularity (challenge_id, scope, completion_count) VALUES
        (new.id, '', new.completion_count),
        (new.id, 't:' || lower(new.topic), new.completion_count),
        (new.id, 'd:' || new.difficulty, new.completion_count);
END;

-- A new topic or difficulty moves the challenge's row of that scope (a topic that changes
-- only in case keeps its scope).
CREATE TRIGGER challenge_popularity_scopes AFTER UPDATE OF topic, difficulty ON challenges BEGIN
    UPDATE challenge_popularity SET scope = 't:' || lower(new.topic)
     WHERE challenge_id = new.id AND scope = 't:' || lower(old.topic) AND lower(new.topic) <> lower(old.topic);
    UPDATE challenge_popularity SET scope = 'd:' || new.difficulty
     WHERE challenge_id = new.id AND scope = 'd:' || old.difficulty AND new.difficulty <> old.difficulty;
END;

CREATE TRIGGER challenge_popularity_tag_insert AFTER INSERT ON challenge_tags BEGIN
    INSERT INTO challenge_popularity (challenge_id, scope, completion_count)
        SELECT new.challenge_id, 'g:' || new.tag, completion_count FROM challenges WHERE id = new.challenge_id;
END;

CREATE TRIGGER challenge_popularity_tag_delete AFTER DELETE ON challenge_tags BEGIN
    DELETE FROM challenge_popularity WHERE challenge_id = old.challenge_id AND scope = 'g:' || old.tag;
END;

DROP TRIGGER challenge_tags_popularity_key;
CREATE TRIGGER challenge_popularity_count AFTER UPDATE OF completion_count ON challenges BEGIN
    UPDATE challenge_popularity SET completion_count = new.completion_count WHERE challenge_id = new.id;
END;

DROP INDEX challenges_by_popularity;
DROP INDEX challenges_topic_popularity;
DROP INDEX challenges_level_popularity;
DROP INDEX challenge_tags_popularity;
ALTER TABLE challenge_tags DROP COLUMN completion_count;
