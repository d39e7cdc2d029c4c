//! Notes in SQLite: durable, searchable with FTS5, paged by keyset over indexes.

use core_models::{id, time, AppError, AppResult, Page};
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
        })
    }
}

type NoteQuery = notes::BoxedQuery<'static, Sqlite, SqlTypeOf<AsSelect<NoteRow, Sqlite>>>;

/// The query of one page (`limit + 1` rows: the extra one proves there is more), or `None`
/// when it cannot match anything (a search without a single word).
fn list_query(query: &ListNotes) -> AppResult<Option<NoteQuery>> {
    let mut q: NoteQuery = notes::table.select(NoteRow::as_select()).into_boxed();
    if let Some(terms) = &query.search {
        let Some(expr) = storage::search::fts_match_expr(terms) else { return Ok(None) };
        q = q.filter(sql("notes.seq IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ").bind_text(expr).sql(")"));
    }
    let columns = key_columns(&query.sort, "notes.id");
    if let Some(after) = query.after()? {
        q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
    }
    Ok(Some(q.order(sql(order_clause(&columns))).limit(i64::from(query.page.limit) + 1)))
}

fn find(conn: &mut SqliteConnection, id: Uuid) -> AppResult<Note> {
    notes::table
        .filter(notes::id.eq(id.to_string()))
        .select(NoteRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found("note"))?
        .try_into()
}

impl NoteService for SqliteNotes {
    fn create(&self, new: NewNote) -> AppResult<Note> {
        let note = new.validate()?.into_note();
        self.db.write(move |c| {
            diesel::insert_into(notes::table)
                .values((
                    notes::id.eq(note.id.to_string()),
                    notes::title.eq(&note.title),
                    notes::content.eq(&note.content),
                    notes::created_at.eq(time::to_millis(note.created_at)),
                    notes::updated_at.eq(time::to_millis(note.updated_at)),
                ))
                .execute(c)?;
            Ok(note)
        })
    }

    fn list(&self, query: &ListNotes) -> AppResult<Page<Note>> {
        let Some(q) = list_query(query)? else {
            return Ok(Page { items: vec![], next_cursor: None });
        };
        let rows: Vec<NoteRow> = q.load(&mut self.db.read()?)?;
        let notes = rows.into_iter().map(Note::try_from).collect::<AppResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(notes, query.page.limit, &query.sort, |n| query.keys_of(n)))
    }

    fn get(&self, id: Uuid) -> AppResult<Note> {
        let mut conn = self.db.read()?;
        find(&mut conn, id)
    }

    fn update(&self, id: Uuid, changes: NoteChanges) -> AppResult<Note> {
        let changes = changes.validate()?;
        self.db.write(move |c| {
            let current = find(c, id)?;
            if changes.is_empty() {
                return Ok(current);
            }
            let updated = changes.apply_to(&current);
            diesel::update(notes::table.filter(notes::id.eq(id.to_string())))
                .set((
                    notes::title.eq(&updated.title),
                    notes::content.eq(&updated.content),
                    notes::updated_at.eq(time::to_millis(updated.updated_at)),
                ))
                .execute(c)?;
            Ok(updated)
        })
    }

    fn delete(&self, id: Uuid) -> AppResult<()> {
        let deleted = self
            .db
            .write(move |c| Ok(diesel::delete(notes::table.filter(notes::id.eq(id.to_string()))).execute(c)?))?;
        if deleted == 0 {
            return Err(AppError::not_found("note"));
        }
        Ok(())
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
    /// NULL title): an index is walked in order, never a full scan of notes, never a sort.
    /// With a search SQLite starts from the FTS index and sorts only the matches (the right
    /// plan for the usual, selective search; its cost grows with the number of matches),
    /// so there only the full scan is forbidden.
    #[test]
    fn every_sort_walks_an_index_in_order() {
        let db = storage::test_pool();
        let mut conn = db.read().unwrap();
        let titled = NewNote { title: Some("t".into()), content: "c".into() }.validate().unwrap().into_note();
        let untitled = NewNote { title: None, content: "c".into() }.validate().unwrap().into_note();
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
                for query in &queries {
                    let plan = query_plan(&mut conn, list_query(query).unwrap().unwrap()).unwrap();
                    let problems = plan_problems(&plan, "notes");
                    let allowed = |p: &&String| search.is_some() && p.contains("TEMP B-TREE");
                    assert!(problems.iter().all(allowed), "sort={sort} q={search:?}: {plan:?}");
                    if search.is_some() {
                        assert!(plan.iter().any(|step| step.contains("notes_fts VIRTUAL TABLE")), "{plan:?}");
                    }
                }
            }
        }
    }
}
