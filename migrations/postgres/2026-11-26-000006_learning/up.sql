-- PostgreSQL twin of migrations/sqlite/2026-11-26-000006_learning (see the notes migration
-- for the house rules). Difficulty is stored as its rank (0 beginner, 1 intermediate,
-- 2 advanced, 3 expert). Aggregates are kept by triggers in the transaction of the change
-- that moves them, as on SQLite: PL/pgSQL functions doing what the SQLite triggers do.
--
-- Case: SQLite declares `topic` and the title keys COLLATE NOCASE (ASCII letters compare
-- case-insensitively). Here the title keys hold the ASCII-lower-cased title (byte order =
-- NOCASE order), and `topic` keeps the text as typed with its indexes on
-- `lower(topic COLLATE "C")`: the PostgreSQL queries filter by
-- `lower(topic COLLATE "C") = lower($1 COLLATE "C")`, which finds what SQLite's
-- `topic = ?` finds.

CREATE TABLE challenges (
    seq              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               TEXT    COLLATE "C" NOT NULL UNIQUE,
    title            TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      TEXT             CHECK (length(description) <= 20000),
    difficulty       INTEGER NOT NULL CONSTRAINT challenges_difficulty CHECK (difficulty IN (0, 1, 2, 3)),
    topic            TEXT    COLLATE "C" NOT NULL CHECK (length(topic) BETWEEN 1 AND 100),
    -- The tags as a JSON array of lower-case strings, for showing; `challenge_tags` filters.
    tags             TEXT    NOT NULL DEFAULT '[]',
    author_id        TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    rating_sum       BIGINT  NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    rating_count     BIGINT  NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    completion_count BIGINT  NOT NULL DEFAULT 0 CHECK (completion_count >= 0),
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version          BIGINT  NOT NULL CHECK (version >= 1),
    -- The average rating in millionths (0 when unrated); integer division truncates on
    -- both engines.
    rating_key       BIGINT  GENERATED ALWAYS AS
                         (CASE WHEN rating_count > 0 THEN rating_sum * 1000000 / rating_count ELSE 0 END) STORED,
    title_key        TEXT    COLLATE "C" GENERATED ALWAYS AS (lower(title COLLATE "C")) STORED,
    -- Full-text search over title and description, queried as `notes.search` is.
    search           tsvector GENERATED ALWAYS AS
                         (to_tsvector('simple', search_fold(title || ' ' || coalesce(description, '')))) STORED
);

CREATE INDEX challenges_by_difficulty ON challenges (difficulty, id);
CREATE INDEX challenges_by_rating     ON challenges (rating_key, id);
CREATE INDEX challenges_by_popularity ON challenges (completion_count, id);
CREATE INDEX challenges_by_created    ON challenges (created_at, id);
CREATE INDEX challenges_by_title      ON challenges (title_key, id);
CREATE INDEX challenges_topic_difficulty ON challenges (lower(topic COLLATE "C"), difficulty, id);
CREATE INDEX challenges_topic_rating     ON challenges (lower(topic COLLATE "C"), rating_key, id);
CREATE INDEX challenges_topic_popularity ON challenges (lower(topic COLLATE "C"), completion_count, id);
CREATE INDEX challenges_topic_created    ON challenges (lower(topic COLLATE "C"), created_at, id);
CREATE INDEX challenges_topic_title      ON challenges (lower(topic COLLATE "C"), title_key, id);
CREATE INDEX challenges_level_rating     ON challenges (difficulty, rating_key, id);
CREATE INDEX challenges_level_popularity ON challenges (difficulty, completion_count, id);
CREATE INDEX challenges_level_created    ON challenges (difficulty, created_at, id);
CREATE INDEX challenges_level_title      ON challenges (difficulty, title_key, id);

CREATE INDEX challenges_search ON challenges USING gin (search);

-- One row per (challenge, tag) with copies of the challenge's sort keys. Tags are lower
-- case: `lower` under "C" folds ASCII only, as SQLite's `lower` does.
CREATE TABLE challenge_tags (
    challenge_id     TEXT    COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    tag              TEXT    COLLATE "C" NOT NULL CHECK (length(tag) BETWEEN 1 AND 50 AND tag = lower(tag COLLATE "C")),
    difficulty       INTEGER NOT NULL,
    rating_key       BIGINT  NOT NULL,
    completion_count BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    -- NOCASE on SQLite; here the ASCII-lower-cased title, whatever the writer passes
    -- (`challenge_tags_title_key_fold` below), so that it orders as `challenges.title_key`.
    title_key        TEXT    COLLATE "C" NOT NULL,
    PRIMARY KEY (challenge_id, tag)
);

