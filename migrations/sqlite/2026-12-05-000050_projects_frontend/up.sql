-- Issue 18, team projects: invites by id, member search, archived projects, and undated
-- tasks, untitled notes and unrated challenges last in both directions.

-- Invites get an id, so admins can list and revoke them without the code (which is
-- only ever kept hashed). Existing invites get a random (version 4) UUID.
ALTER TABLE team_invites ADD COLUMN id TEXT;
UPDATE team_invites SET id = lower(
    hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' ||
    substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))
WHERE id IS NULL;
-- A team's invites in id (creation) order, and the one an admin names.
CREATE UNIQUE INDEX team_invites_by_id ON team_invites (team_id, id);

-- Member search ("starts with", case-insensitive) walks the team's slice of an index on
-- the lower-cased display name, kept in step with `users` by triggers.
ALTER TABLE team_members ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE team_members
SET name_key = coalesce((SELECT lower(display_name) FROM users WHERE users.id = team_members.user_id), '');
CREATE INDEX team_members_by_name ON team_members (team_id, name_key, user_id);
CREATE TRIGGER team_members_name_key AFTER INSERT ON team_members BEGIN
    -- An unknown user is left to the foreign key (which names `user_id`), not to NOT NULL.
    UPDATE team_members SET name_key = coalesce((SELECT lower(display_name) FROM users WHERE users.id = new.user_id), '')
    WHERE team_id = new.team_id AND user_id = new.user_id;
END;
CREATE TRIGGER users_display_name_key AFTER UPDATE OF display_name ON users BEGIN
    UPDATE team_members SET name_key = lower(new.display_name) WHERE user_id = new.id;
END;

-- `GET /teams/{id}/projects?archived=...`, and the archived projects a team task list
-- leaves out (`NOT IN` the team's archived ones).
CREATE INDEX projects_by_team_archived ON projects (team_id, archived, id);

-- Rows without a sort value come last whatever the direction (API section 1). Ascending,
-- `due_key` already puts undated tasks after every date ('9999-99-99'); descending sorts
-- by `due_desc_key`, where they get '' (below every date), from indexes of its own.
ALTER TABLE project_tasks ADD COLUMN due_desc_key TEXT GENERATED ALWAYS AS (coalesce(due_date, '')) VIRTUAL;
CREATE INDEX project_tasks_team_due_desc     ON project_tasks (team_id, due_desc_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_proj_due_desc     ON project_tasks (project_id, due_desc_key, id, status, priority, assignee_key);
CREATE INDEX project_tasks_assignee_due_desc ON project_tasks (team_id, assignee_key, due_desc_key, id);

ALTER TABLE tasks ADD COLUMN due_desc_key TEXT GENERATED ALWAYS AS (coalesce(due_date, '')) VIRTUAL;
CREATE INDEX tasks_by_due_desc        ON tasks (owner_id, due_desc_key, id);
CREATE INDEX tasks_by_status_due_desc ON tasks (owner_id, status, due_desc_key, id);

-- Notes without a title come last under `sort=title` too (descending they already do:
-- SQLite puts NULL below every text). The ascending key stands in for a missing title
-- with 201 U+10FFFF, above every title of at most 200 characters.
ALTER TABLE notes ADD COLUMN title_asc_key TEXT
    GENERATED ALWAYS AS (coalesce(title, replace(hex(zeroblob(201)), '00', char(1114111)))) VIRTUAL;
CREATE INDEX notes_by_title_asc ON notes (owner_id, title_asc_key, id);

-- Challenges nobody rated yet come last under `sort=rating` too (descending they already
-- do: their `rating_key` is 0, below every rating of 1 to 5 stars). The ascending key
-- gives them the largest integer, with indexes of its own.
ALTER TABLE challenges ADD COLUMN rating_asc_key INTEGER
    GENERATED ALWAYS AS (CASE WHEN rating_count > 0 THEN rating_key ELSE 9223372036854775807 END) VIRTUAL;
CREATE INDEX challenges_by_rating_asc    ON challenges (rating_asc_key, id);
CREATE INDEX challenges_topic_rating_asc ON challenges (topic, rating_asc_key, id);
CREATE INDEX challenges_level_rating_asc ON challenges (difficulty, rating_asc_key, id);
-- The tag rows copy `rating_key` (0 exactly when unrated: a rating is at least 1 star).
ALTER TABLE challenge_tags ADD COLUMN rating_asc_key INTEGER
    GENERATED ALWAYS AS (CASE WHEN rating_key > 0 THEN rating_key ELSE 9223372036854775807 END) VIRTUAL;
CREATE INDEX challenge_tags_rating_asc ON challenge_tags (tag, rating_asc_key, challenge_id);
