//! What a note's write sends to PostgreSQL: a new note is one `INSERT`, outside
//! `BEGIN`/`COMMIT` (each statement is a round trip; a statement alone is a transaction of
//! its own). Statements are recorded through Diesel's instrumentation
//! (`storage::testing::statements_of`); on SQLite writes run on the writer thread, so
//! there is nothing to see from the caller's.

#![allow(clippy::unwrap_used)]

use core_models::Board;
use notes::{DbNotes, NewNote, NoteService};
use storage::testing::{record_statements, statements_of};

#[test]
fn a_new_note_is_one_insert_and_reads_back_as_answered() {
    record_statements();
    let db = storage::test_pool();
    let notes = DbNotes::new(db.database());
    let new = || NewNote { title: Some("Milk".into()), content: "oat, not cow".into() };
    let (note, sent) = statements_of(None, || notes.create(Board::Anonymous, new()).unwrap());
    assert_eq!(notes.get(Board::Anonymous, note.id).unwrap(), note, "the answer is what was stored");
    let empty = NewNote { title: None, content: String::new() };
    let (refused, sent_for_it) = statements_of(None, || notes.create(Board::Anonymous, empty));
    assert!(refused.is_err() && sent_for_it.is_empty(), "an empty note is refused before anything is sent");
    if storage::testing::postgres_server().is_none() {
        eprintln!("skipped the statements: SQLite's writes run on its writer thread");
        return;
    }
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert!(sent[0].trim_start().starts_with("INSERT INTO \"notes\""), "{sent:#?}");
}
