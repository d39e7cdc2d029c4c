-- Activity ids that reveal nothing across teams (API section 6).
--
-- Until now an entry's public id was built from its time and the global `seq`, so a member
-- of one team could read how many entries every other team wrote between two of its own.
-- Now each team counts its own entries: `activity_counters.last_seq` is bumped inside the
-- write that appends (an upsert, so the row lock, on engines that lock, orders the team's
-- appends: the counter follows commit order within a team), and the entry keeps it as
-- `team_seq`. New public ids are UUIDv7s made of the time, a marker, `team_seq` and random
-- bits (see `activity_log::model::entry_id`): increasing in commit order within a team,
-- telling nothing of other teams. Ids are stored in `public_id` (unique: globally unique ids,
-- and the lookup behind `Last-Event-ID`). Entries recorded before this migration keep the
-- id clients already hold, written here with the old formula (time, then the global `seq`),
-- so an old id still resumes a stream.
--
-- `seq` stays the log's internal order (feeds, `since`); streams replay by `team_seq`.
CREATE TABLE activity_counters (
    team_id  TEXT   NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL CHECK (last_seq >= 1)
);

ALTER TABLE activity ADD COLUMN team_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE activity ADD COLUMN public_id TEXT NOT NULL DEFAULT '';

UPDATE activity SET team_seq = numbered.n
FROM (SELECT seq, row_number() OVER (PARTITION BY team_id ORDER BY seq) AS n FROM activity) AS numbered
WHERE activity.seq = numbered.seq;

UPDATE activity SET public_id =
    substr(printf('%012x', created_at), 1, 8) || '-' || substr(printf('%012x', created_at), 9, 4)
    || '-7000-' || printf('%04x', 32768 | ((seq >> 48) & 16383)) || '-' || printf('%012x', seq & 281474976710655);

INSERT INTO activity_counters (team_id, last_seq)
SELECT team_id, max(team_seq) FROM activity GROUP BY team_id;

-- A stream's replay: a team's entries after a `team_seq`, in order.
CREATE UNIQUE INDEX activity_by_team_seq ON activity (team_id, team_seq);
-- Ids never repeat, and `Last-Event-ID` finds its entry.
CREATE UNIQUE INDEX activity_by_public_id ON activity (public_id);