CREATE INDEX challenge_tags_difficulty ON challenge_tags (tag, difficulty, challenge_id);
CREATE INDEX challenge_tags_rating     ON challenge_tags (tag, rating_key, challenge_id);
CREATE INDEX challenge_tags_popularity ON challenge_tags (tag, completion_count, challenge_id);
CREATE INDEX challenge_tags_created    ON challenge_tags (tag, created_at, challenge_id);
CREATE INDEX challenge_tags_title      ON challenge_tags (tag, title_key, challenge_id);

CREATE FUNCTION challenge_tags_title_key_fold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.title_key := lower(NEW.title_key COLLATE "C");
    RETURN NEW;
END $$;

CREATE TRIGGER challenge_tags_title_key_fold BEFORE INSERT OR UPDATE OF title_key ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_title_key_fold();

-- One trigger per key, each setting only its own column (a completion rewrites one index
-- entry per tag row, not five). AFTER triggers see the generated columns' new values.
CREATE FUNCTION challenge_tags_difficulty_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET difficulty = NEW.difficulty WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tags_difficulty_key AFTER UPDATE OF difficulty ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_difficulty_key();

CREATE FUNCTION challenge_tags_rating_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET rating_key = NEW.rating_key WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tags_rating_key AFTER UPDATE OF rating_sum, rating_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_rating_key();

CREATE FUNCTION challenge_tags_popularity_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET completion_count = NEW.completion_count WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tags_popularity_key AFTER UPDATE OF completion_count ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_popularity_key();

CREATE FUNCTION challenge_tags_title_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE challenge_tags SET title_key = NEW.title_key WHERE challenge_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tags_title_key AFTER UPDATE OF title ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_title_key();

-- How many challenges carry each tag.
CREATE TABLE tags (
    tag             TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    challenge_count BIGINT NOT NULL CHECK (challenge_count >= 0)
);

CREATE FUNCTION challenge_tags_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tags (tag, challenge_count) VALUES (NEW.tag, 1)
            ON CONFLICT (tag) DO UPDATE SET challenge_count = tags.challenge_count + 1;
    ELSE
        UPDATE tags SET challenge_count = challenge_count - 1 WHERE tag = OLD.tag;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER challenge_tags_count_insert AFTER INSERT ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_count();

CREATE TRIGGER challenge_tags_count_delete AFTER DELETE ON challenge_tags
    FOR EACH ROW EXECUTE FUNCTION challenge_tags_count();

CREATE TABLE learning_paths (
    seq             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT    COLLATE "C" NOT NULL UNIQUE,
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     TEXT             CHECK (length(description) <= 20000),
    topic           TEXT    COLLATE "C" NOT NULL CHECK (length(topic) BETWEEN 1 AND 100),
    author_id       TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    challenge_count BIGINT  NOT NULL DEFAULT 0 CHECK (challenge_count >= 0),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version         BIGINT  NOT NULL CHECK (version >= 1),
    title_key       TEXT    COLLATE "C" GENERATED ALWAYS AS (lower(title COLLATE "C")) STORED,
    -- Full-text search over title and description, queried as `notes.search` is.
    search          tsvector GENERATED ALWAYS AS
                        (to_tsvector('simple', search_fold(title || ' ' || coalesce(description, '')))) STORED
);

CREATE INDEX learning_paths_by_created    ON learning_paths (created_at, id);
CREATE INDEX learning_paths_by_title      ON learning_paths (title_key, id);
CREATE INDEX learning_paths_topic_created ON learning_paths (lower(topic COLLATE "C"), created_at, id);
CREATE INDEX learning_paths_topic_title   ON learning_paths (lower(topic COLLATE "C"), title_key, id);

CREATE INDEX learning_paths_search ON learning_paths USING gin (search);

