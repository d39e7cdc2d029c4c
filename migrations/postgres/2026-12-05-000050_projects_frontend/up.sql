-- PostgreSQL twin of migrations/sqlite/2026-12-05-000050_projects_frontend: invites by id,
-- member search, archived projects, and rows without a sort value last in both directions.
-- Generated key columns are STORED here (PostgreSQL 15 has no virtual ones); text keys
-- are COLLATE "C" so they order by bytes as on SQLite, and `lower(x COLLATE "C")` folds
-- ASCII only, as SQLite's `lower()` does.

ALTER TABLE team_invites ADD COLUMN id TEXT COLLATE "C";
UPDATE team_invites SET id = gen_random_uuid()::text WHERE id IS NULL;
CREATE UNIQUE INDEX team_invites_by_id ON team_invites (team_id, id);

ALTER TABLE team_members ADD COLUMN name_key TEXT COLLATE "C" NOT NULL DEFAULT '';
UPDATE team_members
SET name_key = coalesce((SELECT lower(display_name COLLATE "C") FROM users WHERE users.id = team_members.user_id), '');
CREATE INDEX team_members_by_name ON team_members (team_id, name_key, user_id);

CREATE FUNCTION team_members_name_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- An unknown user is left to the foreign key (which names `user_id`), not to NOT NULL.
    NEW.name_key := coalesce((SELECT lower(display_name COLLATE "C") FROM users WHERE id = NEW.user_id), '');
    RETURN NEW;
END $$;
CREATE TRIGGER team_members_name_key BEFORE INSERT ON team_members
    FOR EACH ROW EXECUTE FUNCTION team_members_name_key();

CREATE FUNCTION users_display_name_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_members SET name_key = lower(NEW.display_name COLLATE "C") WHERE user_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_display_name_key AFTER UPDATE OF display_name ON users
    FOR EACH ROW EXECUTE FUNCTION users_display_name_key();

CREATE INDEX projects_by_team_archived ON projects (team_id, archived, id);

ALTER TABLE project_tasks ADD COLUMN due_desc_key TEXT COLLATE "C" GENERATED ALWAYS AS (coalesce(due_date, '')) STORED;
CREATE INDEX project_tasks_team_due_desc     ON project_tasks (team_id, due_desc_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_due_desc     ON project_tasks (project_id, due_desc_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_assignee_due_desc ON project_tasks (team_id, assignee_key, due_desc_key, id);

ALTER TABLE tasks ADD COLUMN due_desc_key TEXT COLLATE "C" GENERATED ALWAYS AS (coalesce(due_date, '')) STORED;
CREATE INDEX tasks_by_due_desc        ON tasks (owner_id, due_desc_key, id);
CREATE INDEX tasks_by_status_due_desc ON tasks (owner_id, status, due_desc_key, id);

-- 201 times U+10FFFF: above every title of at most 200 characters, in byte order.
ALTER TABLE notes ADD COLUMN title_asc_key TEXT COLLATE "C"
    GENERATED ALWAYS AS (coalesce(title, repeat(chr(1114111), 201))) STORED;
CREATE INDEX notes_by_title_asc ON notes (owner_id, title_asc_key, id);

-- A generated column cannot read another (`rating_key`), so the expression is repeated.
ALTER TABLE challenges ADD COLUMN rating_asc_key BIGINT
    GENERATED ALWAYS AS
        (CASE WHEN rating_count > 0 THEN rating_sum * 1000000 / rating_count ELSE 9223372036854775807 END) STORED;
CREATE INDEX challenges_by_rating_asc    ON challenges (rating_asc_key, id);
CREATE INDEX challenges_topic_rating_asc ON challenges (lower(topic COLLATE "C"), rating_asc_key, id);
CREATE INDEX challenges_level_rating_asc ON challenges (difficulty, rating_asc_key, id);
ALTER TABLE challenge_tags ADD COLUMN rating_asc_key BIGINT
    GENERATED ALWAYS AS (CASE WHEN rating_key > 0 THEN rating_key ELSE 9223372036854775807 END) STORED;
CREATE INDEX challenge_tags_rating_asc ON challenge_tags (tag, rating_asc_key, challenge_id);
