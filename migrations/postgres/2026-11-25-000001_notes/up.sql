-- PostgreSQL twin of migrations/sqlite/2026-11-25-000001_notes: the same tables, columns
-- (names, order, types, nullability) and constraints; `crates/storage/tests/schema_match.rs`
-- compares the two. House rules for every PostgreSQL migration:
--
-- * Types follow `crates/storage/src/schema.rs` (`BigInt` -> BIGINT, `Integer` -> INTEGER,
--   `Bool` -> BOOLEAN, `Binary` -> BYTEA), ids are TEXT, times BIGINT milliseconds.
-- * SQLite's `INTEGER PRIMARY KEY` rowids become `GENERATED ALWAYS AS IDENTITY` (the code
--   never names them when inserting; a copy from SQLite inserts them with
--   `OVERRIDING SYSTEM VALUE` and then moves the sequence past the largest).
-- * Text that is compared or ordered by byte (ids, sort keys, keyset tie-breakers) is
--   `COLLATE "C"`, which orders as SQLite's BINARY does whatever the database's locale.
-- * Generated columns are STORED (PostgreSQL 15 has no virtual ones).
-- * FTS5 becomes a STORED generated `tsvector` column `search` with a GIN index (see below);
--   it is the only column PostgreSQL has that SQLite's table has not.
--
-- Timestamps are milliseconds since the Unix epoch (UTC).

-- Letters with diacritics (Latin-1 and Latin Extended-A/B) -> their base letter, as FTS5's
-- `remove_diacritics 2` folds them; ASCII punctuation -> a space, as unicode61 splits words
-- there (PostgreSQL's parser would otherwise keep `ann@example.com`, `a-b`, `v1.2`, paths and
-- URLs as tokens of their own, which FTS5 splits).
CREATE FUNCTION search_fold(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT translate(lower(t),
        'ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ'
        || '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~',
        'aaaaaaceeeeiiiinooooouuuuyaaaaaaceeeeiiiinooooouuuuyyaaaaaaccccccccddeeeeeeeeeegggggggghhiiiiiiiiijjkkllllllnnnnnnoooooorrrrrrssssssssttttuuuuuuuuuuuuwwyyyzzzzzzoouuaaiioouuuuuuuuuuaaaaggkkoooojggnnaaaaaaeeeeiiiioooorrrruuuusstthhaaeeooooooooyy'
        || '                                ') $$;

CREATE TABLE notes (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT   COLLATE "C" NOT NULL UNIQUE,
    title      TEXT   COLLATE "C",
    content    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    -- Full-text search, in place of SQLite's `notes_fts` (FTS5, unicode61, diacritics
    -- removed). What the Rust side queries, so that a search finds the same rows on both
    -- engines:
    --
    --   search @@ to_tsquery('simple', '<w1>:* & <w2>:* & ...')
    --
    -- where the user's text is folded with the same `search_fold(q)` and split on
    -- whitespace into words w1, w2, ... (each written as a quoted lexeme, `'word':*`, so
    -- that no user text is ever tsquery syntax); a word shorter than
    -- `storage::search::MIN_PREFIX_CHARS` is an exact lexeme (`'a'`), every other a prefix
    -- (`'gro':*`), as `"gro"*` is on SQLite. All words must match (`&`), as in FTS5's
    -- implicit AND. The `simple` configuration lower-cases and never stems or drops stop
    -- words, like unicode61. The GIN index serves the lexeme and prefix lookups of a
    -- "lead" plan; a "walk" tests `search @@ q` on the rows it visits.
    search     tsvector GENERATED ALWAYS AS
                   (to_tsvector('simple', search_fold(coalesce(title, '') || ' ' || content))) STORED
);

-- One index per sort; the id tie-breaker is the last column of each.
CREATE INDEX notes_by_created ON notes (created_at, id);
CREATE INDEX notes_by_updated ON notes (updated_at, id);
CREATE INDEX notes_by_title   ON notes (title, id);

CREATE INDEX notes_search ON notes USING gin (search);
