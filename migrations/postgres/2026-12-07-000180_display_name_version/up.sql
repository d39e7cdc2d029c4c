-- PostgreSQL twin of migrations/sqlite/2026-12-07-000180_display_name_version (read its
-- notes): the version of users' display names, moved by every rename and deletion of a user.
--
-- The row lock makes two renames take numbers one after the other; a read that saw version
-- N saw every rename up to N and none after it.
CREATE TABLE display_name_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);

CREATE FUNCTION note_display_name_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO display_name_version AS v (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER users_display_name_version AFTER UPDATE OF display_name ON users
    FOR EACH ROW WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name)
    EXECUTE FUNCTION note_display_name_change();

CREATE TRIGGER users_deleted_name_version AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION note_display_name_change();
