-- Learning platform (API section 5): challenges with tags, learning paths, enrolments,
-- completions, ratings, comments and peer feedback. Ids are UUIDv7 text, times
-- milliseconds since the Unix epoch (UTC); difficulty is stored as its rank
-- (0 beginner, 1 intermediate, 2 advanced, 3 expert) so sorting follows the natural order.
--
-- Aggregates are maintained by the triggers below, in the transaction of the change that
-- moves them: a challenge's rating sum and count and its completion count, a path's
-- challenge count, a tag's challenge count, and the sort keys copied onto each tag row.

CREATE TABLE challenges (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    title            TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      TEXT             CHECK (length(description) <= 20000),
    difficulty       INTEGER NOT NULL CONSTRAINT challenges_difficulty CHECK (difficulty IN (0, 1, 2, 3)),
    topic            TEXT    NOT NULL COLLATE NOCASE CHECK (length(topic) BETWEEN 1 AND 100),
    -- The tags as a JSON array of lower-case strings, for showing; `challenge_tags` is
    -- what filters.
    tags             TEXT    NOT NULL DEFAULT '[]',
    author_id        TEXT    NOT NULL REFERENCES users (id),
    rating_sum       INTEGER NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    rating_count     INTEGER NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    completion_count INTEGER NOT NULL DEFAULT 0 CHECK (completion_count >= 0),
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version          INTEGER NOT NULL CHECK (version >= 1),
    -- Sort keys as generated columns, so keyset row values seek exactly. The rating key
    -- is the average in millionths (0 when unrated: below every rated challenge).
    rating_key       INTEGER GENERATED ALWAYS AS
                         (CASE WHEN rating_count > 0 THEN rating_sum * 1000000 / rating_count ELSE 0 END) VIRTUAL,
    title_key        TEXT GENERATED ALWAYS AS (title) VIRTUAL COLLATE NOCASE
);

-- One index per sort, the id last: unfiltered browsing walks these.
CREATE INDEX challenges_by_difficulty ON challenges (difficulty, id);
CREATE INDEX challenges_by_rating     ON challenges (rating_key, id);
CREATE INDEX challenges_by_popularity ON challenges (completion_count, id);
CREATE INDEX challenges_by_created    ON challenges (created_at, id);
CREATE INDEX challenges_by_title      ON challenges (title_key, id);
-- A topic's challenges, by each sort.
CREATE INDEX challenges_topic_difficulty ON challenges (topic, difficulty, id);
CREATE INDEX challenges_topic_rating     ON challenges (topic, rating_key, id);
CREATE INDEX challenges_topic_popularity ON challenges (topic, completion_count, id);
CREATE INDEX challenges_topic_created    ON challenges (topic, created_at, id);
CREATE INDEX challenges_topic_title      ON challenges (topic, title_key, id);
-- One difficulty's challenges, by each other sort (by difficulty, the first index serves).
CREATE INDEX challenges_level_rating     ON challenges (difficulty, rating_key, id);
CREATE INDEX challenges_level_popularity ON challenges (difficulty, completion_count, id);
CREATE INDEX challenges_level_created    ON challenges (difficulty, created_at, id);
CREATE INDEX challenges_level_title      ON challenges (difficulty, title_key, id);

