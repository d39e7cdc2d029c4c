//! Notes in SQLite: durable, searchable with FTS5, paged by keyset over indexes.

use core_models::{time, AppError, AppResult, Page};
use diesel::prelude::*;
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
        let id = Uuid::parse_str(&row.id).map_err(|e| AppError::Internal(anyhow_like(e, &row.id)))?;
        Ok(Note {
            id,
            title: row.title,
            content: row.content,
            created_at: time::from_millis(row.created_at),
            updated_at: time::from_millis(row.updated_at),
        })
    }
}

fn anyhow_like(e: uuid::Error, raw: &str) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("corrupt note id {raw:?} in database"))
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
        let mut q = notes::table.select(NoteRow::as_select()).into_boxed();
        if let Some(terms) = &query.search {
            let Some(expr) = storage::search::fts_match_expr(terms) else {
                return Ok(Page { items: vec![], next_cursor: None });
            };
            q = q.filter(
                sql("notes.seq IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ").bind_text(expr).sql(")"),
            );
        }
        let columns = key_columns(&query.sort, "notes.id");
        if let Some(after) = query.after()? {
            q = q.filter(KeysetAfter::new(columns.clone(), after.to_vec()));
        }
        let rows: Vec<NoteRow> =
            q.order(sql(order_clause(&columns))).limit(i64::from(query.page.limit) + 1).load(&mut self.db.read()?)?;
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
