-- PostgreSQL twin of migrations/sqlite/2026-12-05-000031_activity_team_seq: per-team
-- activity counters and public ids that reveal nothing across teams (see the SQLite
-- migration for the why).
--
-- This is what makes a team's numbers follow commit order under concurrent writers: the
-- append upserts the team's `activity_counters` row inside the write, so a second writer of
-- the same team waits on the row lock until the first commits, and takes the next number
-- after it. (A sequence would not: a transaction that took number 1 can commit after one
-- that took number 2.) Append the entry last in a write so the lock is held briefly.
CREATE TABLE activity_counters (
    team_id  TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL CHECK (last_seq >= 1)
);

ALTER TABLE activity ADD COLUMN team_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activity ADD COLUMN public_id TEXT COLLATE "C" NOT NULL DEFAULT '';

UPDATE activity SET team_seq = numbered.n
FROM (SELECT seq, row_number() OVER (PARTITION BY team_id ORDER BY seq) AS n FROM activity) AS numbered
WHERE activity.seq = numbered.seq;

-- The ids clients already hold: the time, then the global `seq` (a UUIDv7 layout).
UPDATE activity SET public_id =
    substr(lpad(to_hex(created_at), 12, '0'), 1, 8) || '-' || substr(lpad(to_hex(created_at), 12, '0'), 9, 4)
    || '-7000-' || lpad(to_hex(32768 | ((seq >> 48) & 16383)), 4, '0') || '-'
    || lpad(to_hex(seq & 281474976710655), 12, '0');

INSERT INTO activity_counters (team_id, last_seq)
SELECT team_id, max(team_seq) FROM activity GROUP BY team_id;

CREATE UNIQUE INDEX activity_by_team_seq ON activity (team_id, team_seq);
CREATE UNIQUE INDEX activity_by_public_id ON activity (public_id);