CREATE VIRTUAL TABLE challenges_fts USING fts5(
    title, description,
    content = 'challenges', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER challenges_fts_insert AFTER INSERT ON challenges BEGIN
    INSERT INTO challenges_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE TRIGGER challenges_fts_delete AFTER DELETE ON challenges BEGIN
    INSERT INTO challenges_fts (challenges_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
END;

CREATE TRIGGER challenges_fts_update AFTER UPDATE OF title, description ON challenges BEGIN
    INSERT INTO challenges_fts (challenges_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO challenges_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

-- One row per (challenge, tag), carrying copies of the challenge's sort keys so that a tag
-- browse walks one index in the order asked for. The copies are kept by the trigger below.
CREATE TABLE challenge_tags (
    challenge_id     TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    tag              TEXT    NOT NULL CHECK (length(tag) BETWEEN 1 AND 50 AND tag = lower(tag)),
    difficulty       INTEGER NOT NULL,
    rating_key       INTEGER NOT NULL,
    completion_count INTEGER NOT NULL,
    created_at       BIGINT  NOT NULL,
    title_key        TEXT    NOT NULL COLLATE NOCASE,
    PRIMARY KEY (challenge_id, tag)
) WITHOUT ROWID;

CREATE INDEX challenge_tags_difficulty ON challenge_tags (tag, difficulty, challenge_id);
CREATE INDEX challenge_tags_rating     ON challenge_tags (tag, rating_key, challenge_id);
CREATE INDEX challenge_tags_popularity ON challenge_tags (tag, completion_count, challenge_id);
CREATE INDEX challenge_tags_created    ON challenge_tags (tag, created_at, challenge_id);
CREATE INDEX challenge_tags_title      ON challenge_tags (tag, title_key, challenge_id);

-- One trigger per key, each setting only its own column: a completion rewrites one index
-- entry per tag row (the popularity one), not all five.
CREATE TRIGGER challenge_tags_difficulty_key AFTER UPDATE OF difficulty ON challenges BEGIN
    UPDATE challenge_tags SET difficulty = new.difficulty WHERE challenge_id = new.id;
END;

CREATE TRIGGER challenge_tags_rating_key AFTER UPDATE OF rating_sum, rating_count ON challenges BEGIN
    UPDATE challenge_tags SET rating_key = new.rating_key WHERE challenge_id = new.id;
END;

CREATE TRIGGER challenge_tags_popularity_key AFTER UPDATE OF completion_count ON challenges BEGIN
    UPDATE challenge_tags SET completion_count = new.completion_count WHERE challenge_id = new.id;
END;

CREATE TRIGGER challenge_tags_title_key AFTER UPDATE OF title ON challenges BEGIN
    UPDATE challenge_tags SET title_key = new.title WHERE challenge_id = new.id;
END;

-- How many challenges carry each tag: a browse by several tags walks the rarest one.
CREATE TABLE tags (
    tag             TEXT    NOT NULL PRIMARY KEY,
    challenge_count INTEGER NOT NULL CHECK (challenge_count >= 0)
) WITHOUT ROWID;

CREATE TRIGGER challenge_tags_count_insert AFTER INSERT ON challenge_tags BEGIN
    INSERT INTO tags (tag, challenge_count) VALUES (new.tag, 1)
        ON CONFLICT (tag) DO UPDATE SET challenge_count = challenge_count + 1;
END;

CREATE TRIGGER challenge_tags_count_delete AFTER DELETE ON challenge_tags BEGIN
    UPDATE tags SET challenge_count = challenge_count - 1 WHERE tag = old.tag;
END;

CREATE TABLE learning_paths (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     TEXT             CHECK (length(description) <= 20000),
    topic           TEXT    NOT NULL COLLATE NOCASE CHECK (length(topic) BETWEEN 1 AND 100),
    author_id       TEXT    NOT NULL REFERENCES users (id),
    challenge_count INTEGER NOT NULL DEFAULT 0 CHECK (challenge_count >= 0),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version         INTEGER NOT NULL CHECK (version >= 1),
    title_key       TEXT GENERATED ALWAYS AS (title) VIRTUAL COLLATE NOCASE
);

CREATE INDEX learning_paths_by_created   ON learning_paths (created_at, id);
CREATE INDEX learning_paths_by_title     ON learning_paths (title_key, id);
CREATE INDEX learning_paths_topic_created ON learning_paths (topic, created_at, id);
CREATE INDEX learning_paths_topic_title   ON learning_paths (topic, title_key, id);

CREATE VIRTUAL TABLE learning_paths_fts USING fts5(
    title, description,
    content = 'learning_paths', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER learning_paths_fts_insert AFTER INSERT ON learning_paths BEGIN
    INSERT INTO learning_paths_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

CREATE TRIGGER learning_paths_fts_delete AFTER DELETE ON learning_paths BEGIN
    INSERT INTO learning_paths_fts (learning_paths_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
END;

CREATE TRIGGER learning_paths_fts_update AFTER UPDATE OF title, description ON learning_paths BEGIN
    INSERT INTO learning_paths_fts (learning_paths_fts, rowid, title, description)
        VALUES ('delete', old.seq, old.title, old.description);
    INSERT INTO learning_paths_fts (rowid, title, description) VALUES (new.seq, new.title, new.description);
END;

-- A path's ordered challenge list; deleting a challenge takes it out of every path.
CREATE TABLE path_challenges (
    path_id      TEXT    NOT NULL REFERENCES learning_paths (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL CHECK (position >= 0),
    challenge_id TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    PRIMARY KEY (path_id, position),
    UNIQUE (path_id, challenge_id)
) WITHOUT ROWID;

-- The paths a challenge is in (deleting it updates them).
CREATE INDEX path_challenges_by_challenge ON path_challenges (challenge_id, path_id);

CREATE TRIGGER path_challenges_count_insert AFTER INSERT ON path_challenges BEGIN
    UPDATE learning_paths SET challenge_count = challenge_count + 1 WHERE id = new.path_id;
END;

CREATE TRIGGER path_challenges_count_delete AFTER DELETE ON path_challenges BEGIN
    UPDATE learning_paths SET challenge_count = challenge_count - 1 WHERE id = old.path_id;
END;

CREATE TABLE enrollments (
    user_id     TEXT   NOT NULL REFERENCES users (id),
    path_id     TEXT   NOT NULL REFERENCES learning_paths (id) ON DELETE CASCADE,
    enrolled_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, path_id)
) WITHOUT ROWID;

CREATE INDEX enrollments_by_path ON enrollments (path_id);

CREATE TABLE completions (
    id           TEXT   NOT NULL PRIMARY KEY,
    challenge_id TEXT   NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      TEXT   NOT NULL REFERENCES users (id),
    solution     TEXT            CHECK (length(solution) <= 20000),
    completed_at BIGINT NOT NULL,
    -- One completion per user and challenge; also "has the caller completed it" and
    -- `completed=true|false` browsing.
    UNIQUE (user_id, challenge_id)
);

-- A challenge's completions for peer review, oldest first.
CREATE INDEX completions_by_challenge ON completions (challenge_id, id);

CREATE TRIGGER completions_count_insert AFTER INSERT ON completions BEGIN
    UPDATE challenges SET completion_count = completion_count + 1 WHERE id = new.challenge_id;
END;

CREATE TRIGGER completions_count_delete AFTER DELETE ON completions BEGIN
    UPDATE challenges SET completion_count = completion_count - 1 WHERE id = old.challenge_id;
END;

CREATE TABLE ratings (
    challenge_id TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    stars        INTEGER NOT NULL CONSTRAINT ratings_stars CHECK (stars BETWEEN 1 AND 5),
    rated_at     BIGINT  NOT NULL,
    PRIMARY KEY (challenge_id, user_id)
) WITHOUT ROWID;

CREATE TRIGGER ratings_insert AFTER INSERT ON ratings BEGIN
    UPDATE challenges SET rating_sum = rating_sum + new.stars, rating_count = rating_count + 1
     WHERE id = new.challenge_id;
END;

CREATE TRIGGER ratings_update AFTER UPDATE OF stars ON ratings BEGIN
    UPDATE challenges SET rating_sum = rating_sum - old.stars + new.stars WHERE id = new.challenge_id;
END;

CREATE TRIGGER ratings_delete AFTER DELETE ON ratings BEGIN
    UPDATE challenges SET rating_sum = rating_sum - old.stars, rating_count = rating_count - 1
     WHERE id = old.challenge_id;
END;

CREATE TABLE challenge_comments (
    id           TEXT    NOT NULL PRIMARY KEY,
    challenge_id TEXT    NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    author_id    TEXT    NOT NULL REFERENCES users (id),
    body         TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL CHECK (updated_at >= created_at),
    version      INTEGER NOT NULL CHECK (version >= 1)
);

-- A challenge's discussion, oldest first (UUIDv7 ids are time-ordered).
CREATE INDEX challenge_comments_by_challenge ON challenge_comments (challenge_id, id);

CREATE TABLE completion_feedback (
    id            TEXT    NOT NULL PRIMARY KEY,
    completion_id TEXT    NOT NULL REFERENCES completions (id) ON DELETE CASCADE,
    author_id     TEXT    NOT NULL REFERENCES users (id),
    body          TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    stars         INTEGER          CONSTRAINT completion_feedback_stars CHECK (stars BETWEEN 1 AND 5),
    created_at    BIGINT  NOT NULL
);

CREATE INDEX completion_feedback_by_completion ON completion_feedback (completion_id, id);
