DROP TABLE login_failures;
DROP TABLE stream_tickets;
DROP TRIGGER tokens_deleted_live;
DROP TRIGGER tokens_revoked;
DROP TABLE session_revocations;
DROP TABLE revocation_counter;
