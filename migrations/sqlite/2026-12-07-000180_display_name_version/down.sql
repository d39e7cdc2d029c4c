DROP TRIGGER users_deleted_name_version;
DROP TRIGGER users_display_name_version;
DROP TABLE display_name_version;
