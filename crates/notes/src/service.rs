//! The notes contract every store implements.

use core_models::version::IfMatch;
use core_models::{AppResult, Board, Page};
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};

/// Create, read, update, delete and search notes, each call on one [`Board`].
///
/// A call sees only the notes of its board: the shared anonymous board, or one user's
/// own. A note of another board is reported as unknown (404), never as forbidden, so
/// nobody learns that it exists. Writes take the `If-Match` condition and check it in the
/// same step as the change (a stale one is a 412 naming the current version, see
/// [`core_models::version`]).
///
/// Implementations validate their input (trimming, lengths) themselves, so a library user
/// gets the same rules as an HTTP client. Calls block (Diesel is synchronous): async
/// callers run them on a blocking pool.
pub trait NoteService: Send + Sync + 'static {
    /// Stores a new note on `board`; `created_at` = `updated_at` = now, `version` 1.
    fn create(&self, board: Board, new: NewNote) -> AppResult<Note>;
    /// One page of the board's notes in the requested order, optionally filtered by search terms.
    fn list(&self, board: Board, query: &ListNotes) -> AppResult<Page<Note>>;
    /// One note of the board, or 404.
    fn get(&self, board: Board, id: Uuid) -> AppResult<Note>;
    /// Applies the present fields if the note's version passes `expected`; a real change
    /// moves `updated_at` and adds one to `version`, a change to the same values is none.
    /// 404 if the board has no such note, 412 if `expected` is stale.
    fn update(&self, board: Board, id: Uuid, changes: NoteChanges, expected: IfMatch) -> AppResult<Note>;
    /// Deletes a note of the board if its version passes `expected`; 404 or 412 as `update`.
    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()>;
}
