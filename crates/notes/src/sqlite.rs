//! Notes in SQLite: durable, searchable with FTS5, paged by keyset over indexes.

use core_models::version::IfMatch;
use core_models::{id, time, AppError, AppResult, Board, Page};
use diesel::dsl::{AsSelect, SqlTypeOf};
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use storage::keyset::{key_columns, order_clause, KeysetAfter};
use storage::schema::notes;
use storage::sql::sql;
use storage::Database;
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};
use crate::NoteService;

/// A [`NoteService`] over the `notes` table.
#[derive(Debug, Clone)]
pub struct SqliteNotes {
    db: Database,
}

impl SqliteNotes {
    /// A store on a migrated database.
    pub fn new(db: Database) -> Self {
        SqliteNotes { db }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = notes, check_for_backend(diesel::sqlite::Sqlite))]
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

type NoteQuery = notes::BoxedQuery<'static, Sqlite, SqlTypeOf<AsSelect<NoteRow, Sqlite>>>;

/// The notes of `board`: `owner_id IS ?` is an equality for SQLite (NULL, the anonymous
/// board, included), and every notes index leads with `owner_id`, so the scope narrows
/// the index walk instead of filtering rows.
fn on_board(board: Board) -> diesel::dsl::Is<notes::owner_id, Option<String>> {
    notes::owner_id.is(board.owner_id().map(|id| id.to_string()))
}

/// The query of one page (`limit + 1` rows: the extra one proves there is more), or `None`
/// when it cannot match anything (a search without a single word).
fn list_query(board: Board, query: &ListNotes) -> AppResult<Option<NoteQuery>> {
    let mut q: NoteQuery = notes::table.select(NoteRow::as_select()).into_boxed().filter(on_board(board));
    if let Some(terms) = &query.search {
        let Some(expr) = storage::search::fts_match_expr(terms) else { return Ok(None) };
        q = q.filter(storage::search::matching("notes.seq", "notes_fts", expr, true));
    }
    let columns = key_columns(&query.sort, "notes.id");
    if let Some(after) = query.after()? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(Some(q.order(sql(order_clause(&columns))).limit(i64::from(query.page.limit) + 1)))
}

/// The note `id` of `board`; a note of another board is as unknown as no note.
fn find(conn: &mut SqliteConnection, board: Board, id: Uuid) -> AppResult<Note> {
    notes::table
        .filter(notes::id.eq(id.to_string()))
        .filter(on_board(board))
        .select(NoteRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("note"))?
        .try_into()
}

impl NoteService for SqliteNotes {
    fn create(&self, board: Board, new: NewNote) -> AppResult<Note> {
        let note = new.validate()?.into_note();
        self.db.write(move |c| {
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
            Ok(note)
        })
    }

    fn list(&self, board: Board, query: &ListNotes) -> AppResult<Page<Note>> {
        let Some(q) = list_query(board, query)? else {
            return Ok(Page { items: vec![], next_cursor: None });
        };
        let rows: Vec<NoteRow> = q.load(&mut self.db.read()?)?;
        let notes = rows.into_iter().map(Note::try_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(notes, query.page.limit, &query.sort, |n| query.keys_of(n)))
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
            let Some(updated) = changes.apply_to(&current) else {
                return Ok(current);
            };
            diesel::update(notes::table.filter(notes::id.eq(id.to_string())))
                .set((
                    notes::title.eq(&updated.title),
                    notes::content.eq(&updated.content),
                    notes::updated_at.eq(time::to_millis(updated.updated_at)),
                    notes::version.eq(updated.version),
                ))
                .execute(c)?;
            Ok(updated)
        })
    }

    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()> {
        self.db.write(move |c| {
            let current = find(c, board, id)?;
            expected.check(current.version)?;
            diesel::delete(notes::table.filter(notes::id.eq(id.to_string()))).execute(c)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod query_plans {
    use super::*;
    use core_models::pagination::{encode_cursor, PageRequest};
    use core_models::sort::Sort;
    use core_models::Violations;
    use storage::plan::{plan_problems, query_plan};

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
    /// With a search SQLite starts from the FTS index and sorts only the matches (the right
    /// plan for the usual, selective search; its cost grows with the number of matches),
    /// so there only the full scan is forbidden.
    #[test]
    fn every_sort_walks_an_index_in_order() {
        let db = storage::test_pool();
        let mut conn = db.read().unwrap();
        let titled = NewNote { title: Some("t".into()), content: "c".into() }.validate().unwrap().into_note();
        let untitled = NewNote { title: None, content: "c".into() }.validate().unwrap().into_note();
        let boards = [Board::Anonymous, Board::User(Uuid::now_v7())];
        for sort in ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"] {
            for search in [None, Some("milk")] {
                let first = listing(sort, search);
                let mut queries = vec![first.clone()];
                for note in [&titled, &untitled] {
                    let mut next = first.clone();
                    let mut v = Violations::new();
                    next.page = PageRequest::parse(None, Some(&encode_cursor(sort, first.keys_of(note))), &mut v);
                    v.finish().unwrap();
                    queries.push(next);
                }
                for (query, board) in queries.iter().flat_map(|q| boards.map(|b| (q, b))) {
                    let plan = query_plan(&mut conn, list_query(board, query).unwrap().unwrap()).unwrap();
                    let problems = plan_problems(&plan, "notes");
                    let allowed = |p: &&String| search.is_some() && p.contains("TEMP B-TREE");
                    assert!(problems.iter().all(allowed), "sort={sort} q={search:?} {board:?}: {plan:?}");
                    if search.is_some() {
                        assert!(plan.iter().any(|step| step.contains("notes_fts VIRTUAL TABLE")), "{plan:?}");
                    } else {
                        let walk = plan.iter().find(|step| step.contains("USING INDEX notes_by_"));
                        assert!(walk.is_some_and(|step| step.contains("(owner_id=?")), "{board:?}: {plan:?}");
                    }
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
        let db = storage::test_pool_with(&storage::DbConfig { read_budget: Duration::ZERO, ..Default::default() });
        let notes = SqliteNotes::new(db.database());
        for i in 0..200 {
            notes.create(Board::Anonymous, NewNote { title: None, content: format!("milk {i}") }).unwrap();
        }
        let list = |q: Option<&str>| {
            let params = ListNotesParams { limit: Some("10".into()), cursor: None, sort: None, q: q.map(Into::into) };
            notes.list(Board::Anonymous, &ListNotes::parse(params).unwrap())
        };
        assert_eq!(list(Some("milk")).unwrap_err().status_code(), 503);
        assert_eq!(list(None).unwrap().items.len(), 10);
    }
}
