-- PostgreSQL twin of migrations/sqlite/2026-11-26-000004_activity (see the notes migration
-- for the house rules).
--
-- `seq` comes from an identity sequence, which (like AUTOINCREMENT) never hands a number
-- out twice. Unlike SQLite's single writer, a sequence does not follow commit order when
-- several transactions write at once (issue 16, point 4): that is the port's to solve
-- (a per-team counter row taken inside the write), not this migration's.
--
-- `details` must be a JSON object. SQLite checks `json_valid(details) AND
-- json_type(details) = 'object'`; a cast to jsonb raises an error on bad JSON instead of
-- failing a CHECK, so the cast runs inside a function that turns the error into false.
CREATE FUNCTION is_json_object(t text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    RETURN jsonb_typeof(t::jsonb) = 'object';
EXCEPTION WHEN others THEN
    RETURN false;
END $$;

CREATE TABLE activity (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id    TEXT   COLLATE "C" NOT NULL,
    project_id TEXT   COLLATE "C",
    task_id    TEXT   COLLATE "C",
    actor_id   TEXT   COLLATE "C" NOT NULL REFERENCES users (id),
    action     TEXT   COLLATE "C" NOT NULL CONSTRAINT activity_action CHECK (length(action) BETWEEN 1 AND 64),
    details    TEXT   NOT NULL CONSTRAINT activity_details CHECK (is_json_object(details)),
    created_at BIGINT NOT NULL
);

-- A team's feed, newest first, and each of its filters, newest first.
CREATE INDEX activity_by_team ON activity (team_id, seq);
CREATE INDEX activity_by_team_project ON activity (team_id, project_id, seq);
CREATE INDEX activity_by_team_actor ON activity (team_id, actor_id, seq);
CREATE INDEX activity_by_team_action ON activity (team_id, action, seq);
-- One task's history.
CREATE INDEX activity_by_task ON activity (task_id, seq) WHERE task_id IS NOT NULL;
-- `since`: the first entry at or after a time.
CREATE INDEX activity_by_time ON activity (created_at);
