//! Notes kept in process memory: fast, and gone when the process ends.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use core_models::pagination::compare_keys;
use core_models::version::IfMatch;
use core_models::{AppError, AppResult, Board, Page};
use uuid::Uuid;

use crate::model::{ListNotes, NewNote, Note, NoteChanges};
use crate::NoteService;

/// A [`NoteService`] over a map in memory. Lists sort and filter on every call, which
/// suits the small collections this store is meant for (demos, tests, prototypes).
#[derive(Debug, Default)]
pub struct InMemoryNotes {
    /// Every board's notes, each with its board. One lock for reads and writes, so a
    /// version check and the change it guards happen in one step.
    notes: RwLock<HashMap<Uuid, (Board, Note)>>,
}

impl InMemoryNotes {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Whether every term matches some word of the note as FTS5 matches it (a prefix, or the
/// whole word for a term too short to be a prefix: see [`storage::search`]).
fn matches(note: &Note, terms: &[String]) -> bool {
    let mut words = storage::search::search_terms(&note.content);
    if let Some(title) = &note.title {
        words.extend(storage::search::search_terms(title));
    }
    terms.iter().all(|t| words.iter().any(|w| storage::search::term_matches(t, w)))
}

/// The note `id` if it is on `board`; a note of another board is as unknown as no note.
fn on_board(notes: &mut HashMap<Uuid, (Board, Note)>, board: Board, id: Uuid) -> AppResult<&mut Note> {
    match notes.get_mut(&id) {
        Some((owner, note)) if *owner == board => Ok(note),
        _ => Err(AppError::not_found("note")),
    }
}

impl NoteService for InMemoryNotes {
    fn create(&self, board: Board, new: NewNote) -> AppResult<Note> {
        let note = new.validate()?.into_note();
        // A poisoned lock only means another call panicked mid-way; the map is still whole.
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        notes.insert(note.id, (board, note.clone()));
        Ok(note)
    }

    fn list(&self, board: Board, query: &ListNotes) -> AppResult<Page<Note>> {
        let after = query.after()?;
        let directions = query.sort.directions();
        let notes = self.notes.read().unwrap_or_else(PoisonError::into_inner);
        let listed = || {
            notes
                .values()
                .filter(|(owner, _)| *owner == board)
                .map(|(_, n)| n)
                .filter(|n| query.search.as_ref().is_none_or(|terms| !terms.is_empty() && matches(n, terms)))
        };
        let mut rows: Vec<(Vec<_>, &Note)> = listed()
            .map(|n| (query.keys_of(n), n))
            .filter(|(keys, _)| after.is_none_or(|a| compare_keys(keys, a, &directions).is_gt()))
            .collect();
        rows.sort_by(|a, b| compare_keys(&a.0, &b.0, &directions));
        rows.truncate(query.page.limit as usize + 1);
        let rows = rows.into_iter().map(|(_, n)| n.clone()).collect();
        let total = query.page.total(|most| {
            Ok::<_, AppError>(i64::try_from(listed().take(usize::try_from(most).unwrap_or(0)).count()).unwrap_or(most))
        })?;
        Ok(Page::from_overfetch(rows, &query.page, &query.sort, |n| query.keys_of(n)).with_total(total))
    }

    fn get(&self, board: Board, id: Uuid) -> AppResult<Note> {
        let notes = self.notes.read().unwrap_or_else(PoisonError::into_inner);
        match notes.get(&id) {
            Some((owner, note)) if *owner == board => Ok(note.clone()),
            _ => Err(AppError::not_found("note")),
        }
    }

    fn update(&self, board: Board, id: Uuid, changes: NoteChanges, expected: IfMatch) -> AppResult<Note> {
        let changes = changes.validate()?;
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        let note = on_board(&mut notes, board, id)?;
        expected.check(note.version)?;
        if let Some(updated) = changes.apply_to(note) {
            *note = updated;
        }
        Ok(note.clone())
    }

    fn delete(&self, board: Board, id: Uuid, expected: IfMatch) -> AppResult<()> {
        let mut notes = self.notes.write().unwrap_or_else(PoisonError::into_inner);
        let note = on_board(&mut notes, board, id)?;
        expected.check(note.version)?;
        notes.remove(&id);
        Ok(())
    }
}
