//! The notes contract every store implements.

use core_models::{AppResult, Page};
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};

/// Create, read, update, delete and search notes.
///
/// Implementations validate their input (trimming, lengths) themselves, so a library user
/// gets the same rules as an HTTP client. Calls block (Diesel is synchronous): async
/// callers run them on a blocking pool.
pub trait NoteService: Send + Sync + 'static {
    /// Stores a new note; `created_at` = `updated_at` = now.
    fn create(&self, new: NewNote) -> AppResult<Note>;
    /// One page of notes in the requested order, optionally filtered by search terms.
    fn list(&self, query: &ListNotes) -> AppResult<Page<Note>>;
    /// One note, or 404.
    fn get(&self, id: Uuid) -> AppResult<Note>;
    /// Applies the present fields; `updated_at` moves on every change. 404 if unknown.
    fn update(&self, id: Uuid, changes: NoteChanges) -> AppResult<Note>;
    /// Deletes a note, or 404.
    fn delete(&self, id: Uuid) -> AppResult<()>;
}
