-- PostgreSQL twin of migrations/sqlite/2026-11-26-000012_learning_progress: progress
-- counters per enrolment (how many of the path's challenges the learner completed, and
-- when the latest was), moved by triggers in the transaction of the change that moves
-- them. SQLite's two-argument `max(a, b)` is `greatest(a, b)` here.

ALTER TABLE enrollments ADD COLUMN completed_count BIGINT NOT NULL DEFAULT 0 CHECK (completed_count >= 0);
ALTER TABLE enrollments ADD COLUMN last_completed_at BIGINT;

UPDATE enrollments
   SET completed_count = done.n, last_completed_at = done.latest
  FROM (SELECT e.user_id AS user_id, e.path_id AS path_id, count(*) AS n, max(k.completed_at) AS latest
          FROM enrollments AS e
          JOIN path_challenges AS pc ON pc.path_id = e.path_id
          JOIN completions AS k ON k.user_id = e.user_id AND k.challenge_id = pc.challenge_id
         GROUP BY e.user_id, e.path_id) AS done
 WHERE enrollments.user_id = done.user_id AND enrollments.path_id = done.path_id;

-- SQLite updates the new enrolment right after inserting it; here the counters are set on
-- the row before it is written, which leaves the same row.
CREATE FUNCTION enrollments_progress_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(*), max(k.completed_at) INTO NEW.completed_count, NEW.last_completed_at
      FROM path_challenges AS pc
      JOIN completions AS k ON k.user_id = NEW.user_id AND k.challenge_id = pc.challenge_id
     WHERE pc.path_id = NEW.path_id;
    RETURN NEW;
END $$;

CREATE TRIGGER enrollments_progress_start BEFORE INSERT ON enrollments
    FOR EACH ROW EXECUTE FUNCTION enrollments_progress_start();

-- A completion counts in every path of the learner's that holds the challenge; its undo
-- looks the latest time up again only when the undone completion was the latest.
CREATE FUNCTION completions_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE enrollments
           SET completed_count = completed_count + 1,
               last_completed_at = greatest(coalesce(last_completed_at, NEW.completed_at), NEW.completed_at)
         WHERE user_id = NEW.user_id
           AND path_id IN (SELECT path_id FROM path_challenges WHERE challenge_id = NEW.challenge_id);
    ELSE
        UPDATE enrollments
           SET completed_count = completed_count - 1,
               last_completed_at = CASE WHEN last_completed_at > OLD.completed_at THEN last_completed_at ELSE
                   (SELECT max(k.completed_at) FROM path_challenges AS pc
                      JOIN completions AS k ON k.user_id = enrollments.user_id AND k.challenge_id = pc.challenge_id
                     WHERE pc.path_id = enrollments.path_id) END
         WHERE user_id = OLD.user_id
           AND path_id IN (SELECT path_id FROM path_challenges WHERE challenge_id = OLD.challenge_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER completions_progress_insert AFTER INSERT ON completions
    FOR EACH ROW EXECUTE FUNCTION completions_progress();

CREATE TRIGGER completions_progress_delete AFTER DELETE ON completions
    FOR EACH ROW EXECUTE FUNCTION completions_progress();

-- A challenge joining a path counts for every enrolled learner who completed it; leaving
-- it uncounts it.
CREATE FUNCTION path_challenges_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE enrollments
           SET completed_count = completed_count + 1,
               last_completed_at = (SELECT greatest(coalesce(enrollments.last_completed_at, k.completed_at), k.completed_at)
                                      FROM completions AS k
                                     WHERE k.user_id = enrollments.user_id AND k.challenge_id = NEW.challenge_id)
         WHERE path_id = NEW.path_id
           AND EXISTS (SELECT 1 FROM completions AS k
                        WHERE k.user_id = enrollments.user_id AND k.challenge_id = NEW.challenge_id);
    ELSE
        UPDATE enrollments
           SET completed_count = completed_count - 1,
               last_completed_at = (SELECT max(k.completed_at) FROM path_challenges AS pc
                                      JOIN completions AS k ON k.user_id = enrollments.user_id AND k.challenge_id = pc.challenge_id
                                     WHERE pc.path_id = enrollments.path_id)
         WHERE path_id = OLD.path_id
           AND EXISTS (SELECT 1 FROM completions AS k
                        WHERE k.user_id = enrollments.user_id AND k.challenge_id = OLD.challenge_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER path_challenges_progress_insert AFTER INSERT ON path_challenges
    FOR EACH ROW EXECUTE FUNCTION path_challenges_progress();

CREATE TRIGGER path_challenges_progress_delete AFTER DELETE ON path_challenges
    FOR EACH ROW EXECUTE FUNCTION path_challenges_progress();

-- Deleting a challenge cascades to its completions and path entries. SQLite runs each
-- cascaded delete's triggers as it goes, so whichever goes first moves the counter and the
-- other finds nothing to count. PostgreSQL runs both cascades first and the triggers they
-- queue afterwards, when neither row is left to find: the counter would never move. So
-- here the challenge's own delete moves it, before the cascades, and the queued triggers
-- then find nothing, as on SQLite.
CREATE FUNCTION challenges_progress_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE enrollments
       SET completed_count = completed_count - 1,
           last_completed_at = (SELECT max(k.completed_at) FROM path_challenges AS pc
                                  JOIN completions AS k ON k.user_id = enrollments.user_id AND k.challenge_id = pc.challenge_id
                                 WHERE pc.path_id = enrollments.path_id AND pc.challenge_id <> OLD.id)
     WHERE EXISTS (SELECT 1 FROM path_challenges AS pc
                     JOIN completions AS k ON k.challenge_id = pc.challenge_id AND k.user_id = enrollments.user_id
                    WHERE pc.challenge_id = OLD.id AND pc.path_id = enrollments.path_id);
    RETURN OLD;
END $$;

CREATE TRIGGER challenges_progress_delete BEFORE DELETE ON challenges
    FOR EACH ROW EXECUTE FUNCTION challenges_progress_delete();
