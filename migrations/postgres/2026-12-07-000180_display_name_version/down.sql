DROP TRIGGER users_deleted_name_version ON users;
DROP TRIGGER users_display_name_version ON users;
DROP FUNCTION note_display_name_change();
DROP TABLE display_name_version;
