-- What several gateways on one database must share about accounts (API section 8): the
-- revocations every gateway's session cache and event streams must hear of, stream tickets
-- usable on any gateway, and failed logins counted over all gateways.
--
-- Revocations. Every token that stops being usable before its expiry (`revoked_at` set, or
-- the row deleted before it expired, by the database's clock) gets a row in `session_revocations` with the next number of
-- `revocation_counter`, written by the triggers below inside the revoking write, whoever
-- makes it (any gateway, or SQL by hand). Gateways read the rows after the last number they
-- applied about four times a second and forget those sessions. The counter is one row that
-- every revocation updates, so two revocations never hold numbers at once: on PostgreSQL the
-- second waits for (or, SERIALIZABLE, retries after) the first's commit, which makes the
-- numbers commit in order with no gaps, and "every row after N" is never missing one that
-- commits later. The triggers keep the newest 10,000 rows; a gateway that fell further
-- behind notices the gap and checks everything it holds instead. The counter's row is made
-- by the first revocation (a fresh database holds no rows, which `gateway copy` needs of
-- its target).
CREATE TABLE revocation_counter (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq BIGINT  NOT NULL
);

CREATE TABLE session_revocations (
    seq        BIGINT NOT NULL PRIMARY KEY,
    token_hash BLOB   NOT NULL CHECK (length(token_hash) = 32)
);

CREATE TRIGGER tokens_revoked AFTER UPDATE OF revoked_at ON tokens
    WHEN OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL
BEGIN
    INSERT INTO revocation_counter (id, seq) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET seq = seq + 1;
    INSERT INTO session_revocations (seq, token_hash)
        SELECT seq, NEW.token_hash FROM revocation_counter WHERE id = 1;
    DELETE FROM session_revocations WHERE seq <= (SELECT seq - 10000 FROM revocation_counter WHERE id = 1);
END;

-- A deleted token counts only while it could still be used: a login prunes its user's
-- expired tokens, and those must not all queue on the counter row.
CREATE TRIGGER tokens_deleted_live AFTER DELETE ON tokens
    WHEN OLD.revoked_at IS NULL AND OLD.expires_at > unixepoch('subsec') * 1000
BEGIN
    INSERT INTO revocation_counter (id, seq) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET seq = seq + 1;
    INSERT INTO session_revocations (seq, token_hash)
        SELECT seq, OLD.token_hash FROM revocation_counter WHERE id = 1;
    DELETE FROM session_revocations WHERE seq <= (SELECT seq - 10000 FROM revocation_counter WHERE id = 1);
END;

-- Stream tickets (`POST /auth/stream-tickets`): the SHA-256 of the ticket's 32 random
-- bytes, never the ticket; the session (token) it belongs to; until when it opens a stream
-- (at most a minute, never past the token's expiry); and when it was used (NULL until then;
-- using it is one conditional UPDATE, so two gateways cannot both take it). Expired rows
-- are swept by the next tickets issued; a deleted token takes its tickets along.
CREATE TABLE stream_tickets (
    ticket_hash BLOB   NOT NULL PRIMARY KEY CHECK (length(ticket_hash) = 32),
    token_hash  BLOB   NOT NULL REFERENCES tokens (token_hash) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
) WITHOUT ROWID;

CREATE INDEX stream_tickets_by_token ON stream_tickets (token_hash, created_at);
CREATE INDEX stream_tickets_by_expiry ON stream_tickets (expires_at);

-- Failed logins (and attempts still being checked), one row each, for the login throttle:
-- the client address it is counted under (IPv4, or an IPv6 /64 as its prefix address), the
-- normalised email, when (milliseconds), and whether it still counts for its (email,
-- address) pair (a successful login from the pair starts the pair over, while its earlier
-- failures keep counting for the address and the email). Rows older than the window are
-- swept by later attempts, and the oldest go first past the configured maximum.
CREATE TABLE login_failures (
    id          INTEGER PRIMARY KEY,
    client      TEXT    NOT NULL CHECK (length(client) BETWEEN 1 AND 64),
    email       TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    pair_counts INTEGER NOT NULL DEFAULT 1 CHECK (pair_counts IN (0, 1))
);

CREATE INDEX login_failures_by_client ON login_failures (client, at);
CREATE INDEX login_failures_by_email ON login_failures (email, at);
CREATE INDEX login_failures_by_pair ON login_failures (email, client, at);
CREATE INDEX login_failures_by_age ON login_failures (at);
