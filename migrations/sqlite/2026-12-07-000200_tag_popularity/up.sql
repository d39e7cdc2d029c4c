-- The tag rows' popularity key moves out of `challenge_tags` into a narrow table of its
-- own. Why: every completion moves its challenge's count, and the tag rows carried a copy
-- of it in one of their seven indexes. On PostgreSQL a change of an indexed column writes
-- a new row version with an entry in every index of the table: about three tag rows of
-- seven entries each per completion. Here it is a row of three columns with two indexes.
-- The popularity indexes of `challenges` itself stay: a browse of a topic, a difficulty
-- or everything by popularity reads the challenge rows straight from them, which a
-- separate table would turn into one more probe per row (measured: two to three times the
-- PostgreSQL work of such a page, docs/benchmarks.md). A tag browse joins each challenge
-- by id anyway, so walking this table instead of the tag rows costs it nothing.
CREATE TABLE challenge_tag_popularity (
    challenge_id     TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    tag              TEXT    NOT NULL,
    completion_count INTEGER NOT NULL CHECK (completion_count >= 0),
    PRIMARY KEY (challenge_id, tag)
) WITHOUT ROWID;

CREATE INDEX challenge_tag_popularity_walk ON challenge_tag_popularity (tag, completion_count, challenge_id);

INSERT INTO challenge_tag_popularity (challenge_id, tag, completion_count)
    SELECT t.challenge_id, t.tag, c.completion_count FROM challenge_tags AS t JOIN challenges AS c ON c.id = t.challenge_id;

CREATE TRIGGER challenge_tag_popularity_insert AFTER INSERT ON challenge_tags BEGIN
    INSERT INTO challenge_tag_popularity (challenge_id, tag, completion_count)
        SELECT new.challenge_id, new.tag, completion_count FROM challenges WHERE id = new.challenge_id;
END;

CREATE TRIGGER challenge_tag_popularity_delete AFTER DELETE ON challenge_tags BEGIN
    DELETE FROM challenge_tag_popularity WHERE challenge_id = old.challenge_id AND tag = old.tag;
END;

DROP TRIGGER challenge_tags_popularity_key;
CREATE TRIGGER challenge_tag_popularity_count AFTER UPDATE OF completion_count ON challenges BEGIN
    UPDATE challenge_tag_popularity SET completion_count = new.completion_count WHERE challenge_id = new.id;
END;

DROP INDEX challenge_tags_popularity;
ALTER TABLE challenge_tags DROP COLUMN completion_count;
