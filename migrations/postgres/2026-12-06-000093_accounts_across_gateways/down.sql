DROP TABLE IF EXISTS login_failures;
DROP TABLE IF EXISTS stream_tickets;
DROP TRIGGER IF EXISTS tokens_deleted_live ON tokens;
DROP TRIGGER IF EXISTS tokens_revoked ON tokens;
DROP FUNCTION IF EXISTS note_session_revocation();
DROP TABLE IF EXISTS session_revocations;
DROP TABLE IF EXISTS revocation_counter;
