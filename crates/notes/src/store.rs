//! Notes in the shared database (SQLite or PostgreSQL): durable, full-text searchable,
//! paged by keyset over indexes.

use core_models::pagination::Total;
use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Board, Page};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::prelude::*;
use storage::count::count_up_to;
use storage::keyset::{key_columns, order_clause, KeysetAfter};
use storage::schema::notes;
use storage::search::Search;
use storage::Database;
use storage::{Backend, DbConn};
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};
use crate::NoteService;

/// A [`NoteService`] over the `notes` table.
#[derive(Debug, Clone)]
pub struct DbNotes {
    db: Database,
}

impl DbNotes {
    /// A store on a migrated database.
    pub fn new(db: Database) -> Self {
        DbNotes { db }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = notes, check_for_backend(storage::Backend))]
struct NoteRow {
    id: String,
    title: Option<String>,
    content: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TryFrom<NoteRow> for Note {
    type Error = AppError;
    fn try_from(row: NoteRow) -> AppResult<Note> {
        let id = id::from_stored("notes.id", &row.id)?;
        Ok(Note {
            id,
            title: row.title,
            content: row.content,
            created_at: time::from_millis(row.created_at),
            updated_at: time::from_millis(row.updated_at),
            version: row.version,
        })
    }
}

type NoteQuery = notes::BoxedQuery<'static, Backend, SqlTypeOf<AsSelect<NoteRow, Backend>>>;

/// The notes of `board`: `owner_id = ?`, or `owner_id IS NULL` for the anonymous board;
/// every notes index leads with `owner_id`, so the scope narrows the index walk instead
/// of filtering rows.
fn on_board(board: Board) -> storage::sql::Sql {
    storage::sql::column_is("notes.owner_id", board.owner_id().map(|id| id.to_string()))
}

/// The notes of `board` a list shows, with `search` the planned search of the query's
/// words (see [`storage::search`]): what its pages read and its `count=true` counts.
fn listed(board: Board, search: Option<&Search>) -> NoteQuery {
    let q: NoteQuery = notes::table.select(NoteRow::as_select()).into_boxed();
    match search {
        Some(search) => {
            q.filter(search.scope("notes.owner_id", board.owner_id().map(|id| id.to_string()))).filter(search.filter())
        }
        None => q.filter(on_board(board)),
    }
}

/// The query of one page (`limit + 1` rows: the extra one proves there is more), with
/// `search` the planned search of the query's words (see [`storage::search`]).
fn list_query(board: Board, query: &ListNotes, search: Option<&Search>) -> AppResult<NoteQuery> {
    let mut q = listed(board, search);
    let columns = key_columns(&query.sort, "notes.id");
    if let Some(after) = query.after()? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(q.order(order_clause(&columns)).limit(i64::from(query.page.limit) + 1))
}

/// The rows of one page and, with `count=true`, the list's total: the search (if any)
/// planned and run in the same read transaction as both.
fn load_page(conn: &mut DbConn, board: Board, query: &ListNotes) -> AppResult<(Vec<NoteRow>, Option<Total>)> {
    // One statement (a page without its total, no search) needs no transaction of its own.
    let several = query.page.count || query.search.is_some();
    storage::conn::snapshot(conn, several, |c| {
        let Some(terms) = &query.search else {
            let rows = list_query(board, query, None)?.load(c)?;
            let total = query.page.total(|most| count_up_to(c, listed(board, None), most))?;
            return Ok((rows, total));
        };
        let Some(search) = storage::search::NOTES.search(c, terms)? else {
            return Ok((vec![], query.page.total(|_| Ok::<_, AppError>(0))?));
        };
        let rows = i64::from(query.page.limit) + 1;
        let total = query.page.total(|most| {
            search.counting().steered(c, |c, counted| count_up_to(c, listed(board, Some(counted)), most))
        })?;
        let rows: Vec<NoteRow> =
            search.run(c, rows, |c, search| -> AppResult<_> { Ok(list_query(board, query, Some(search))?.load(c)) })?;
        Ok((rows, total))
    })
}

/// The note `id` of `board`; a note of another board is as unknown as no note.
fn find(conn: &mut DbConn, board: Board, id: Uuid) -> AppResult<Note> {
    notes::table
        .filter(notes::id.eq(id.to_string()))
        .filter(on_board(board))
        .select(NoteRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("note"))?
        .try_into()
}

impl NoteService for DbNotes {
    fn create(&self, board: Board, new: NewNote) -> AppResult<Note> {
        let note = new.validate()?.into_note();
        // One statement, a new row: nothing to read first (two round trips fewer on
        // PostgreSQL).
        self.db.write_statement(move |c| {
            diesel::insert_into(notes::table)
                .values((
                    notes::id.eq(note.id.to_string()),
                    notes::owner_id.eq(board.owner_id().map(|id| id.to_string())),
                    notes::title.eq(&note.title),
                    notes::content.eq(&note.content),
                    notes::created_at.eq(time::to_millis(note.created_at)),
                    notes::updated_at.eq(time::to_millis(note.updated_at)),
                    notes::version.eq(note.version),
                ))
                .execute(c)?;
            Ok(note.clone())
        })
    }