-- A path's ordered challenge list; deleting a challenge takes it out of every path.
CREATE TABLE path_challenges (
    path_id      TEXT   COLLATE "C" NOT NULL REFERENCES learning_paths (id) ON DELETE CASCADE,
    position     BIGINT NOT NULL CHECK (position >= 0),
    challenge_id TEXT   COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    PRIMARY KEY (path_id, position),
    UNIQUE (path_id, challenge_id)
);

CREATE INDEX path_challenges_by_challenge ON path_challenges (challenge_id, path_id);

CREATE FUNCTION path_challenges_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE learning_paths SET challenge_count = challenge_count + 1 WHERE id = NEW.path_id;
    ELSE
        UPDATE learning_paths SET challenge_count = challenge_count - 1 WHERE id = OLD.path_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER path_challenges_count_insert AFTER INSERT ON path_challenges
    FOR EACH ROW EXECUTE FUNCTION path_challenges_count();

CREATE TRIGGER path_challenges_count_delete AFTER DELETE ON path_challenges
    FOR EACH ROW EXECUTE FUNCTION path_challenges_count();

CREATE TABLE enrollments (
    user_id     TEXT   COLLATE "C" NOT NULL REFERENCES users (id),
    path_id     TEXT   COLLATE "C" NOT NULL REFERENCES learning_paths (id) ON DELETE CASCADE,
    enrolled_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, path_id)
);

CREATE INDEX enrollments_by_path ON enrollments (path_id);

CREATE TABLE completions (
    id           TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    challenge_id TEXT   COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      TEXT   COLLATE "C" NOT NULL REFERENCES users (id),
    solution     TEXT            CHECK (length(solution) <= 20000),
    completed_at BIGINT NOT NULL,
    UNIQUE (user_id, challenge_id)
);

CREATE INDEX completions_by_challenge ON completions (challenge_id, id);

CREATE FUNCTION completions_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE challenges SET completion_count = completion_count + 1 WHERE id = NEW.challenge_id;
    ELSE
        UPDATE challenges SET completion_count = completion_count - 1 WHERE id = OLD.challenge_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER completions_count_insert AFTER INSERT ON completions
    FOR EACH ROW EXECUTE FUNCTION completions_count();

CREATE TRIGGER completions_count_delete AFTER DELETE ON completions
    FOR EACH ROW EXECUTE FUNCTION completions_count();

CREATE TABLE ratings (
    challenge_id TEXT    COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    stars        INTEGER NOT NULL CONSTRAINT ratings_stars CHECK (stars BETWEEN 1 AND 5),
    rated_at     BIGINT  NOT NULL,
    PRIMARY KEY (challenge_id, user_id)
);

CREATE FUNCTION ratings_sum() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE challenges SET rating_sum = rating_sum + NEW.stars, rating_count = rating_count + 1
         WHERE id = NEW.challenge_id;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE challenges SET rating_sum = rating_sum - OLD.stars + NEW.stars WHERE id = NEW.challenge_id;
    ELSE
        UPDATE challenges SET rating_sum = rating_sum - OLD.stars, rating_count = rating_count - 1
         WHERE id = OLD.challenge_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ratings_insert AFTER INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_sum();

CREATE TRIGGER ratings_update AFTER UPDATE OF stars ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_sum();

CREATE TRIGGER ratings_delete AFTER DELETE ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_sum();

CREATE TABLE challenge_comments (
    id           TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    challenge_id TEXT   COLLATE "C" NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    author_id    TEXT   COLLATE "C" NOT NULL REFERENCES users (id),
    body         TEXT   NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL CHECK (updated_at >= created_at),
    version      BIGINT NOT NULL CHECK (version >= 1)
);

CREATE INDEX challenge_comments_by_challenge ON challenge_comments (challenge_id, id);

CREATE TABLE completion_feedback (
    id            TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    completion_id TEXT    COLLATE "C" NOT NULL REFERENCES completions (id) ON DELETE CASCADE,
    author_id     TEXT    COLLATE "C" NOT NULL REFERENCES users (id),
    body          TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    stars         INTEGER          CONSTRAINT completion_feedback_stars CHECK (stars BETWEEN 1 AND 5),
    created_at    BIGINT  NOT NULL
);

CREATE INDEX completion_feedback_by_completion ON completion_feedback (completion_id, id);
