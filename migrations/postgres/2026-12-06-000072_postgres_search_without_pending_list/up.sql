-- The full-text (GIN) indexes take every new row's words into the index at once, instead
-- of into a pending list that each search reads whole until VACUUM merges it (up to
-- gin_pending_list_limit, 4 MB by default). Measured on 100,000 tasks with PostgreSQL 15,
-- a search for a rare word (a GIN bitmap) at 16 connections: p99 39 ms while writes
-- filled the list to 345 pages, 6.6 ms without a list; single-row inserts at 4
-- connections ran at the same rate either way (3,050 and 3,240 per second: the B-tree
-- indexes of the tables cost more than the words).
ALTER INDEX notes_search SET (fastupdate = off);
ALTER INDEX tasks_search SET (fastupdate = off);
ALTER INDEX project_tasks_search SET (fastupdate = off);
ALTER INDEX challenges_search SET (fastupdate = off);
ALTER INDEX learning_paths_search SET (fastupdate = off);