    fn list(&self, board: Board, query: &ListNotes) -> AppResult<Page<Note>> {
        let (rows, total) = if query.search.is_some() {
            load_page(&mut *self.db.read_for_search()?, board, query)?
        } else {
            load_page(&mut *self.db.read()?, board, query)?
        };
        let notes = rows.into_iter().map(Note::try_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(notes, &query.page, &query.sort, |n| query.keys_of(n)).with_total(total))
    }

    fn get(&self, board: Board, id: Uuid) -> AppResult<Note> {
        let mut conn = self.db.read()?;
        find(&mut conn, board, id)
    }

    fn update(&self, board: Board, id: Uuid, changes: NoteChanges, expected: IfMatch) -> AppResult<Note> {
        let changes = changes.validate()?;
        // Found, checked and changed in one write: no other change can come in between.
        self.db.write(move |c| {
            let current = find(c, board, id)?;
            expected.check(current.version)?;
            let Some(updated) = changes.clone().apply_to(&current) else {
                return Ok(current);
            };
            diesel::update(notes::table.filter(notes::id.eq(id.to_string())))
                .set((
                    notes::title.eq(&updated.title),
                    notes::content.eq(&updated.content),
                    notes::updated_at.eq(time::to_millis(updated.updated_at)),
                    notes::version.eq(updated.version),
                ))
                .execute(c.conn())?;
            Ok(updated)
        })
    }

    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()> {
        self.db.write(move |c| {
            let current = find(c, board, id)?;
            expected.check(current.version)?;
            diesel::delete(notes::table.filter(notes::id.eq(id.to_string()))).execute(c.conn())?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use core_models::pagination::PageRequest;
    use core_models::sort::Sort;
    use storage::plan::{plan_problems, query_plan};
    use storage::search::Plan;

    fn listing(sort: &str, search: Option<&str>) -> ListNotes {
        ListNotes {
            page: PageRequest::first(50),
            sort: Sort::parse(Some(sort), "-created_at").unwrap(),
            search: search.map(storage::search::search_terms),
        }
    }

    /// Every sort, ascending and descending, first page and after a cursor (also after a
    /// NULL title), on the anonymous board and on a user's: an index is walked in order,
    /// narrowed to the board (`owner_id=?`), never a full scan of notes, never a sort.
    /// A search for a frequent word ("milk", in more notes than a lead takes) walks the
    /// same way and probes each note it visits by rowid; a rare word ("oat") starts from
    /// its matches, read by rowid, and sorts them (a few, by design).
    #[test]
    fn every_sort_walks_an_index_in_order() {
        let db = storage::test_pool_sqlite();
        let frequent = storage::search::LEAD_MAX + 100;
        db.write(move |c| {
            diesel::sql_query(format!(
                "WITH RECURSIVE i(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM i WHERE x < {frequent})
                 INSERT INTO notes (id, title, content, created_at, updated_at)
                 SELECT printf('seed-%06d', x), 'Milk ' || x, CASE WHEN x < 3 THEN 'oat' ELSE 'cow' END, x, x FROM i"
            ))
            .execute(c.conn())?;
            Ok(())
        })
        .unwrap();
        let mut conn = db.read().unwrap();
        storage::budget::clear();
        let titled = NewNote { title: Some("t".into()), content: "c".into() }.validate().unwrap().into_note();
        let untitled = NewNote { title: None, content: "c".into() }.validate().unwrap().into_note();
        let boards = [Board::Anonymous, Board::User(Uuid::now_v7())];
        for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"] {
            for search in [None, Some("milk"), Some("oat")] {
                let first = listing(sort, search);
                let mut queries = vec![first.clone()];
                for note in [&titled, &untitled] {
                    let mut next = first.clone();
                    next.page = first.page.continued(&first.page.cursor_for(sort, first.keys_of(note))).unwrap();
                    queries.push(next);
                }
                for (query, board) in queries.iter().flat_map(|q| boards.map(|b| (q, b))) {
                    let planned = query
                        .search
                        .as_ref()
                        .map(|terms| storage::search::NOTES.search(&mut conn, terms).unwrap().unwrap());
                    let plan = query_plan(&mut conn, list_query(board, query, planned.as_ref()).unwrap()).unwrap();
                    let joined = plan.join(" | ");
                    let walk = plan.iter().find(|step| step.contains("USING INDEX notes_by_"));
                    let walks = walk.is_some_and(|step| step.contains("(owner_id=?"))
                        && plan_problems(&plan, "notes").is_empty();
                    let ok = match (search, planned.map(|s| s.plan())) {
                        (None, _) => walks,
                        (Some("milk"), Some(Plan::Walk)) => {
                            walks && joined.contains("notes_fts VIRTUAL TABLE INDEX 0:=M")
                        }
                        (Some("oat"), Some(Plan::Lead)) => {
                            joined.starts_with("SEARCH notes USING INTEGER PRIMARY KEY (rowid=?)") && walk.is_none()
                        }
                        _ => false,
                    };
                    assert!(ok, "sort={sort} q={search:?} {board:?}: {joined}");
                }
            }
        }
    }

    /// 20,000 notes over many boards: a quarter anonymous, a quarter `user`'s; "milk" in
    /// the title of 89%, "oat" in 8 (2 on each of the two boards), and "cow" or "ox" in each
    /// other's text (never both), with one of 211 filler words: PostgreSQL's statistics then
    /// know the vocabulary, as they would a real one (with a few dozen words, they take every
    /// prefix for 2% of the rows).
    fn postgres_seed(user: Uuid) -> String {
        format!(
            "INSERT INTO notes (id, owner_id, title, content, created_at, updated_at)
             SELECT {id},
                    CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN '{user}' ELSE 'other-' || (i % 97) END,
                    CASE WHEN i % 9 = 0 THEN NULL ELSE 'Milk ' || i END,
                    CASE WHEN i < 9 THEN 'oat' WHEN i % 8 < 4 THEN 'cow' ELSE 'ox' END || ' w' || (i * 7919 % 211),
                    i, i
               FROM generate_series(1, 20000) AS i",
            id = storage::testing::seeded_id_sql(0, "i"),
        )
    }

    /// A PostgreSQL database of [`postgres_seed`] for `user` (a new one), analysed, with a
    /// connection to it; `None` (and a line saying so) when the run is on SQLite.
    fn seeded_postgres() -> Option<(Uuid, storage::TestDb, storage::PooledConn)> {
        let user = Uuid::now_v7();
        let Some((db, conn)) = storage::testing::analysed_postgres(&postgres_seed(user)) else {
            eprintln!("skipped: not a PostgreSQL run");
            return None;
        };
        Some((user, db, conn))
    }

    /// PostgreSQL: on 20,000 analysed notes over many boards, every sort (both directions,
    /// first page and after a cursor, after a NULL title too) walks an index narrowed to the
    /// board, never a sequential scan, never a sort.
    #[test]
    fn every_sort_walks_an_index_on_postgresql() {
        let Some((user, _db, mut conn)) = seeded_postgres() else { return };
        let titled = NewNote { title: Some("t".into()), content: "c".into() }.validate().unwrap().into_note();
        let untitled = NewNote { title: None, content: "c".into() }.validate().unwrap().into_note();
        for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"] {
            let first = listing(sort, None);
            let mut queries = vec![first.clone()];
            for note in [&titled, &untitled] {
                let mut next = first.clone();
                next.page = first.page.continued(&first.page.cursor_for(sort, first.keys_of(note))).unwrap();
                queries.push(next);
            }
            for (query, board) in queries.iter().flat_map(|q| [Board::Anonymous, Board::User(user)].map(|b| (q, b))) {
                let plan = query_plan(&mut conn, list_query(board, query, None).unwrap()).unwrap();
                let joined = plan.join("\n");
                let walks = joined.contains("Index Scan") && plan_problems(&plan, "notes").is_empty();
                assert!(walks, "sort={sort} {board:?}:\n{joined}");
            }
        }
    }

    /// Whether a PostgreSQL plan reads as `plan` does: a lead reads its matches by key, a
    /// walk walks an index without the GIN index.
    fn read_as_planned(joined: &str, plan: Plan) -> bool {
        match plan {
            Plan::Lead => joined.contains("on notes_pkey") && !joined.contains("notes_search"),
            Plan::Walk => joined.contains("Index Scan") && !joined.contains("Bitmap"),
        }
    }

    /// PostgreSQL: searches of the same notes, every sort, both boards. The plan is
    /// [`storage::search::Search::steer`]'s: a frequent word ("milk") walks the sort index
    /// as a list does, without the GIN index; a rare word ("oat") and two frequent words
    /// never found together ("cow ox", which PostgreSQL's own estimate takes for a quarter
    /// of the notes, so it walked every note of the board) lead with their matches,
    /// gathered from the GIN index and read by key. No plan scans the table, sorts more
    /// than a few matches or reads and throws away more than a few thousand rows, and a
    /// walk and a lead find the same page. A count (`count=true`) is planned as the page
    /// is.
    #[test]
    fn searches_walk_or_lead_on_postgresql() {
        let Some((user, _db, mut conn)) = seeded_postgres() else { return };
        for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"] {
            for (q, expected) in [("milk", Plan::Walk), ("oat", Plan::Lead), ("cow ox", Plan::Lead), ("co", Plan::Walk)]
            {
                for board in [Board::Anonymous, Board::User(user)] {
                    let query = listing(sort, Some(q));
                    let terms = query.search.clone().unwrap();
                    conn.transaction(|c| -> AppResult<()> {
                        let search = storage::search::NOTES.search(c, &terms)?.unwrap().steer(c)?;
                        assert_eq!(search.plan(), expected, "sort={sort} q={q}");
                        let plan = query_plan(c, list_query(board, &query, Some(&search))?)?;
                        let joined = plan.join("\n");
                        let problems = plan_problems(&plan, "notes");
                        assert!(problems.is_empty(), "sort={sort} q={q} {board:?}: {problems:?}\n{joined}");
                        assert!(read_as_planned(&joined, expected), "sort={sort} q={q} {board:?}:\n{joined}");
                        Ok(())
                    })
                    .unwrap();
                    // `count=true`: planned as the page is, never reading the table.
                    conn.transaction(|c| -> AppResult<()> {
                        let counting = storage::search::NOTES.search(c, &terms)?.unwrap().counting();
                        counting.steered(c, |c, s| -> AppResult<()> {
                            let plan = query_plan(c, storage::count::count_query(listed(board, Some(s)), 10_001))?;
                            let joined = plan.join("\n");
                            assert!(!joined.contains("Seq Scan"), "count: sort={sort} q={q} {board:?}:\n{joined}");
                            assert!(
                                read_as_planned(&joined, expected),
                                "count: sort={sort} q={q} {board:?}:\n{joined}"
                            );
                            Ok(())
                        })
                    })
                    .unwrap();
                    let pages: Vec<Vec<String>> = [Plan::Walk, Plan::Lead]
                        .map(|plan| {
                            conn.transaction(|c| -> AppResult<Vec<String>> {
                                let search = storage::search::NOTES.search(c, &terms)?.unwrap().with_plan(plan);
                                let rows = search.run(c, 51, |c, s| -> AppResult<_> {
                                    Ok(list_query(board, &query, Some(s))?.load::<NoteRow>(c))
                                })?;
                                Ok(rows.into_iter().map(|row| row.id).collect())
                            })
                            .unwrap()
                        })
                        .into();
                    assert_eq!(pages[0], pages[1], "sort={sort} q={q} {board:?}");
                    assert_eq!(pages[0].is_empty(), q == "cow ox", "sort={sort} q={q} {board:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod budget {
    use super::*;
    use crate::model::ListNotesParams;
    use std::time::Duration;

    /// A search past the read budget is stopped inside SQLite and answers 503; a list
    /// without a search does not check the budget.
    #[test]
    fn a_search_past_the_read_budget_is_503() {
        let db =
            storage::test_pool_sqlite_with(&storage::DbConfig { read_budget: Duration::ZERO, ..Default::default() });
        let notes = DbNotes::new(db.database());
        for i in 0..200 {
            notes.create(Board::Anonymous, NewNote { title: None, content: format!("milk {i}") }).unwrap();
        }
        let list = |q: Option<&str>| {
            let params = ListNotesParams { limit: Some("10".into()), q: q.map(Into::into), ..Default::default() };
            notes.list(Board::Anonymous, &ListNotes::parse(params).unwrap())
        };
        assert_eq!(list(Some("milk")).unwrap_err().status_code(), 503);
        assert_eq!(list(None).unwrap().items.len(), 10);
    }
}
