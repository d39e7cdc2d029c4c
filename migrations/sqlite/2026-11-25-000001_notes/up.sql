-- Sticky notes. `seq` is the integer rowid FTS5 needs; `id` is the public UUIDv7.
-- Timestamps are milliseconds since the Unix epoch (UTC).
CREATE TABLE notes (
    seq        INTEGER PRIMARY KEY,
    id         TEXT    NOT NULL UNIQUE,
    title      TEXT,
    content    TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- One index per sort; the id tie-breaker is the last column of each.
CREATE INDEX notes_by_created ON notes (created_at, id);
CREATE INDEX notes_by_updated ON notes (updated_at, id);
CREATE INDEX notes_by_title   ON notes (title, id);

-- Full-text index over title and content, kept in step by triggers (external content).
CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, content,
    content = 'notes', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts (rowid, title, content) VALUES (new.seq, new.title, new.content);
END;

CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, title, content) VALUES ('delete', old.seq, old.title, old.content);
END;

CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content ON notes BEGIN
    INSERT INTO notes_fts (notes_fts, rowid, title, content) VALUES ('delete', old.seq, old.title, old.content);
    INSERT INTO notes_fts (rowid, title, content) VALUES (new.seq, new.title, new.content);
END;
