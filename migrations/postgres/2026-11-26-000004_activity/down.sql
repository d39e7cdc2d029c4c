DROP TABLE activity;
DROP FUNCTION is_json_object(text);
