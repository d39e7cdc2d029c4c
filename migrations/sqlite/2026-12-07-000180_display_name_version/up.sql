-- The version of users' display names, which lets each gateway keep the names it has read
-- (`storage::names`): a list's rows then carry user ids and this one number, and the names
-- come from memory instead of a `users` probe per row and person.
--
-- Every change of a display name (none through the API today; SQL by hand, or a later
-- endpoint) and every deletion of a user moves the version, in the changing write itself.
-- A name remembered at version N is used only for a read that saw version N, so a read
-- never shows a name older than its own snapshot. The row is made by the first change (a
-- fresh database holds no rows, which `gateway copy` needs of its target); until then the
-- version is 0.
CREATE TABLE display_name_version (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);

CREATE TRIGGER users_display_name_version AFTER UPDATE OF display_name ON users
    WHEN OLD.display_name IS NOT NEW.display_name
BEGIN
    INSERT INTO display_name_version (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER users_deleted_name_version AFTER DELETE ON users
BEGIN
    INSERT INTO display_name_version (id, version) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET version = version + 1;
END;
