-- PostgreSQL twin of migrations/sqlite/2026-12-06-000093_accounts_across_gateways (read its
-- notes): the revocation feed with its counter and triggers, stream tickets, failed logins.
--
-- The counter row is what keeps the feed in commit order here: a revocation updates it, so a
-- second revocation waits for the first one's row lock and then either sees its number
-- (READ COMMITTED, SQL by hand) or is retried after it (the gateways' SERIALIZABLE writes).
CREATE TABLE revocation_counter (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);

CREATE TABLE session_revocations (
    seq        BIGINT NOT NULL PRIMARY KEY,
    token_hash BYTEA  NOT NULL CHECK (length(token_hash) = 32)
);

CREATE FUNCTION note_session_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next BIGINT;
BEGIN
    INSERT INTO revocation_counter AS c (id, seq) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET seq = c.seq + 1
        RETURNING c.seq INTO next;
    INSERT INTO session_revocations (seq, token_hash) VALUES (next, OLD.token_hash);
    DELETE FROM session_revocations WHERE seq <= next - 10000;
    RETURN NULL;
END $$;

CREATE TRIGGER tokens_revoked AFTER UPDATE OF revoked_at ON tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION note_session_revocation();

CREATE TRIGGER tokens_deleted_live AFTER DELETE ON tokens
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND OLD.expires_at > extract(epoch FROM clock_timestamp()) * 1000)
    EXECUTE FUNCTION note_session_revocation();

CREATE TABLE stream_tickets (
    ticket_hash BYTEA  NOT NULL PRIMARY KEY CHECK (length(ticket_hash) = 32),
    token_hash  BYTEA  NOT NULL REFERENCES tokens (token_hash) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE INDEX stream_tickets_by_token ON stream_tickets (token_hash, created_at);
CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);

CREATE TABLE login_failures (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client      TEXT    COLLATE "C" NOT NULL CHECK (length(client) BETWEEN 1 AND 64),
    email       TEXT    COLLATE "C" NOT NULL,
    at          BIGINT  NOT NULL,
    pair_counts BOOLEAN NOT NULL DEFAULT true
);

CREATE INDEX login_failures_by_client ON login_failures (client, at);
CREATE INDEX login_failures_by_email ON login_failures (email, at);
CREATE INDEX login_failures_by_pair ON login_failures (email, client, at);
CREATE INDEX login_failures_by_age ON login_failures (at);
